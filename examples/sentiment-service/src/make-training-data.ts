// Writes the training texts the demo's baseline is built from: normal
// traffic, from a fixed seed, one review per line.
import { writeFileSync } from "node:fs";
import { NORMAL_MIX, review, rng } from "./corpus.js";

const [out = "data/training-texts.txt", n = "4000"] = process.argv.slice(2);
const r = rng(20261127);
const lines: string[] = [];
for (let i = 0; i < Number(n); i++) lines.push(review(r, NORMAL_MIX).text);
writeFileSync(out, `${lines.join("\n")}\n`);
console.log(`wrote ${lines.length} training texts to ${out}`);
