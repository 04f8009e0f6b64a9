// Model shards end to end: two real mlwatch collectors, six models with two
// replicas each, split between the shards by the key the generated
// OpenTelemetry Collector config routes on (ml.model.name on the exporter's
// consistent-hash ring over deploy/otelcol/otelcol.yaml's hostnames), and a
// real Prometheus scraping both with the generated rules (time compressed
// 100×) and the generated sharded scrape config. Last, a third shard joins
// and the ring moves a model onto it, with its baseline.
//
// What is not real: the OpenTelemetry Collector. otelcol-contrib cannot be
// installed here, so each SDK replica exports straight to the shard that
// ShardRing (packages/deploy, a re-implementation of the exporter's ring)
// names for its model — the split the front Collector would make.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, type Monitoring, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import {
  ALERTS,
  buildDashboards,
  buildFrontCollectorConfig,
  buildShardedPrometheusConfig,
  dashboardQueries,
  EXAMPLE_RESOLVERS,
  generate,
  LOAD_BALANCING_EXPORTER,
  M,
  parseSloSpecYaml,
  R,
  SHARD_LABEL,
  ShardRing,
  yamlText,
} from "../../packages/deploy/src/index.js";
import {
  type CollectorHandle,
  eventually,
  parseExposition,
  ROOT,
  startCollector,
  sumOf,
  toolAvailable,
} from "../support/processes.js";
import { type PrometheusHandle, promQuery, startPrometheus } from "../support/prometheus.js";
import { seeded } from "../support/random.js";

const MODELS = ["churn", "fraud", "spam", "sentiment", "ranker", "eta"];
const DRIFTING = "ranker";
const REPLICAS = 2;
const SCALE = 0.01;

// The shards as the checked-in front Collector config names them (the generator's output; `generate:deploy
// --check` and the assertion in beforeAll keep the file on disk equal to it).
const frontConfig = buildFrontCollectorConfig(EXAMPLE_RESOLVERS.static) as {
  exporters: Record<string, { routing_attributes: string[] }>;
};
const HOSTNAMES = EXAMPLE_RESOLVERS.static.kind === "static" ? EXAMPLE_RESOLVERS.static.hostnames : [];
const ring = new ShardRing(HOSTNAMES);
/** The `shard` label of a backend "host:port": its host, as deploy/prometheus-sharded.yml labels it. */
const shardName = (backend: string) => backend.replace(/:\d+$/, "");
const owner = (model: string) => shardName(ring.ownerOf(model));
/** Requests each replica of each model records: all different, so a count in the wrong place shows. */
const requestsOf = (model: string, replica: number) => 20 + 7 * MODELS.indexOf(model) + 3 * replica;

const run = toolAvailable("prometheus");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!run)("model shards: two collectors behind the model key, one Prometheus", () => {
  const dir = mkdtempSync(join(tmpdir(), "mlwatch-shards-"));
  const shards = new Map<string, CollectorHandle>();
  const replicas: Monitoring[] = [];
  let prom: PrometheusHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  let seenWrongDrift = new Set<string>();
  const promDir = join(dir, "prom");
  const rand = seeded(19);
  const normal = (mean: number) =>
    mean + Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const monitors: Array<{ model: string; replica: number; monitor: ModelMonitor }> = [];
  /** One exporter per replica towards `shard`, as a replica behind the front Collector would have. */
  const replicaTowards = (shard: string, replica: number) => {
    const monitoring = startMonitoring({
      endpoint: shards.get(shard)!.otlp,
      exportIntervalMillis: 500,
      registerGlobal: false,
      hostMetrics: false,
      runtimeMetrics: false,
      resourceAttributes: { "service.instance.id": `replica-${replica}` },
    });
    replicas.push(monitoring);
    return {
      meter: monitoring.meterProvider.getMeter("sharding-e2e"),
      logger: monitoring.loggerProvider.getLogger("sharding-e2e"),
    };
  };
  const prometheusConfig = (names: string[]) =>
    yamlText(
      buildShardedPrometheusConfig({
        shards: names.map((s) => ({ shard: s, target: new URL(shards.get(s)!.query).host })),
        targets: {},
        scrapeInterval: "1s",
        scrapeTimeout: "1s",
        evaluationInterval: "1s",
        ruleFiles: [join(promDir, "rules", "*.rules.yml")],
      }),
    );
  const startShard = async (s: string) => {
    const d = join(dir, s);
    mkdirSync(d);
    shards.set(
      s,
      await startCollector(
        [
          "windows: { slotSeconds: 1, analysisSeconds: 10 }",
          "analysis: { intervalSeconds: 0.5 }",
          `storage: { path: ${JSON.stringify(join(d, "collector.db"))}, checkpointSeconds: 0.5 }`,
        ],
        d,
      ),
    );
  };

  afterAll(async () => {
    clearInterval(timer);
    for (const m of replicas) await m.shutdown().catch(() => {});
    await prom?.stop();
    for (const c of shards.values()) await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    const spec = parseSloSpecYaml(readFileSync(join(ROOT, "deploy/slo.yaml"), "utf8"), "deploy/slo.yaml");
    const generated = generate({ spec, specSource: "deploy/slo.yaml" }).files;
    expect(readFileSync(join(ROOT, "deploy/otelcol/otelcol.yaml"), "utf8")).toBe(
      generated.get("otelcol/otelcol.yaml"),
    );
    expect(HOSTNAMES.length).toBe(2);
    expect(frontConfig.exporters[LOAD_BALANCING_EXPORTER].routing_attributes).toEqual(["ml.model.name"]);
    // The test means something only if both shards own models.
    const names = HOSTNAMES.map(shardName);
    for (const s of names) expect(MODELS.filter((m) => owner(m) === s).length, s).toBeGreaterThanOrEqual(2);

    // 1. One collector per shard, short windows.
    for (const s of names) await startShard(s);

    // 2. Each model's baseline goes to its owner only (as `baseline push` to the owner would).
    for (const model of MODELS) {
      const h = new ExpHistogram();
      for (let i = 0; i < 20_000; i++) h.record(normal(10));
      const put = await fetch(`${shards.get(owner(model))!.query}/api/v1/baselines/${model}`, {
        method: "PUT",
        body: JSON.stringify(makeBaseline({ model, features: { x: h } })),
      });
      expect(put.status, await put.text()).toBe(200);
    }

    // 3. Two replicas (two versions) of every model. Each replica holds one exporter per shard and
    //    records each model through the one its model's owner is behind — the front Collector's split.
    for (let replica = 0; replica < REPLICAS; replica++)
      for (const s of names) {
        const { meter, logger } = replicaTowards(s, replica);
        for (const model of MODELS.filter((m) => owner(m) === s))
          monitors.push({
            model,
            replica,
            monitor: new ModelMonitor({
              modelName: model,
              modelVersion: `1.${replica}`,
              meter,
              groundTruth: { sampleRate: 1, logger },
            }),
          });
      }
    // Exact request counts, and one sampled prediction per replica (a log record) to label later.
    for (const { model, replica, monitor } of monitors) {
      for (let i = 0; i < requestsOf(model, replica); i++) monitor.recordRequest(0.01);
      monitor.recordPrediction({
        requestId: `${model}-${replica}`,
        predictedClass: "yes",
        confidence: 0.9,
        features: { x: normal(10) },
      });
    }
    // Feature values from then on (no request id: not sampled); the drifting model's shift by 1.5 σ.
    timer = setInterval(() => {
      for (const { model, monitor } of monitors)
        for (let i = 0; i < 8; i++) monitor.recordFeature("x", normal(model === DRIFTING ? 11.5 : 10));
    }, 100);

    // 4. Prometheus on the generated rules and the generated sharded scrape config's shape.
    mkdirSync(join(promDir, "rules"), { recursive: true });
    for (const [name, text] of generate({ spec, timeScale: SCALE }).files)
      if (name.startsWith("rules/") && !name.includes("/tests/")) writeFileSync(join(promDir, name), text);
    prom = await startPrometheus(promDir, () => prometheusConfig(names), ["--web.enable-lifecycle"]);
  }, 120_000);

  it("counts each model exactly, on its owner shard only", async () => {
    const expected = (m: string) => requestsOf(m, 0) + requestsOf(m, 1);
    // The collectors themselves: the owner has the model's whole count, the other shard nothing of it.
    for (const [s, c] of shards)
      await eventually(async () => {
        const samples = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
        return MODELS.every(
          (m) => sumOf(samples, M.requests, { model_name: m }) === (owner(m) === s ? expected(m) : 0),
        );
      }, 60_000);
    // Prometheus: one shard label per model, the owner's, and the exact sum.
    const rows = await eventually(async () => {
      const r = await promQuery(prom!, `sum by (model_name, ${SHARD_LABEL}) (${M.requests})`);
      return r.length === MODELS.length &&
        r.every((x) => Number(x.value[1]) === expected(x.metric.model_name))
        ? r
        : undefined;
    }, 60_000);
    for (const r of rows) expect(r.metric[SHARD_LABEL], r.metric.model_name).toBe(owner(r.metric.model_name));
    const perModel = await promQuery(prom!, `sum by (model_name) (${M.requests})`);
    expect(Object.fromEntries(perModel.map((x) => [x.metric.model_name, Number(x.value[1])]))).toEqual(
      Object.fromEntries(MODELS.map((m) => [m, expected(m)])),
    );
  }, 90_000);

  it("keeps sampled predictions on the owner, so feedback sent to every shard joins exactly once", async () => {
    for (const [s, c] of shards)
      for (const model of MODELS) {
        const want = owner(model) === s ? REPLICAS : 0;
        await eventually(async () => {
          const q = (await (await fetch(`${c.query}/api/v1/reviews?model=${model}`)).json()) as {
            total: number;
          };
          return q.total === want;
        }, 30_000);
      }
    // The feedback a proxy fans out: the same labels to every shard; only the owner knows each request.
    const labels = MODELS.flatMap((m) => [0, 1].map((r) => ({ request_id: `${m}-${r}`, label: "yes" })));
    for (const [s, c] of shards) {
      const res = await fetch(`${c.query}/api/v1/feedback`, { method: "POST", body: JSON.stringify(labels) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { joined: number };
      expect(body.joined, s).toBe(labels.filter((l) => owner(l.request_id.replace(/-\d$/, "")) === s).length);
    }
  }, 60_000);

  it("fires DataDriftDetected for the drifting model only, from its own shard's series", async () => {
    const firing = async () =>
      (await promQuery(prom!, `ALERTS{alertname="${ALERTS.dataDrift}", alertstate="firing"}`)).map(
        (a) => a.metric.model_name,
      );
    const fired = await eventually(async () => {
      const f = await firing();
      for (const m of f) if (m !== DRIFTING) seenWrongDrift.add(m);
      return f.includes(DRIFTING) ? f : undefined;
    }, 120_000);
    expect(fired.filter((m) => m !== DRIFTING)).toEqual([]);
    // The score behind it comes from the owner's shard only; every model is scored, each on one shard.
    const scores = await promQuery(prom!, `max by (model_name, ${SHARD_LABEL}) (${M.driftScore})`);
    expect(scores.map((x) => x.metric.model_name).sort()).toEqual([...MODELS].sort());
    for (const x of scores)
      expect(x.metric[SHARD_LABEL], x.metric.model_name).toBe(owner(x.metric.model_name));
    // A few more evaluations: still nothing for the others.
    await sleep(5000);
    for (const m of await firing()) if (m !== DRIFTING) seenWrongDrift.add(m);
    expect([...seenWrongDrift]).toEqual([]);
    seenWrongDrift = new Set();
  }, 150_000);

  it("answers the dashboards' queries with one series per model", async () => {
    const spec = parseSloSpecYaml(readFileSync(join(ROOT, "deploy/slo.yaml"), "utf8"));
    const queries = Object.values(buildDashboards(spec)).flatMap(dashboardQueries);
    const pick = (panel: string) => {
      const q = queries.find((x) => x.panel === panel);
      expect(q, panel).toBeDefined();
      return q!.expr;
    };
    const perModel = [pick("Request rate: now and 1-day average"), pick("Drift score by feature")];
    for (const model of MODELS)
      for (const expr of perModel) {
        const q = expr.replaceAll("$model", model).replaceAll("$__rate_interval", "10s");
        const r = await eventually(async () => {
          const x = await promQuery(prom!, q);
          return x.length > 0 ? x : undefined;
        }, 30_000);
        expect(r.length, `${q}: ${JSON.stringify(r)}`).toBe(1);
      }
    // The recording rule the health dashboard and the alerts build on: one series per model, not per shard.
    const recorded = await eventually(async () => {
      const r = await promQuery(prom!, R.requestsRate5m);
      return r.length >= MODELS.length ? r : undefined;
    }, 30_000);
    expect(recorded.map((x) => x.metric.model_name).sort()).toEqual([...MODELS].sort());
  }, 120_000);

  it("growing to a third shard moves only the models the ring gives it, with their baselines, counting nothing twice", async () => {
    const third = "mlwatch-shard-2:4317";
    const grown = new ShardRing([...HOSTNAMES, third]);
    const moved = MODELS.filter((m) => grown.ownerOf(m) !== ring.ownerOf(m));
    expect(moved.length, "the ring gives the new shard at least one of the models").toBeGreaterThan(0);
    for (const m of moved) expect(grown.ownerOf(m)).toBe(third);
    const newShard = shardName(third);
    await startShard(newShard);
    // Before the switch: copy each moved model's baseline from its old owner to the new one.
    for (const m of moved) {
      const got = await fetch(`${shards.get(owner(m))!.query}/api/v1/baselines/${m}`);
      expect(got.status).toBe(200);
      const put = await fetch(`${shards.get(newShard)!.query}/api/v1/baselines/${m}`, {
        method: "PUT",
        body: await got.text(),
      });
      expect(put.status, await put.text()).toBe(200);
    }
    // Prometheus scrapes the new shard too (a config reload).
    writeFileSync(join(promDir, "prometheus.yml"), prometheusConfig([...shards.keys()]));
    const reload = await fetch(`${prom!.url}/-/reload`, { method: "POST" });
    expect(reload.status, await reload.text()).toBe(200);
    // The switch: the moved models' traffic now goes to the new shard. (Here each replica opens a new
    // exporter towards it, i.e. new cumulative streams; a front Collector would reroute the old streams,
    // whose first point the fresh shard takes as a reference only — see docs/scaling.md.)
    const after = (m: string, replica: number) => 5 + MODELS.indexOf(m) + 2 * replica;
    for (const m of moved) {
      for (let i = monitors.length - 1; i >= 0; i--) if (monitors[i].model === m) monitors.splice(i, 1);
      for (let replica = 0; replica < REPLICAS; replica++) {
        const { meter, logger } = replicaTowards(newShard, replica);
        const monitor = new ModelMonitor({
          modelName: m,
          modelVersion: `1.${replica}`,
          meter,
          groundTruth: { sampleRate: 1, logger },
        });
        for (let i = 0; i < after(m, replica); i++) monitor.recordRequest(0.01);
        monitors.push({ model: m, replica, monitor });
      }
    }
    const before = (m: string) => requestsOf(m, 0) + requestsOf(m, 1);
    const moves = (m: string) => (moved.includes(m) ? after(m, 0) + after(m, 1) : 0);
    // Each shard: what reached it. The old owner keeps the moved models' counts frozen; the new shard
    // counts only what came after the switch; the models that stayed are untouched.
    await eventually(async () => {
      for (const [s, c] of shards) {
        const samples = parseExposition(await (await fetch(`${c.query}/metrics`)).text());
        for (const m of MODELS) {
          const want = s === newShard ? moves(m) : owner(m) === s ? before(m) : 0;
          if (sumOf(samples, M.requests, { model_name: m }) !== want) return false;
        }
      }
      return true;
    }, 60_000);
    // Prometheus: the total over shards is every request once.
    await eventually(async () => {
      const r = await promQuery(prom!, `sum by (model_name) (${M.requests})`);
      const got = Object.fromEntries(r.map((x) => [x.metric.model_name, Number(x.value[1])]));
      if (MODELS.every((m) => got[m] === before(m) + moves(m))) return true;
      throw new Error(`sums by model: ${JSON.stringify(got)}`);
    }, 60_000);
    const perShard = await promQuery(prom!, `sum by (model_name, ${SHARD_LABEL}) (${M.requests})`);
    for (const m of MODELS)
      expect(
        perShard
          .filter((x) => x.metric.model_name === m)
          .map((x) => x.metric[SHARD_LABEL])
          .sort(),
        m,
      ).toEqual(moved.includes(m) ? [owner(m), newShard].sort() : [owner(m)]);
    // The baseline came along: the new shard scores the moved models' drift.
    for (const m of moved)
      await eventually(
        async () =>
          (await promQuery(prom!, `${M.driftScore}{model_name="${m}", ${SHARD_LABEL}="${newShard}"}`))
            .length > 0,
        60_000,
      );
  }, 150_000);
});
