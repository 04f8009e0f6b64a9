// The Python virtualenv of the Python helper and example (scripts/python-venv.sh):
// created once with the pinned requirements, then reused. No Python, or a package
// that does not install, is an error here, so those tests fail rather than skip.

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./processes.js";

/** Path of the venv's python, creating the venv first if needed (can take minutes). */
export function pythonVenv(): string {
  const out = execFileSync("bash", [join(ROOT, "scripts/python-venv.sh")], {
    encoding: "utf8",
    timeout: 15 * 60_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").at(-1) as string;
}

/** Allowance for pythonVenv() in a hook: a fresh install downloads and unpacks every wheel. */
export const PYTHON_VENV_TIMEOUT_MS = 15 * 60_000;
