// Baselines kept in memory (parsed once, histograms ready for comparison)
// and persisted as one JSON file per model, written atomically so a crash
// mid-write never leaves a corrupt baseline behind.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExpHistogram } from "@mlwatch/stats";
import { type Baseline, parseBaseline } from "./format.js";

export interface LoadedBaseline {
  baseline: Baseline;
  features: Map<string, ExpHistogram>;
}

function fileNameOf(model: string): string {
  return `${encodeURIComponent(model)}.json`;
}

export class BaselineStore {
  private readonly byModel = new Map<string, LoadedBaseline>();

  constructor(private readonly dir: string) {}

  /** Loads every baseline file in the folder; returns one message per file that could not be used. */
  loadAll(): string[] {
    const problems: string[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith(".json"));
    } catch {
      return problems; // no folder yet: no baselines
    }
    for (const name of names) {
      try {
        const b = parseBaseline(JSON.parse(readFileSync(join(this.dir, name), "utf8")));
        this.byModel.set(b.model, load(b));
      } catch (e) {
        problems.push(`${join(this.dir, name)}: ${(e as Error).message}`);
      }
    }
    return problems;
  }

  get(model: string): LoadedBaseline | undefined {
    return this.byModel.get(model);
  }

  list(): Baseline[] {
    return [...this.byModel.values()].map((l) => l.baseline);
  }

  /** Validates, persists, then serves the baseline. Throws BaselineError for an invalid one. */
  put(raw: unknown): Baseline {
    const b = parseBaseline(raw);
    const loaded = load(b);
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, fileNameOf(b.model));
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(b));
    renameSync(tmp, path);
    this.byModel.set(b.model, loaded);
    return b;
  }

  delete(model: string): boolean {
    if (!this.byModel.delete(model)) return false;
    rmSync(join(this.dir, fileNameOf(model)), { force: true });
    return true;
  }
}

function load(b: Baseline): LoadedBaseline {
  const features = new Map<string, ExpHistogram>();
  for (const [name, f] of Object.entries(b.features)) features.set(name, ExpHistogram.fromJSON(f.histogram));
  return { baseline: b, features };
}
