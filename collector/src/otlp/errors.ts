// Error plumbing shared by the protobuf and JSON decoders.
//
// A decoder throws `PathError` where it finds a problem; every nested
// message or array element the error unwinds through adds its own path
// segment on the way out (in a `catch`, so the happy path pays nothing),
// and the public entry point turns it into one plain `DecodeError` whose
// message reads like
//   "resource_metrics[0].scope_metrics[0].metrics[3].exponential_histogram.data_points[0]: field 2 has wire type 5 (I32), expected 1 (I64)".

import { DecodeError, type DecodeLimits, DefaultDecodeLimits } from "./types.js";

/** A DecodeError that is still collecting the path of where it happened. */
export class PathError extends DecodeError {
  /** Path segments, innermost first. */
  readonly segments: string[] = [];
  constructor(readonly detail: string) {
    super(detail);
  }
}

export function fail(detail: string): never {
  throw new PathError(detail);
}

/** Wraps errors from the wire reader and the runtime that mean "bad input"; rethrows anything else (a bug). */
function asPathError(e: unknown): PathError {
  if (e instanceof PathError) return e;
  if (e instanceof DecodeError) return new PathError(e.message);
  // A nesting the limits did not catch (maxDepth set very high) can exhaust the stack.
  // V8 reports that as a RangeError, or as a SyntaxError if it happens while compiling
  // a regular expression.
  if (e instanceof Error && e.message.includes("Maximum call stack size exceeded")) {
    return new PathError("input nested too deeply");
  }
  if (e instanceof RangeError) {
    // @bufbuild/protobuf reports reads past the end as RangeError("premature EOF").
    if (e.message === "premature EOF") return new PathError("unexpected end of input");
    return new PathError(e.message);
  }
  // @bufbuild/protobuf's BinaryReader throws plain Errors for malformed varints, tags and groups.
  if (e instanceof Error && e.constructor === Error) return new PathError(e.message);
  throw e;
}

/** Adds a path segment (`name` or `name[index]`) to an unwinding decode error and rethrows it. */
export function rethrowAt(e: unknown, name: string, index?: number): never {
  const pe = asPathError(e);
  pe.segments.push(index === undefined ? name : `${name}[${index}]`);
  throw pe;
}

/** Turns an unwinding decode error into the public DecodeError, message prefixed by its path. */
export function rethrowFinal(e: unknown, root?: string): never {
  const pe = asPathError(e);
  if (root !== undefined) pe.segments.push(root);
  const path = pe.segments.reverse().join(".");
  throw new DecodeError(path === "" ? pe.detail : `${path}: ${pe.detail}`);
}

/** Accepts a partial limits object; missing or invalid entries fall back to the defaults. */
export function resolveLimits(limits?: Partial<DecodeLimits>): DecodeLimits {
  if (limits === undefined || limits === DefaultDecodeLimits) return DefaultDecodeLimits;
  return {
    maxDepth: pick(limits.maxDepth, DefaultDecodeLimits.maxDepth),
    maxRepeated: pick(limits.maxRepeated, DefaultDecodeLimits.maxRepeated),
    maxAttributes: pick(limits.maxAttributes, DefaultDecodeLimits.maxAttributes),
    maxStringBytes: pick(limits.maxStringBytes, DefaultDecodeLimits.maxStringBytes),
  };
}

function pick(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isInteger(v) && v >= 0 ? v : dflt;
}
