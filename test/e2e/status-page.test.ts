// The status page in a real browser: headless Chromium (Debian's package)
// loads it from the real collector and we read the rendered DOM.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelMonitor, startMonitoring } from "@mlwatch/sdk";
import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { type CollectorHandle, eventually, startCollector, toolAvailable } from "../support/processes.js";
import { normals } from "../support/random.js";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), "mlwatch-chromium-"));
  try {
    return execFileSync("chromium", [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

let c: CollectorHandle;
afterAll(() => c?.close());

describe.runIf(toolAvailable("chromium"))("status page in Chromium", () => {
  it("shows a healthy model green and a drifting, failing one red, with the reasons", {
    timeout: 180_000,
  }, async () => {
    c = await startCollector(["analysis: { intervalSeconds: 0.2 }"]);
    const ref = new ExpHistogram();
    for (const v of normals(1, 10_000, 0, 1)) ref.record(v);
    for (const model of ["calm", "troubled"]) {
      await fetch(`${c.query}/api/v1/baselines/${model}`, {
        method: "PUT",
        body: JSON.stringify(makeBaseline({ model, features: { x: ref } })),
      });
    }
    const monitoring = startMonitoring({
      endpoint: c.otlp,
      exportIntervalMillis: 60_000,
      registerGlobal: false,
    });
    const meter = monitoring.meterProvider.getMeter("page");
    const calm = new ModelMonitor({ modelName: "calm", meter });
    const troubled = new ModelMonitor({ modelName: "troubled", meter });
    const xs = normals(2, 2000, 0, 1);
    for (const [i, x] of xs.entries()) {
      calm.recordRequest(0.02);
      calm.recordFeature("x", x);
      troubled.recordRequest(0.02, { error: i % 10 === 0 ? new RangeError("bad") : undefined });
      troubled.recordFeature("x", x + 1.5);
    }
    await monitoring.shutdown();
    // An analysis pass that has scored all 2000 values of x for both models (a page showing "bad" for the
    // error rate alone, before the drift is scored, is not yet the state asserted below).
    await eventually(async () => {
      for (const model of ["calm", "troubled"]) {
        const r = await fetch(`${c.query}/api/v1/models/${model}`);
        if (!r.ok) return false;
        const s = (await r.json()) as {
          requestsTotal: number;
          drift: Array<{ feature: string; samples: number; severity: string | null }>;
        };
        const x = s.drift.find((d) => d.feature === "x");
        if (s.requestsTotal !== xs.length || x?.samples !== xs.length || x.severity === null) return false;
      }
      return true;
    }, 60_000);
    const html = await (await fetch(`${c.query}/`)).text();
    expect(html).toContain('data-health="bad"');
    expect(html).toContain('data-health="ok"');

    const dom = chromium(["--dump-dom", `${c.query}/`]);
    const health = (model: string) => new RegExp(`data-model="${model}" data-health="(\\w+)"`).exec(dom)?.[1];
    expect(health("calm")).toBe("ok");
    expect(health("troubled")).toBe("bad");
    expect(dom).toMatch(/error rate 10\.0% &gt; 5%|error rate 10\.0% > 5%/);
    expect(dom).toMatch(/critical data drift on x/);

    const shot = join(c.dir, "status.png");
    chromium(["--window-size=1200,900", `--screenshot=${shot}`, `${c.query}/`]);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
  });
});
