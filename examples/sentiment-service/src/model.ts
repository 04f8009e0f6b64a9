// The model being monitored: an AFINN lexicon sentiment scorer (the
// "sentiment" package) turned into a three-class classifier with a
// confidence, plus the input features the monitor tracks for drift.

import Sentiment from "sentiment";

export const MODEL_NAME = "sentiment";
export const MODEL_VERSION = "1.0.0";
export const FEATURE_NAMES = ["text_length", "word_count", "sentiment_score", "exclamation_count"] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Label = "positive" | "negative" | "neutral";

export interface Result {
  label: Label;
  confidence: number;
  features: Record<FeatureName, number>;
}

export class ValidationError extends Error {
  override name = "ValidationError";
}

const analyzer = new Sentiment();

/** Input features, computed the same way in training and in serving. */
export function features(text: string): Record<FeatureName, number> {
  const a = analyzer.analyze(text);
  return {
    text_length: text.length,
    word_count: a.tokens.length,
    sentiment_score: a.comparative,
    exclamation_count: (text.match(/!/g) ?? []).length,
  };
}

/** Classifies a text. The three class scores go through a softmax, so confidence is a probability. */
export function predict(text: unknown): Result {
  if (typeof text !== "string" || text.trim() === "")
    throw new ValidationError("text must be a non-empty string");
  if (text.length > 5000) throw new ValidationError("text is longer than 5000 characters");
  const f = features(text);
  const c = f.sentiment_score;
  const logits: Record<Label, number> = { positive: 4 * c, negative: -4 * c, neutral: 0.6 };
  let z = 0;
  for (const l of Object.values(logits)) z += Math.exp(l);
  let label: Label = "neutral";
  for (const l of Object.keys(logits) as Label[]) if (logits[l] > logits[label]) label = l;
  return { label, confidence: Math.exp(logits[label]) / z, features: f };
}
