// `npm run demo`: answers --help at once, from the options file the demo
// itself reads (no install or build needed for that); otherwise installs and
// builds (`npm run setup`), then runs the built demo with the same arguments.

import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);

if (argv.includes("--help") || argv.includes("-h")) {
  const spec = JSON.parse(readFileSync(`${root}/examples/sentiment-service/demo-options.json`, "utf8"));
  const rows = Object.entries(spec.options).map(([name, o]) => [`--${name} ${o.value}`, o.help, o.default]);
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`usage: ${spec.usage}\n${spec.about}\n`);
  for (const [flag, help, def] of rows) console.log(`  ${flag.padEnd(width)}  ${help} (default ${def})`);
  process.exit(0);
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const setup = spawnSync(npm, ["run", "-s", "setup"], { cwd: root, stdio: "inherit" });
if (setup.status !== 0) process.exit(setup.status ?? 1);
// Ctrl-C reaches the demo too (same process group); it stops its children and prints the summary.
process.on("SIGINT", () => {});
const demo = spawn(process.execPath, [`${root}/examples/sentiment-service/dist/demo.js`, ...argv], {
  stdio: "inherit",
});
demo.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
