// The collector's SQLite file: baselines, and periodic checkpoints of the
// window store and of the replica streams, so a restart (or a crash) keeps
// window history and counts exactly. WAL mode: readers never block the
// checkpoint writer, and a crash mid-write leaves the last checkpoint intact.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
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
  body TEXT NOT NULL
);
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

const SCHEMA_VERSION = "1";

export function openDatabase(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(SCHEMA);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
    | { value: string }
    | undefined;
  if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
  else if (row.value !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `${path} has schema version ${row.value}; this collector reads version ${SCHEMA_VERSION}`,
    );
  }
  return db;
}
