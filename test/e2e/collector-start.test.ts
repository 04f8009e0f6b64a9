// `mlwatch collector` refuses to start on paths that cannot work, with a
// message naming the option and the path: exit 2 for a configuration error
// (a baselines folder or database folder that does not exist), exit 1 for a
// database that cannot be opened. The flag and its config key behave the same,
// and a refused start leaves nothing behind on disk.

import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "../support/processes.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const tempDir = () => {
  dir = mkdtempSync(join(tmpdir(), "mlwatch-start-"));
  return dir;
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mlwatch collector ...args` in `cwd` until it exits, or until it prints
 * its listening line (then stops it with SIGTERM).
 */
function collector(args: string[], cwd: string, uid?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, "collector", "--otlp-port", "0", "--port", "0", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`collector neither started nor exited:\n${stderr}`));
    }, 20_000);
    proc.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('"event":"listening"')) proc.kill("SIGTERM");
    });
    proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const refused = (message: string) => `mlwatch: cannot start the collector: ${message}\n`;

describe("baselines.dir (--baselines)", () => {
  it("refuses a folder that does not exist, by flag or config key, and creates nothing", async () => {
    const cwd = tempDir();
    const message = refused(
      `baselines.dir (--baselines): the folder "no-such-dir" (${cwd}/no-such-dir) does not exist`,
    );
    const byFlag = await collector(["--baselines", "no-such-dir"], cwd);
    expect(byFlag).toEqual({ code: 2, stdout: "", stderr: message });
    writeFileSync(join(cwd, "c.yaml"), "baselines: { dir: no-such-dir }\n");
    const byKey = await collector(["--config", "c.yaml"], cwd);
    expect(byKey).toEqual({ code: 2, stdout: "", stderr: message });
    // Not even the default database's folder.
    expect(readdirSync(cwd)).toEqual(["c.yaml"]);
  });

  it("refuses a file where a folder is wanted", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "fraud.baseline.json"), "{}");
    const r = await collector(["--baselines", join(cwd, "fraud.baseline.json")], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      refused(
        `baselines.dir (--baselines): "${cwd}/fraud.baseline.json" is a file; name the folder that holds the baseline .json files`,
      ),
    );
  });
});

describe("storage.path (--db)", () => {
  it("refuses a database in a folder that does not exist, and does not create the folder", async () => {
    const cwd = tempDir();
    const db = join(cwd, "data", "collector.db");
    const message = refused(
      `storage.path (--db): the folder "${cwd}/data" for the database "${db}" does not exist; create it first, or name a file in an existing folder`,
    );
    expect(await collector(["--db", db], cwd)).toEqual({ code: 2, stdout: "", stderr: message });
    writeFileSync(join(cwd, "c.yaml"), `storage: { path: ${JSON.stringify(db)} }\n`);
    expect(await collector(["--config", "c.yaml"], cwd)).toEqual({ code: 2, stdout: "", stderr: message });
    expect(existsSync(join(cwd, "data"))).toBe(false);

    // Once the folder exists, the same command starts.
    mkdirSync(join(cwd, "data"));
    const started = await collector(["--db", db], cwd);
    expect(started.stdout).toContain('"event":"listening"');
    expect(existsSync(db)).toBe(true);
  });

  it("creates the default database's folder, .mlwatch, on first start", async () => {
    const cwd = tempDir();
    const r = await collector([], cwd);
    expect(r.stdout).toContain('"event":"listening"');
    expect(r.code, JSON.stringify(r)).toBe(0);
    expect(existsSync(join(cwd, ".mlwatch", "collector.db"))).toBe(true);
  });

  it("exits 1 naming the path when the database is a folder", async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, "collector.db"));
    const r = await collector(["--db", join(cwd, "collector.db")], cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      refused(
        `cannot open the database ${cwd}/collector.db (storage.path, --db): it is a folder, not a file (unable to open database file)`,
      ),
    );
  });

  it("exits 1 naming the path when the file is not SQLite, and leaves it as it was", async () => {
    const cwd = tempDir();
    const text = "model,feature\nfraud,amount\n".repeat(20);
    writeFileSync(join(cwd, "collector.db"), text);
    const r = await collector(["--db", "collector.db"], cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      refused(
        `cannot open the database collector.db (${cwd}/collector.db) (storage.path, --db): the file is not an SQLite database (file is not a database)`,
      ),
    );
    expect(readdirSync(cwd)).toEqual(["collector.db"]);
  });

  it("exits 1 naming the path when the file is not writable, instead of failing every checkpoint", async () => {
    const cwd = tempDir();
    chmodSync(cwd, 0o755);
    const db = join(cwd, "collector.db");
    expect((await collector(["--db", db], cwd)).code).toBe(0); // a good database
    chmodSync(db, 0o444);
    const r = await collector(["--db", db], cwd, process.getuid?.() === 0 ? 65534 : undefined);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      refused(
        `cannot open the database ${db} (storage.path, --db): the file is not writable by this user (EACCES: permission denied, access '${db}')`,
      ),
    );
  });

  it("exits 1 naming the folder when it is not writable", async () => {
    const cwd = tempDir();
    chmodSync(cwd, 0o755);
    const ro = join(cwd, "readonly");
    mkdirSync(ro, { mode: 0o555 });
    // Root may write anywhere: run as nobody then, as a service would.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = await collector(["--db", join(ro, "collector.db")], cwd, uid);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      refused(
        `cannot open the database ${ro}/collector.db (storage.path, --db): the folder ${ro} is not writable by this user, so the file cannot be created (unable to open database file)`,
      ),
    );
  });
});
