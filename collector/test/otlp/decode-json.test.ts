// OTLP/JSON: accepted spellings, and hostile input.

import { describe, expect, test } from "vitest";
import {
  DecodeError,
  DefaultDecodeLimits,
  decodeLogsJson,
  decodeMetricsJson,
  decodeMetricsProto,
  type ExpHistogramPoint,
  type HistogramPoint,
  type Metric,
  type MetricsRequest,
} from "../../src/otlp/index.js";
import {
  anyArray,
  anyBytes,
  anyDouble,
  anyInt,
  anyKvlist,
  anyStr,
  buckets,
  expHistogram,
  expPoint,
  kv,
  metric,
  metricsRequest,
} from "./pb.js";

function metrics(req: MetricsRequest): Metric[] {
  return req.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
}

function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error("expected a DecodeError, but decoding succeeded");
}

/** One metric in a request, as JSON text. */
function req(m: Record<string, unknown>, resourceAttrs: unknown[] = []): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: resourceAttrs },
        scopeMetrics: [{ scope: { name: "s", version: "1" }, metrics: [m] }],
      },
    ],
  });
}

const expPointJson = (o: Record<string, unknown> = {}) => ({
  attributes: [{ key: "feature", value: { stringValue: "age" } }],
  startTimeUnixNano: "1700000000000000000",
  timeUnixNano: "1700000060000000000",
  count: "10",
  sum: -3.5,
  min: -8,
  max: 4,
  scale: -3,
  zeroCount: 2,
  zeroThreshold: 1e-9,
  positive: { offset: -2, bucketCounts: ["1", 0, 3] },
  negative: { offset: 5, bucketCounts: [2, "2"] },
  ...o,
});

describe("valid input", () => {
  test("camelCase, ints as strings or numbers, enums as ints or names: same as the protobuf decoder", () => {
    const json = req({
      name: "ml.feature.value",
      description: "desc",
      unit: "1",
      exponentialHistogram: {
        aggregationTemporality: "AGGREGATION_TEMPORALITY_DELTA",
        dataPoints: [expPointJson()],
      },
    });
    const proto = metricsRequest({
      metrics: [
        metric(
          "ml.feature.value",
          ...[
            new Uint8Array(0),
            expHistogram(
              1,
              expPoint({
                attrs: [kv("feature", anyStr("age"))],
                count: 10,
                sum: -3.5,
                min: -8,
                max: 4,
                scale: -3,
                zeroCount: 2,
                zeroThreshold: 1e-9,
                positive: buckets(-2, [1, 0, 3]),
                negative: buckets(5, [2, 2]),
              }),
            ),
          ],
        ),
      ],
    });
    const fromJson = decodeMetricsJson(json);
    const fromProto = decodeMetricsProto(proto);
    // (the hand-built proto has no description/unit; set them to compare the rest)
    const pm = metrics(fromProto)[0]!;
    pm.description = "desc";
    pm.unit = "1";
    fromProto.resourceMetrics[0]!.scopeMetrics[0]!.scope = { name: "s", version: "1" };
    expect(fromJson).toEqual(fromProto);
  });

  test("proto (snake_case) field names are accepted too", () => {
    const json = JSON.stringify({
      resource_metrics: [
        {
          scope_metrics: [
            {
              metrics: [
                {
                  name: "e",
                  exponential_histogram: {
                    aggregation_temporality: 2,
                    data_points: [
                      {
                        start_time_unix_nano: 5,
                        time_unix_nano: "6",
                        count: 3,
                        zero_count: 1,
                        zero_threshold: "0.5",
                        positive: { offset: 1, bucket_counts: [2] },
                      },
                    ],
                  },
                },
                {
                  name: "s",
                  sum: {
                    aggregation_temporality: "AGGREGATION_TEMPORALITY_CUMULATIVE",
                    is_monotonic: true,
                    data_points: [
                      { as_int: "-7", attributes: [{ key: "k", value: { int_value: "9007199254740993" } }] },
                    ],
                  },
                },
                {
                  name: "h",
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: [{ count: 3, bucket_counts: ["1", 2], explicit_bounds: [0.5], sum: "NaN" }],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const [e, s, h] = metrics(decodeMetricsJson(json));
    expect(e).toMatchObject({ kind: "exponential_histogram", temporality: 2 });
    expect(e!.points[0]).toMatchObject({
      startTimeUnixNano: 5n,
      timeUnixNano: 6n,
      count: 3,
      zeroCount: 1,
      zeroThreshold: 0.5,
      positive: { offset: 1, bucketCounts: [2] },
      negative: { offset: 0, bucketCounts: [] },
    });
    expect(s).toMatchObject({ kind: "sum", temporality: 2, monotonic: true });
    expect(s!.points[0]).toMatchObject({ value: -7, attributes: { k: "9007199254740993" } });
    const hp = h!.points[0] as HistogramPoint;
    expect(hp.bucketCounts).toEqual([1, 2]);
    expect(hp.explicitBounds).toEqual([0.5]);
    expect(hp.sum).toBeNaN();
    expect(hp.min).toBeUndefined();
  });

  test("AnyValue conversions match the protobuf decoder's", () => {
    const attrsJson = [
      { key: "s", value: { stringValue: "x" } },
      { key: "i", value: { intValue: -42 } },
      { key: "big", value: { intValue: "1152921504606846976" } },
      { key: "d", value: { doubleValue: "Infinity" } },
      { key: "bytes", value: { bytesValue: "3q0AAQ==" } },
      { key: "url-safe", value: { bytesValue: "_-8" } },
      {
        key: "arr",
        value: {
          arrayValue: {
            values: [
              { stringValue: "a" },
              { intValue: "1" },
              { doubleValue: 1.5 },
              {},
              { bytesValue: "/w==" },
            ],
          },
        },
      },
      {
        key: "map",
        value: { kvlistValue: { values: [{ key: "k", value: { stringValue: "v" } }, { key: "k" }] } },
      },
      { key: "empty", value: {} },
      { key: "none" },
      { key: "null", value: null },
    ];
    const fromJson = decodeMetricsJson(req({ name: "g", gauge: { dataPoints: [] } }, attrsJson));
    const proto = metricsRequest({
      scope: ["s", "1"],
      resource: [
        kv("s", anyStr("x")),
        kv("i", anyInt(-42)),
        kv("big", anyInt(2n ** 60n)),
        kv("d", anyDouble(Infinity)),
        kv("bytes", anyBytes([0xde, 0xad, 0, 1])),
        kv("url-safe", anyBytes([0xff, 0xef])),
        kv("arr", anyArray(anyStr("a"), anyInt(1), anyDouble(1.5), new Uint8Array(0), anyBytes([255]))),
        kv("map", anyKvlist(kv("k", anyStr("v")), kv("k"))),
        kv("empty", new Uint8Array(0)),
        kv("none"),
        kv("null"),
      ],
      metrics: [metric("g", new Uint8Array([0x2a, 0]))], // gauge {} (field 5, empty)
    });
    expect(fromJson).toEqual(decodeMetricsProto(proto));
    expect(fromJson.resourceMetrics[0]!.resource).toEqual({
      s: "x",
      i: -42,
      big: "1152921504606846976",
      d: Infinity,
      bytes: "dead0001",
      "url-safe": "ffef",
      arr: '["a",1,1.5,null,"ff"]',
      map: '{"k":null}',
    });
  });

  test("null members are absent; summary skipped; NO_RECORDED_VALUE dropped", () => {
    const json = JSON.stringify({
      resourceMetrics: [
        {
          resource: null,
          scopeMetrics: [
            {
              scope: null,
              metrics: [
                { name: "summary", summary: { dataPoints: [{ count: 1 }] } },
                { name: "nodata", gauge: null },
                {
                  name: "g",
                  gauge: { dataPoints: [{ asDouble: 1 }, { asDouble: 2, flags: 1 }, { asInt: null }] },
                },
              ],
            },
          ],
        },
      ],
    });
    const r = decodeMetricsJson(json);
    expect(r.resourceMetrics[0]!.scopeMetrics[0]!.scope).toEqual({ name: "", version: "" });
    const ms = metrics(r);
    expect(ms.map((m) => m.name)).toEqual(["g"]);
    expect(ms[0]!.points.map((p) => (p as { value: number }).value)).toEqual([1, 0]);
  });

  test("logs: severity names, bodies, snake_case, trace ids ignored", () => {
    const json = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: "1700000000000000001",
                  observed_time_unix_nano: 2,
                  severityNumber: "SEVERITY_NUMBER_WARN3",
                  severityText: "WARN",
                  body: { kvlistValue: { values: [{ key: "__proto__", value: { stringValue: "p" } }] } },
                  attributes: [{ key: "a", value: { boolValue: false } }],
                  eventName: "e",
                  traceId: "5b8efff798038103d269b633813fc60c",
                  spanId: "eee19b7ec3c1b174",
                  flags: 1,
                },
                { severity_number: 17, body: { arrayValue: { values: [{ stringValue: "a" }, {}] } } },
                { body: { bytesValue: "AQI=" } },
                { body: {} },
              ],
            },
          ],
        },
      ],
    });
    const [a, b, c, d] = decodeLogsJson(json).resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(a).toMatchObject({
      timeUnixNano: 1700000000000000001n,
      observedTimeUnixNano: 2n,
      severityNumber: 15,
      severityText: "WARN",
      attributes: { a: false },
      eventName: "e",
    });
    expect(Object.getPrototypeOf(a!.body)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(a!.body, "__proto__")?.value).toBe("p");
    expect(b!.severityNumber).toBe(17);
    expect(b!.body).toBe('["a",null]');
    expect(c!.body).toBe("0102");
    expect(d!.body).toBeNull();
  });
});

test("lone surrogates in JSON strings become U+FFFD (as invalid UTF-8 does in protobuf)", () => {
  const text = String.raw`{"resourceMetrics":[{"resource":{"attributes":[{"key":"k\ud800","value":{"stringValue":"a\udc00b\ud83d\ude00"}}]}}]}`;
  const res = decodeMetricsJson(text).resourceMetrics[0]!.resource;
  expect(res).toEqual({ "k\uFFFD": "a\uFFFDb😀" });
});

describe("hostile input → DecodeError", () => {
  test("not JSON, or JSON that is not an object", () => {
    for (const text of ["", "{", "not json", "[]", "null", "42", '"str"', "true", "[{}]"]) {
      decodeError(() => decodeMetricsJson(text));
      decodeError(() => decodeLogsJson(text));
    }
    expect(decodeError(() => decodeMetricsJson("[]")).message).toBe(
      "request: expected an object, got an array",
    );
    expect(decodeError(() => decodeMetricsJson("{")).message).toMatch(/^invalid JSON: /);
    decodeError(() => decodeMetricsJson(undefined as unknown as string));
    expect(decodeMetricsJson("{}")).toEqual({ resourceMetrics: [] });
  });

  test("wrong JSON types, with the path in the message", () => {
    const cases: [unknown, RegExp][] = [
      [{ resourceMetrics: {} }, /^resourceMetrics: expected an array, got an object$/],
      [{ resourceMetrics: [1] }, /^resourceMetrics\[0\]: ResourceMetrics: expected an object, got number 1$/],
      [
        { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 5 }] }] }] },
        /metrics\[0\]: name: expected a string, got number 5/,
      ],
      [
        {
          resourceMetrics: [
            { scopeMetrics: [{ metrics: [{ name: "x", sum: { dataPoints: [{ asDouble: true }] } }] }] },
          ],
        },
        /^resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.sum\.dataPoints\[0\]: asDouble: expected a number, got boolean true$/,
      ],
      [
        { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "x", sum: { isMonotonic: "yes" } }] }] }] },
        /isMonotonic: expected a boolean/,
      ],
      [
        { resourceMetrics: [{ resource: { attributes: [{ key: "k", value: { intValue: 1.5 } }] } }] },
        /attributes\[0\]\.value: intValue: expected an integer/,
      ],
      [
        { resourceMetrics: [{ resource: { attributes: [{ key: "k", value: { boolValue: "true" } }] } }] },
        /boolValue: expected a boolean/,
      ],
      [
        { resourceMetrics: [{ resource: { attributes: [{ key: "k", value: { bytesValue: "!!" } }] } }] },
        /bytesValue: expected a base64 string/,
      ],
      [
        {
          resourceMetrics: [
            { resource: { attributes: [{ key: "k", value: { stringValue: "a", intValue: 1 } }] } },
          ],
        },
        /more than one value/,
      ],
      [
        { resourceMetrics: [{ resource: { attributes: [{ key: 1 }] } }] },
        /attributes\[0\]: key: expected a string/,
      ],
      [
        {
          resourceMetrics: [
            { resource: { attributes: [{ key: "k", value: { intValue: "99999999999999999999" } }] } },
          ],
        },
        /out of the int64 range/,
      ],
      [
        { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "x", gauge: {}, sum: {} }] }] }] },
        /more than one of gauge/,
      ],
      [
        {
          resourceMetrics: [
            {
              scopeMetrics: [
                { metrics: [{ name: "x", gauge: { dataPoints: [{ asDouble: 1, asInt: 1 }] } }] },
              ],
            },
          ],
        },
        /both asDouble and asInt/,
      ],
      [
        {
          resourceMetrics: [
            { scopeMetrics: [{ metrics: [{ name: "x", sum: { aggregationTemporality: "DELTA" } }] }] },
          ],
        },
        /aggregationTemporality: expected an integer/,
      ],
    ];
    for (const [v, re] of cases)
      expect(decodeError(() => decodeMetricsJson(JSON.stringify(v))).message).toMatch(re);
    // A metrics request without resourceMetrics is just empty.
    expect(decodeMetricsJson(JSON.stringify({ resourceLogs: [] }))).toEqual({ resourceMetrics: [] });
    expect(
      decodeError(() =>
        decodeLogsJson('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}'),
      ).message,
    ).toMatch(/logRecords\[0\]: severityNumber: expected an integer/);
  });

  test("negative, fractional and oversized counts", () => {
    const exp = (o: Record<string, unknown>) =>
      req({ name: "e", exponentialHistogram: { dataPoints: [expPointJson(o)] } });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ count: -1 }, /dataPoints\[0\]: count: expected a non-negative integer, got number -1/],
      [{ count: "-1" }, /count: expected a non-negative integer, got string "-1"/],
      [{ count: 1.5 }, /count: expected a non-negative integer/],
      [{ count: "1e3" }, /count: expected a non-negative integer/],
      [{ count: "0x10" }, /count: expected a non-negative integer/],
      [{ count: 2 ** 53 }, /count exceeds 2\^53-1/],
      [{ count: "9007199254740993" }, /count exceeds 2\^53-1/],
      [{ zeroCount: -2 }, /zeroCount: expected a non-negative integer/],
      [
        { positive: { bucketCounts: [1, -1] } },
        /positive: bucketCounts\[1\]: expected a non-negative integer/,
      ],
      [{ positive: { bucketCounts: [1, "18446744073709551615"] } }, /bucketCounts\[1\] exceeds 2\^53-1/],
      [{ scale: 2 ** 31 }, /scale: expected an integer in \[-2147483648, 2147483647\]/],
      [{ positive: { offset: "x" } }, /positive: offset: expected an integer/],
      [{ startTimeUnixNano: "-5" }, /startTimeUnixNano: expected an unsigned 64-bit integer/],
      [
        { startTimeUnixNano: "18446744073709551616" },
        /startTimeUnixNano: expected an unsigned 64-bit integer/,
      ],
      [{ timeUnixNano: 1.5 }, /timeUnixNano: expected an unsigned 64-bit integer/],
      [{ sum: "abc" }, /sum: expected a number/],
    ];
    for (const [o, re] of bad) expect(decodeError(() => decodeMetricsJson(exp(o))).message).toMatch(re);
    const hist = req({ name: "h", histogram: { dataPoints: [{ count: 1, bucketCounts: [-1] }] } });
    expect(decodeError(() => decodeMetricsJson(hist)).message).toMatch(
      /bucketCounts\[0\]: expected a non-negative integer/,
    );
    const asInt = req({ name: "s", sum: { dataPoints: [{ asInt: "9007199254740992" }] } });
    expect(decodeError(() => decodeMetricsJson(asInt)).message).toMatch(/asInt exceeds 2\^53-1/);
    // Limits: strings for ints are fine, the largest exact values too.
    const ok = decodeMetricsJson(exp({ count: "9007199254740991", timeUnixNano: "18446744073709551615" }));
    expect(metrics(ok)[0]!.points[0]).toMatchObject({
      count: 2 ** 53 - 1,
      timeUnixNano: 18446744073709551615n,
    });
  });

  test("__proto__ and constructor keys are plain data", () => {
    const text = `{"resourceMetrics":[{"resource":{"attributes":[
      {"key":"__proto__","value":{"stringValue":"polluted"}},
      {"key":"constructor","value":{"kvlistValue":{"values":[{"key":"__proto__","value":{"boolValue":true}}]}}}]},
      "__proto__":{"polluted":true},
      "scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":1,
        "attributes":[{"key":"__proto__","value":{"intValue":"1"}}]}]}}]}]}]}`;
    const r = decodeMetricsJson(text);
    const res = r.resourceMetrics[0]!.resource;
    expect(Object.getPrototypeOf(res)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(res, "__proto__")?.value).toBe("polluted");
    expect(res.constructor).toBe('{"__proto__":true}');
    const pa = metrics(r)[0]!.points[0]!.attributes;
    expect(Object.getOwnPropertyDescriptor(pa, "__proto__")?.value).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("deep nesting: 10k-level AnyValue and 100k-level JSON → DecodeError", () => {
    let v = '{"stringValue":"leaf"}';
    for (let i = 0; i < 10_000; i++) v = `{"arrayValue":{"values":[${v}]}}`;
    const text = `{"resourceMetrics":[{"resource":{"attributes":[{"key":"deep","value":${v}}]}}]}`;
    expect(decodeError(() => decodeMetricsJson(text)).message).toMatch(
      /AnyValue nesting exceeds maxDepth \(16\)/,
    );
    decodeError(() => decodeMetricsJson(text, { ...DefaultDecodeLimits, maxDepth: 1e9 }));
    const logs = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${v}}]}]}]}`;
    expect(decodeError(() => decodeLogsJson(logs)).message).toMatch(/maxDepth/);
    const deepJson = `{"resourceMetrics":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    decodeError(() => decodeMetricsJson(deepJson));
  });

  test("limits: repeated counts, attributes, string length", () => {
    const lim = { ...DefaultDecodeLimits, maxRepeated: 3, maxAttributes: 2, maxStringBytes: 5 };
    const exp = (o: Record<string, unknown>) =>
      req({ name: "e", exponentialHistogram: { dataPoints: [expPointJson(o)] } });
    expect(
      decodeError(() => decodeMetricsJson(exp({ positive: { bucketCounts: [1, 2, 3, 4] } }), lim)).message,
    ).toMatch(/bucketCounts has more than maxRepeated \(3\)/);
    const attrs = [1, 2, 3].map((i) => ({ key: `k${i}`, value: { intValue: i } }));
    expect(decodeError(() => decodeMetricsJson(req({ name: "g", gauge: {} }, attrs), lim)).message).toMatch(
      /more than maxAttributes \(2\)/,
    );
    expect(decodeError(() => decodeMetricsJson(req({ name: "ümlaut" }), lim)).message).toMatch(
      /name: string exceeds maxStringBytes \(5\)/,
    );
    expect(metrics(decodeMetricsJson(req({ name: "ab", gauge: {} }), lim))[0]!.name).toBe("ab");
  });

  test("the JSON and protobuf decoders agree on an exponential histogram point", () => {
    const p = metrics(
      decodeMetricsJson(req({ name: "e", exponentialHistogram: { dataPoints: [expPointJson()] } })),
    )[0]!.points[0] as ExpHistogramPoint;
    expect(p.positive.bucketCounts).toEqual([1, 0, 3]);
    expect(p.negative).toEqual({ offset: 5, bucketCounts: [2, 2] });
    expect(Object.getPrototypeOf(p.attributes)).toBeNull();
  });
});
