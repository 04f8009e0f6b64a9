#!/usr/bin/env node
// CLI: node packages/deploy/dist/shard-owner.js --shards host:port,host:port <model>...
// Prints the shard that owns each model under the front Collector's
// load-balancing exporter (routing_key attributes, routing_attributes
// [ml.model.name]); see docs/scaling.md. Use it to push baselines to the owner.

import { parseArgs } from "node:util";
import { ShardRing } from "./shard-ring.js";

const HELP = `Usage: node packages/deploy/dist/shard-owner.js --shards <host:port,...> <model>...

Prints "<model>\\t<shard>" for each model: the shard the OpenTelemetry Collector's
load-balancing exporter sends it to when it routes on ml.model.name.
--shards must list the resolver's endpoints exactly as it yields them
(static: the hostnames as written, with their ports).
`;

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { shards: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const shards = (values.shards ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (shards.length === 0 || positionals.length === 0) {
    process.stderr.write(`--shards and at least one model are required\n\n${HELP}`);
    return 2;
  }
  const ring = new ShardRing(shards);
  for (const model of positionals) process.stdout.write(`${model}\t${ring.ownerOf(model)}\n`);
  return 0;
}

process.exitCode = main();
