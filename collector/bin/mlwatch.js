#!/usr/bin/env node
// The `mlwatch` bin. It is a committed file rather than dist/cli/main.js
// itself because pnpm links a workspace package's bin into node_modules/.bin
// at install time, before the first build has written dist/: a bin whose file
// is missing then is skipped ("Failed to create bin"), and a fresh clone would
// have no `npx mlwatch` (pnpm/pnpm#1801 suggests exactly this shim).

import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("mlwatch: the CLI is not built yet: run `npm run setup` in the mlwatch repository");
  process.exit(1);
}
await import(main.href);
