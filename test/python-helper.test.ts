// The Python helper's own tests (python/tests, pytest), run in the pinned venv
// with the official OpenTelemetry Python SDK. Any failing Python test fails this one.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { ROOT } from "./support/processes.js";
import { PYTHON_VENV_TIMEOUT_MS, pythonVenv } from "./support/python.js";

let python: string;
beforeAll(() => {
  python = pythonVenv();
}, PYTHON_VENV_TIMEOUT_MS);

it("python/tests pass under pytest with OpenTelemetry Python 1.45", { timeout: 180_000 }, () => {
  const r = spawnSync(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", join(ROOT, "python/tests")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const summary = /(\d+) passed/.exec(r.stdout);
  expect(summary, r.stdout).not.toBeNull();
  expect(Number(summary?.[1])).toBeGreaterThanOrEqual(15);
  expect(r.stdout).not.toMatch(/\d+ (failed|errors?)\b/);
  const sdk = spawnSync(python, ["-c", "import opentelemetry.sdk.version as v; print(v.__version__)"], {
    encoding: "utf8",
  });
  expect(sdk.stdout.trim()).toBe("1.45.0");
});
