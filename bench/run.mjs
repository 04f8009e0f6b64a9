#!/usr/bin/env node
// `pnpm bench`: runs every bench/*.bench.mjs (each exports `run()` returning
// [{ name, value, unit }]) against the built packages and prints one table;
// bench/load.bench.mjs only when named.
// Figures go into docs/benchmarks.md together with this command.

import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
// Run only when named (`node bench/run.mjs load`): the collector under load for over a minute.
const OPT_IN = ["load.bench.mjs"];
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => (only.length === 0 ? !OPT_IN.includes(f) : only.some((o) => f.includes(o))))
  .sort();

console.log(`node ${process.version} · ${cpus()[0]?.model ?? "unknown cpu"} × ${cpus().length}`);
for (const f of files) {
  const mod = await import(pathToFileURL(`${dir}${f}`).href);
  if (typeof mod.run !== "function") {
    console.error(`${f}: exports no run()`);
    process.exitCode = 1;
    continue;
  }
  console.log(`\n## ${f.replace(".bench.mjs", "")}`);
  for (const row of await mod.run()) {
    console.log(
      `${row.name.padEnd(60)} ${String(Number(row.value.toPrecision(4))).padStart(12)} ${row.unit}`,
    );
  }
}
