// The decoded form of OTLP requests the collector works on: only the fields
// it uses, with attributes flattened to strings/numbers/booleans and 64-bit
// integers as JS numbers (counts above 2^53 are rejected by the decoder).

import type { VarintCounts } from "@mlwatch/stats/otlp";

export type AttrValue = string | number | boolean;
/** Attribute map; created with a null prototype so "__proto__" keys are plain data. */
export type Attributes = Record<string, AttrValue>;

/** AggregationTemporality as numbered in the OTLP proto. */
export const Temporality = { Unspecified: 0, Delta: 1, Cumulative: 2 } as const;
export type Temporality = (typeof Temporality)[keyof typeof Temporality];

export interface NumberPoint {
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  value: number;
}

export interface HistogramPoint {
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts: number[];
  explicitBounds: number[];
}

export interface ExpBuckets {
  offset: number;
  bucketCounts: number[];
  /** The counts still encoded in the request (see MetricsDecodeOptions.keepBucketVarints). */
  varints?: VarintCounts;
}

export interface ExpHistogramPoint {
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: ExpBuckets;
  negative: ExpBuckets;
}

export type Metric =
  | {
      name: string;
      unit: string;
      description: string;
      kind: "sum";
      temporality: Temporality;
      monotonic: boolean;
      points: NumberPoint[];
    }
  | { name: string; unit: string; description: string; kind: "gauge"; points: NumberPoint[] }
  | {
      name: string;
      unit: string;
      description: string;
      kind: "histogram";
      temporality: Temporality;
      points: HistogramPoint[];
    }
  | {
      name: string;
      unit: string;
      description: string;
      kind: "exponential_histogram";
      temporality: Temporality;
      points: ExpHistogramPoint[];
    };

export interface ScopeMetrics {
  scope: { name: string; version: string };
  metrics: Metric[];
}

export interface ResourceMetrics {
  resource: Attributes;
  scopeMetrics: ScopeMetrics[];
}

export interface MetricsRequest {
  resourceMetrics: ResourceMetrics[];
}

export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  /**
   * The body: a scalar as is (bytes as hex); a kvlist as an Attributes map and an array as
   * AttrValue[], with values nested deeper given as JSON text (an array with an empty
   * element is given whole as JSON text); null when absent or empty.
   */
  body: AttrValue | Attributes | AttrValue[] | null;
  attributes: Attributes;
  eventName: string;
}

export interface ScopeLogs {
  scope: { name: string; version: string };
  logRecords: LogRecord[];
}

export interface ResourceLogs {
  resource: Attributes;
  scopeLogs: ScopeLogs[];
}

export interface LogsRequest {
  resourceLogs: ResourceLogs[];
}

/** Thrown by the decoders for input that is not a valid OTLP message; maps to HTTP 400. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** Limits the decoders enforce so hostile input cannot exhaust memory or stack. */
export interface DecodeLimits {
  /** Maximum nesting of AnyValue (kvlist/array inside each other). */
  maxDepth: number;
  /** Maximum number of elements in any one repeated field. */
  maxRepeated: number;
  /** Maximum attributes per point/resource. */
  maxAttributes: number;
  /** Maximum byte length of any string. */
  maxStringBytes: number;
}

export const DefaultDecodeLimits: DecodeLimits = {
  maxDepth: 16,
  maxRepeated: 1_000_000,
  maxAttributes: 128,
  maxStringBytes: 64 * 1024,
};
