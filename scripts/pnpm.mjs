#!/usr/bin/env node
// Runs the pnpm version pinned in package.json's packageManager, so that a
// machine with only Node.js and npm can use the workspace: a pnpm already on
// PATH at that version is used as is, otherwise npx fetches it from the registry.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager;
const version = pinned.replace(/^pnpm@/, "");

function run(cmd, args) {
  return spawnSync(cmd, args, { stdio: "inherit", cwd: root, shell: process.platform === "win32" });
}

const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
const args = process.argv.slice(2);
const result =
  probe.status === 0 && probe.stdout.trim() === version
    ? run("pnpm", args)
    : run("npx", ["--yes", `pnpm@${version}`, ...args]);
process.exit(result.status ?? 1);
