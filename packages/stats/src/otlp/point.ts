// The OTLP exponential-histogram data point as the collector's decoder hands
// it over, and materializeBuckets(), which decodes bucket counts the decoder
// left as packed varints. Not a protobuf decoder (that is the collector's
// otlp/), and not histogram math: ExpHistogram.fromOtlp() and the cumulative
// step (cumulative/) take these points.

/**
 * Bucket counts as they come on the wire: `length` packed varints in
 * bytes[start, end), each a whole number below 2^53 (the decoder that made
 * it checked them).
 */
export interface VarintCounts {
  bytes: Uint8Array;
  start: number;
  end: number;
  length: number;
}

/**
 * One range of an OTLP point: the counts of buckets offset, offset + 1, ...;
 * with `varints`, they are those (and `bucketCounts` is empty) until
 * materializeBuckets() decodes them.
 */
export interface OtlpBuckets {
  offset: number;
  bucketCounts: number[];
  varints?: VarintCounts;
}

/** An OTLP `ExponentialHistogramDataPoint` as decoded by the collector. */
export interface OtlpExpHistogramPoint {
  scale: number;
  zeroCount: number;
  zeroThreshold?: number;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  positive: OtlpBuckets;
  negative: OtlpBuckets;
}

/** Decodes a range's varints (if it still has them) into its bucketCounts. */
export function materializeBuckets(b: OtlpBuckets | undefined | null): void {
  if (b === undefined || b === null || typeof b !== "object" || b.varints === undefined) return;
  const { bytes, start, end, length } = b.varints;
  const out: number[] = new Array(length);
  let q = start;
  for (let k = 0; k < length && q < end; k++) {
    let v = 0;
    let mul = 1;
    let c: number;
    do {
      c = bytes[q++];
      v += (c & 0x7f) * mul;
      mul *= 0x80;
    } while (c >= 0x80 && q < end);
    out[k] = v;
  }
  b.bucketCounts = out;
  b.varints = undefined;
}
