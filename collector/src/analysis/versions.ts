// Which version of each model is live: the one with the most requests in
// the window. Its own baseline is used when it has one (a new version may
// come with a new baseline), else the model's default baseline.

import { Instruments } from "@mlwatch/semconv";
import type { BaselineStore, LoadedBaseline } from "../baselines/store.js";
import type { ModelStore } from "../store/model-store.js";

export type BaselineFor = (model: string) => LoadedBaseline | undefined;

export function activeVersions(store: ModelStore, nowMs: number): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  const add = (model: string, version: string, n: number) => {
    let m = counts.get(model);
    if (!m) {
      m = new Map();
      counts.set(model, m);
    }
    m.set(version, (m.get(version) ?? 0) + n);
  };
  for (const s of store.series(Instruments.requests.name)) {
    if (s.kind === "counter") add(s.labels.model_name, s.labels.model_version, s.window.merged(nowMs));
  }
  // Batch scoring may record predictions without requests.
  for (const s of store.series(Instruments.predictions.name)) {
    if (s.kind === "counter" && !counts.has(s.labels.model_name))
      add(s.labels.model_name, s.labels.model_version, s.window.merged(nowMs));
  }
  const out = new Map<string, string>();
  for (const [model, versions] of counts) {
    let best = "";
    let bestN = -1;
    for (const [v, n] of versions) {
      if (n > bestN) {
        best = v;
        bestN = n;
      }
    }
    out.set(model, best);
  }
  return out;
}

export function baselineResolver(baselines: BaselineStore, store: ModelStore, nowMs: number): BaselineFor {
  const versions = activeVersions(store, nowMs);
  return (model) => baselines.get(model, versions.get(model));
}
