// Traffic generator: sends product reviews to the service at a steady rate,
// and after --drift-after seconds switches to a scenario: a wave of
// complaints (data drift on the sentiment feature), long reviews (drift on
// length), bad input and timeouts (errors), or slow inference (latency).
// Sampled predictions get feedback with the review's true tone as the label.

import { parseArgs } from "node:util";
import { COMPLAINT_MIX, NORMAL_MIX, review, rng } from "./corpus.js";

export const SCENARIOS = ["none", "complaints", "long-reviews", "errors", "latency"] as const;
export type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    target: { type: "string", default: "http://127.0.0.1:8787" },
    rps: { type: "string", default: "40" },
    duration: { type: "string", default: "0" },
    "drift-after": { type: "string", default: "30" },
    scenario: { type: "string", default: "complaints" },
    "feedback-rate": { type: "string", default: "1" },
    seed: { type: "string", default: "7" },
  },
});

const scenario = args.scenario as Scenario;
if (!SCENARIOS.includes(scenario)) {
  console.error(`traffic: unknown scenario "${scenario}"; one of ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
const rps = Number(args.rps);
const durationMs = Number(args.duration) * 1000;
const driftAfterMs = Number(args["drift-after"]) * 1000;
const feedbackRate = Number(args["feedback-rate"]);
const r = rng(Number(args.seed));
const stats = { sent: 0, ok: 0, failed: 0, feedback: 0 };
const started = Date.now();
let stopping = false;

async function one(drifting: boolean): Promise<void> {
  const active = drifting ? scenario : "none";
  const { text, tone } = review(
    r,
    active === "complaints" ? COMPLAINT_MIX : NORMAL_MIX,
    active === "long-reviews",
  );
  const headers: Record<string, string> = { "content-type": "application/json" };
  let body: string = JSON.stringify({ text });
  const x = r();
  // A little bad input always happens; the errors scenario makes it a lot.
  if (x < (active === "errors" ? 0.08 : 0.005)) body = JSON.stringify({ text: "" });
  else if (active === "errors" && x < 0.12) headers["x-inject-error"] = "timeout";
  if (active === "latency") headers["x-inject-delay-ms"] = "400";
  stats.sent++;
  try {
    const res = await fetch(`${args.target}/predict`, { method: "POST", headers, body });
    const answer = (await res.json()) as { request_id?: string; sampled?: boolean };
    if (!res.ok) {
      stats.failed++;
      return;
    }
    stats.ok++;
    // Reviewers label the sampled predictions (all of them at --feedback-rate 1).
    if (answer.sampled && answer.request_id && r() < feedbackRate) {
      await fetch(`${args.target}/feedback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ request_id: answer.request_id, label: tone }),
      });
      stats.feedback++;
    }
  } catch {
    stats.failed++;
  }
}

function finish(): void {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ event: "done", ...stats }));
  process.exit(0);
}

const interval = 1000 / rps;
let next = Date.now();
function tick(): void {
  if (stopping) return;
  const now = Date.now();
  if (durationMs > 0 && now - started >= durationMs) {
    finish();
    return;
  }
  // Catch up after a slow tick instead of drifting below the target rate.
  while (next <= now) {
    void one(now - started >= driftAfterMs);
    next += interval;
  }
  setTimeout(tick, Math.max(0, next - Date.now()));
}
console.log(JSON.stringify({ event: "started", scenario, rps, driftAfterSeconds: driftAfterMs / 1000 }));
tick();
process.once("SIGINT", finish);
process.once("SIGTERM", finish);
