import { forward32, isNewer32 } from "../protocol/serial-number.ts";

/** Frame numbers skipped are counted up to this at once: a forged jump cannot make the count meaningless. */
const MAX_MISSING_AT_ONCE = 1_000_000;

/**
 * The order chunks arrive in, for the counters: a chunk behind one sent
 * after it was reordered on the way; frame numbers jumped over entirely
 * (not one chunk came) are missing. Knows the newest frame seen, whose
 * arrival makes older frames' missing chunks certain losses.
 */
export class ArrivalOrder {
  private last: { frame: number; position: number } | undefined;
  private newest: number | undefined;

  /** A chunk of frame `frameNumber` at send position `position` arrived: true when it was reordered (behind one sent after it). */
  reordered(frameNumber: number, position: number): boolean {
    const last = this.last;
    const behind = last !== undefined && (isNewer32(last.frame, frameNumber) || (last.frame === frameNumber && position < last.position));
    if (!behind) this.last = { frame: frameNumber, position };
    return behind;
  }

  /** The first chunk of frame `frameNumber` arrived: how many frame numbers it jumped over (0 unless newer than any seen). */
  framesJumped(frameNumber: number): number {
    const ahead = this.newest === undefined ? 1 : forward32(frameNumber, this.newest);
    if (ahead === undefined || ahead === 0) return 0;
    this.newest = frameNumber;
    return Math.min(MAX_MISSING_AT_ONCE, ahead - 1);
  }

  get newestFrame(): number | undefined {
    return this.newest;
  }

  /** A new stream: its numbers start afresh. */
  reset(): void {
    this.last = undefined;
    this.newest = undefined;
  }
}
