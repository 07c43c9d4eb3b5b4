/*
 * The order a frame's chunks go out in: data in index order, with the
 * parity chunks spread evenly among them (parity p right after data chunk
 * ceil((p+1)·k / parityCount) − 1), so a burst of loss takes some data and
 * some parity instead of all the parity at the end. A receiver computes the
 * same positions to tell reordering from loss.
 */

/** Position of a chunk in its frame's send order, from 0 to k + parityCount − 1. */
export function sendPosition(dataChunks: number, parityCount: number, parity: boolean, index: number): number {
  if (parityCount === 0) return index;
  if (parity) return Math.ceil(((index + 1) * dataChunks) / parityCount) + index;
  return index + Math.floor((index * parityCount) / dataChunks);
}
