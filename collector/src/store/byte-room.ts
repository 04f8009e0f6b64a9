// Packed histograms change size a little with every point. Giving each new
// version a buffer of its own costs an off-heap allocation (and its later
// release) per point, about as much as the packing itself; instead a series
// keeps one buffer with a little room to spare and rewrites it in place.

/** Spare room given to a new buffer: an eighth of what it holds. */
export function withRoom(length: number): Uint8Array {
  return new Uint8Array(length + (length >> 3) + 8);
}

/**
 * `bytes` copied into the buffer behind `old` (a view at its start) when it
 * has room, else into a new buffer with room; returns the view of exactly
 * `bytes.length` bytes that now holds them.
 */
export function rewriteBytes(old: Uint8Array | undefined, bytes: Uint8Array): Uint8Array {
  const into =
    old !== undefined && old.byteOffset === 0 && old.buffer.byteLength >= bytes.length
      ? new Uint8Array(old.buffer, 0, bytes.length)
      : withRoom(bytes.length).subarray(0, bytes.length);
  into.set(bytes);
  return into;
}
