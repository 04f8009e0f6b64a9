// Versioned baselines through the real collector process's API: a 404 says
// which baselines the model has and how to ask for one, and a PUT whose URL
// and body disagree about the version is refused with the URL to use.

import { ExpHistogram } from "@mlwatch/stats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBaseline } from "../../collector/src/baselines/format.js";
import { type CollectorHandle, startCollector } from "../support/processes.js";

let c: CollectorHandle;
beforeAll(async () => {
  c = await startCollector();
});
afterAll(() => c?.close());

function histogramOf(values: number[]): ExpHistogram {
  const h = new ExpHistogram();
  for (const v of values) h.record(v);
  return h;
}

const baselineOf = (model: string, modelVersion?: string) =>
  makeBaseline({ model, modelVersion, features: { amount: histogramOf([1, 2, 3, 40]) } });

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${c.query}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /api/v1/baselines/{model}", () => {
  it("says so plainly when the model has no baseline at all", async () => {
    const r = await call("GET", "/api/v1/baselines/nobody");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      error:
        'model "nobody" has no baseline at all; push one with `mlwatch baseline push` or PUT /api/v1/baselines/nobody',
      model: "nobody",
      hasDefault: false,
      versions: [],
    });
  });

  it("names the versions that exist, and how to ask for one, when there is no default", async () => {
    for (const v of ["10", "7"]) {
      expect((await call("PUT", `/api/v1/baselines/fraud?version=${v}`, baselineOf("fraud", v))).status).toBe(
        200,
      );
    }
    const r = await call("GET", "/api/v1/baselines/fraud");
    expect(r.status).toBe(404);
    expect(r.body.versions).toEqual(["7", "10"]);
    expect(r.body.hasDefault).toBe(false);
    expect(r.body.error).toBe(
      'model "fraud" has no default baseline; it has baselines for versions "7", "10" (ask with /api/v1/baselines/fraud?version=7)',
    );
    // The URL the message gives answers.
    const seven = await call("GET", "/api/v1/baselines/fraud?version=7");
    expect(seven.status).toBe(200);
    expect(seven.body.modelVersion).toBe("7");
  });

  it("names the default too when an unknown version is asked for", async () => {
    expect((await call("PUT", "/api/v1/baselines/mixed", baselineOf("mixed"))).status).toBe(200);
    expect((await call("PUT", "/api/v1/baselines/mixed?version=2", baselineOf("mixed", "2"))).status).toBe(
      200,
    );
    const r = await call("GET", "/api/v1/baselines/mixed?version=3");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe(
      'model "mixed" has no baseline for version "3"; it has a default baseline (/api/v1/baselines/mixed) and a baseline for version "2" (ask with /api/v1/baselines/mixed?version=2)',
    );
    const del = await call("DELETE", "/api/v1/baselines/mixed?version=3");
    expect(del.status).toBe(404);
    expect(del.body.versions).toEqual(["2"]);
  });
});

describe("PUT /api/v1/baselines/{model}", () => {
  it("refuses a versioned body without ?version, and says which URL to use", async () => {
    const r = await call("PUT", "/api/v1/baselines/loans", baselineOf("loans", "7"));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^baseline is for version "7" of model "loans": add \?version=7 to the URL/);
    expect(r.body.error).toContain("PUT /api/v1/baselines/loans?version=7");
    // Nothing was stored, under the default or the version.
    expect((await call("GET", "/api/v1/baselines/loans")).body.versions).toEqual([]);
    expect((await call("PUT", "/api/v1/baselines/loans?version=7", baselineOf("loans", "7"))).status).toBe(
      200,
    );
    expect((await call("GET", "/api/v1/baselines/loans?version=7")).status).toBe(200);
  });

  it("refuses a ?version that disagrees with the body", async () => {
    const other = await call("PUT", "/api/v1/baselines/loans?version=8", baselineOf("loans", "7"));
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('baseline is for version "7", not "8" as ?version=8 says');
    const unversioned = await call("PUT", "/api/v1/baselines/loans?version=8", baselineOf("loans"));
    expect(unversioned.status).toBe(400);
    expect(unversioned.body.error).toBe(
      'baseline has no modelVersion, so it is model "loans"\'s default, but the URL asks for version "8": drop ?version, or build the baseline with --model-version 8',
    );
    const r = await call("GET", "/api/v1/baselines/loans?version=8");
    expect(r.status).toBe(404);
    expect(r.body.versions).toEqual(["7"]);
  });

  it("takes an unversioned body as the default, with no ?version or an empty one", async () => {
    expect((await call("PUT", "/api/v1/baselines/plain", baselineOf("plain"))).status).toBe(200);
    expect((await call("PUT", "/api/v1/baselines/plain?version=", baselineOf("plain"))).status).toBe(200);
    const r = await call("GET", "/api/v1/baselines/plain");
    expect(r.status).toBe(200);
    expect(r.body.model).toBe("plain");
    expect(r.body.modelVersion).toBeUndefined();
  });
});
