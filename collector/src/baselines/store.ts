// Baselines, persisted in the collector's SQLite file and kept parsed in
// memory with their histograms ready for comparison. One baseline per model
// and version; the version-less one is the model's default. A baseline is
// validated completely before anything stored is replaced.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ExpHistogram } from "@mlwatch/stats";
import type { Db } from "../store/database.js";
import { type Baseline, BaselineError, parseBaseline } from "./format.js";

export interface LoadedBaseline {
  baseline: Baseline;
  /** Numeric features' histograms. */
  features: Map<string, ExpHistogram>;
  /** Categorical features' counts per category. */
  categorical: Map<string, Record<string, number>>;
  confidence?: ExpHistogram;
}

const key = (model: string, version = "") => `${model}\u0000${version}`;

export class BaselineStore {
  private readonly loaded = new Map<string, LoadedBaseline>();

  constructor(private readonly db: Db) {}

  /** Loads every stored baseline; returns a message per row that could not be used. */
  loadAll(): string[] {
    const problems: string[] = [];
    const rows = this.db.prepare("SELECT model, version, body FROM baselines").all() as Array<{
      model: string;
      version: string;
      body: string;
    }>;
    for (const r of rows) {
      try {
        this.loaded.set(key(r.model, r.version), load(parseBaseline(JSON.parse(r.body))));
      } catch (e) {
        problems.push(
          `stored baseline ${r.model}${r.version ? `@${r.version}` : ""}: ${(e as Error).message}`,
        );
      }
    }
    return problems;
  }

  /** Imports every *.json baseline file of a folder (e.g. dropped there by a deploy); returns problems per file. */
  importDir(dir: string): string[] {
    const problems: string[] = [];
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(".json"));
    } catch (e) {
      return [`${dir}: cannot read the folder: ${(e as Error).message}`];
    }
    for (const name of names) {
      try {
        this.put(JSON.parse(readFileSync(join(dir, name), "utf8")));
      } catch (e) {
        problems.push(`${join(dir, name)}: ${(e as Error).message}`);
      }
    }
    return problems;
  }

  /** The baseline for a model version, else the model's default one. */
  get(model: string, version?: string): LoadedBaseline | undefined {
    return (version ? this.loaded.get(key(model, version)) : undefined) ?? this.loaded.get(key(model));
  }

  /** Exactly the baseline stored under this model and version ("" or undefined: the default). */
  getExact(model: string, version?: string): LoadedBaseline | undefined {
    return this.loaded.get(key(model, version));
  }

  /** Which baselines a model has: its default (version-less) one, and the versions with their own. */
  versionsOf(model: string): { hasDefault: boolean; versions: string[] } {
    const versions: string[] = [];
    let hasDefault = false;
    for (const l of this.loaded.values()) {
      if (l.baseline.model !== model) continue;
      if (l.baseline.modelVersion === undefined) hasDefault = true;
      else versions.push(l.baseline.modelVersion);
    }
    return {
      hasDefault,
      versions: versions.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
    };
  }

  list(): Baseline[] {
    return [...this.loaded.values()].map((l) => l.baseline);
  }

  /**
   * Validates and stores a baseline. `expected` pins the model (and version)
   * the caller addressed, so a body for another model is refused; with the
   * features the model reports, a baseline sharing none of them is refused too.
   */
  put(raw: unknown, expected: { model?: string; version?: string; liveFeatures?: string[] } = {}): Baseline {
    const b = parseBaseline(raw);
    const live = expected.liveFeatures ?? [];
    const names = Object.keys(b.features);
    if (live.length > 0 && names.length > 0 && !names.some((f) => live.includes(f))) {
      // Most likely another model's baseline, or features renamed since training.
      throw new BaselineError(
        `baseline features (${names.slice(0, 10).join(", ")}) match none of the features model "${b.model}" reports (${live.slice(0, 10).join(", ")})`,
      );
    }
    if (expected.model !== undefined && b.model !== expected.model) {
      throw new BaselineError(`baseline is for model "${b.model}", not "${expected.model}"`);
    }
    if (expected.version !== undefined && (b.modelVersion ?? "") !== expected.version) {
      throw new BaselineError(
        `baseline is for version "${b.modelVersion ?? "(none)"}", not "${expected.version}" as addressed`,
      );
    }
    const loaded = load(b);
    this.db
      .prepare(
        `INSERT INTO baselines (model, version, body, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (model, version) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      )
      .run(b.model, b.modelVersion ?? "", JSON.stringify(b), new Date().toISOString());
    this.loaded.set(key(b.model, b.modelVersion), loaded);
    return b;
  }

  delete(model: string, version?: string): boolean {
    const r = this.db
      .prepare("DELETE FROM baselines WHERE model = ? AND version = ?")
      .run(model, version ?? "");
    this.loaded.delete(key(model, version));
    return r.changes > 0;
  }
}

function load(b: Baseline): LoadedBaseline {
  const features = new Map<string, ExpHistogram>();
  const categorical = new Map<string, Record<string, number>>();
  for (const [name, f] of Object.entries(b.features)) {
    if (f.kind === "numeric") features.set(name, ExpHistogram.fromJSON(f.histogram));
    else categorical.set(name, f.counts);
  }
  return {
    baseline: b,
    features,
    categorical,
    confidence: b.confidence ? ExpHistogram.fromJSON(b.confidence) : undefined,
  };
}
