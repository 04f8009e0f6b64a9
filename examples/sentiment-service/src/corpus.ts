// Realistic product-review texts for the traffic generator and the training
// set. Reviews are built from sentence templates whose positive, negative and
// neutral variants have matched lengths, so a shift in the sentiment mix moves
// the sentiment feature while text length stays put — and a shift to longer
// reviews does the opposite.

/** Small seeded PRNG (mulberry32), so training data and scenarios are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const products = [
  "phone",
  "laptop",
  "blender",
  "headset",
  "camera",
  "kettle",
  "monitor",
  "keyboard",
  "charger",
  "speaker",
];
const parts = [
  "battery",
  "screen",
  "delivery",
  "packaging",
  "sound",
  "build quality",
  "price",
  "setup",
  "support team",
  "manual",
];

// Each list has words of similar lengths, so the tone does not change the length.
const tone = {
  positive: [
    "great",
    "excellent",
    "amazing",
    "reliable",
    "wonderful",
    "perfect",
    "lovely",
    "fantastic",
    "brilliant",
    "superb",
  ],
  negative: [
    "awful",
    "terrible",
    "horrible",
    "useless",
    "dreadful",
    "broken",
    "faulty",
    "disappointing",
    "annoying",
    "poor",
  ],
  neutral: [
    "average",
    "standard",
    "typical",
    "ordinary",
    "adequate",
    "normal",
    "regular",
    "common",
    "plain",
    "usual",
  ],
};

const templates = [
  "The {part} is {adj}.",
  "This {product} has a {adj} {part}.",
  "Honestly the {part} was {adj} from day one.",
  "I found the {part} of this {product} {adj}.",
  "My new {product} feels {adj} overall.",
  "Would say the {part} is {adj} for the money.",
];

const extras = {
  positive: ["Would buy again!", "Highly recommend it.", "Thanks, I love it!"],
  negative: ["Want a refund now!", "Do not buy this.", "Never again, sadly."],
  neutral: ["It does the job.", "Nothing more to add.", "As described, I guess."],
};

export type Tone = keyof typeof tone;

export interface Mix {
  positive: number;
  negative: number;
  neutral: number;
}

/** The sentiment mix of normal traffic, and of a wave of complaints. */
export const NORMAL_MIX: Mix = { positive: 0.55, negative: 0.3, neutral: 0.15 };
export const COMPLAINT_MIX: Mix = { positive: 0.05, negative: 0.9, neutral: 0.05 };

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function pickTone(r: () => number, mix: Mix): Tone {
  const x = r();
  if (x < mix.positive) return "positive";
  if (x < mix.positive + mix.negative) return "negative";
  return "neutral";
}

function sentence(r: () => number, t: Tone): string {
  return pick(r, templates)
    .replace("{part}", pick(r, parts))
    .replace("{product}", pick(r, products))
    .replace("{adj}", pick(r, tone[t]));
}

/** One review: 1–3 sentences (3–6 for long reviews) in one tone, sometimes with a closing remark. */
export function review(r: () => number, mix: Mix = NORMAL_MIX, long = false): { text: string; tone: Tone } {
  const t = pickTone(r, mix);
  const n = long ? 3 + Math.floor(r() * 4) : 1 + Math.floor(r() * 3);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(sentence(r, t));
  if (r() < 0.4) out.push(pick(r, extras[t]));
  return { text: out.join(" "), tone: t };
}
