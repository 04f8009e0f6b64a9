// The collector's SQLite file: baselines, and periodic checkpoints of the
// window store and of the replica streams, so a restart (or a crash) keeps
// window history and counts exactly. WAL mode: readers never block the
// checkpoint writer, and a crash mid-write leaves the last checkpoint intact.

import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import Database from "better-sqlite3";

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS baselines (
  model TEXT NOT NULL,
  version TEXT NOT NULL,          -- '' for the model's default baseline
  body TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE TABLE IF NOT EXISTS series (
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (family, key)
);
CREATE TABLE IF NOT EXISTS streams (
  key TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  seen_ms INTEGER NOT NULL DEFAULT 0  -- when the stream's last point arrived (collector clock)
);
CREATE INDEX IF NOT EXISTS streams_seen ON streams (seen_ms);
CREATE TABLE IF NOT EXISTS slo (
  model TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
  request_id TEXT PRIMARY KEY,
  received_ms INTEGER NOT NULL,
  body TEXT NOT NULL
);
`;

const SCHEMA_VERSION = "2";

/** Upgrades a file written by an older collector, in one transaction; returns false when it cannot. */
function migrate(db: Db, from: string): boolean {
  if (from !== "1") return false;
  db.transaction(() => {
    // 1 → 2: streams remember when they were last seen, so forgotten ones stay on disk for a while.
    db.exec("ALTER TABLE streams ADD COLUMN seen_ms INTEGER NOT NULL DEFAULT 0");
    db.exec("UPDATE streams SET seen_ms = CAST(json_extract(body, '$.seenMs') AS INTEGER)");
    db.exec("CREATE INDEX IF NOT EXISTS streams_seen ON streams (seen_ms)");
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SCHEMA_VERSION);
  })();
  return true;
}

/** Why SQLite could not open or write the file, in words that point at the fix; SQLite's own is vague. */
function whyNotOpened(path: string, e: Error & { code?: string }): string {
  const own = e.message;
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  let isFolder = false;
  let exists = true;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    exists = false;
  }
  if (isFolder) return `it is a folder, not a file (${own})`;
  if (e.code === "SQLITE_NOTADB") return `the file is not an SQLite database (${own})`;
  if (exists && !writable(path)) return `the file is not writable by this user (${own})`;
  if (!exists && !writable(dirname(path)))
    return `the folder ${dirname(path)} is not writable by this user, so the file cannot be created (${own})`;
  return own;
}

export function openDatabase(path: string): Db {
  let db: Db | undefined;
  try {
    // SQLite opens a file it may not write read-only, and the collector would start and then fail
    // every checkpoint: refuse now.
    if (path !== ":memory:" && existsSync(path) && !statSync(path).isDirectory())
      accessSync(path, constants.W_OK);
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  } catch (e) {
    db?.close();
    const shown = isAbsolute(path) ? path : `${path} (${resolve(path)})`;
    throw new Error(
      `cannot open the database ${shown} (storage.path, --db): ${whyNotOpened(path, e as Error)}`,
    );
  }
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
    | { value: string }
    | undefined;
  if (row && row.value !== SCHEMA_VERSION && !migrate(db, row.value)) {
    db.close();
    throw new Error(
      `${path} has schema version ${row.value}; this collector reads version ${SCHEMA_VERSION}`,
    );
  }
  db.exec(SCHEMA);
  if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
  return db;
}
