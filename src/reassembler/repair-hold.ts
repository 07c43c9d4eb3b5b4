import { isNewer32 } from "../protocol/serial-number.ts";

/**
 * Frames collected at once for a repair hold of `holdMs`: `least` without
 * one; with one, a hold's worth at 60 fps and some slack (a frame still
 * waiting for repair must not be evicted by the newer ones behind it).
 */
export function framesInFlightFor(holdMs: number, least: number): number {
  return holdMs > 0 ? Math.max(least, Math.ceil(holdMs / 16) + 2) : least;
}

/** What the hold needs to know of a frame still being collected. */
export interface FrameInRepair {
  readonly frameNumber: number;
  readonly firstSeenMs: number;
}

/**
 * The hold-for-repair queue and the completion policy that goes with it.
 * With a return path (holdMs > 0) a complete frame waits, in frame order,
 * while an older one may still be repaired (first seen less than holdMs
 * ago); then frames go out oldest first. Without one (holdMs 0) a complete
 * frame goes out at once, and older incomplete ones are given up.
 */
export class RepairHold<F extends { frameNumber: number }> {
  /** Complete frames held back, oldest first, with the bytes each holds. */
  private readonly held: { frame: F; bytes: number }[] = [];
  private heldBytes = 0;

  constructor(public holdMs: number) {}

  get holding(): boolean {
    return this.holdMs > 0;
  }

  /** Bytes of the frames held. */
  get bytes(): number {
    return this.heldBytes;
  }

  has(frameNumber: number): boolean {
    return this.held.some((h) => h.frame.frameNumber === frameNumber);
  }

  /**
   * Of frames FEC (or the last chunk) can finish, the ones to finish now,
   * oldest first: every one while holding (they go out in order), else only
   * the newest (it would overtake the others anyway).
   */
  toFinish<C extends { frameNumber: number }>(candidates: Iterable<C>): C[] {
    const sorted = [...candidates].sort((a, b) => (isNewer32(a.frameNumber, b.frameNumber) ? 1 : -1));
    return this.holding ? sorted : sorted.slice(-1);
  }

  /** A complete frame, holding `bytes`, waits its turn. */
  hold(frame: F, bytes: number): void {
    const at = this.held.findIndex((h) => isNewer32(h.frame.frameNumber, frame.frameNumber));
    this.held.splice(at < 0 ? this.held.length : at, 0, { frame, bytes });
    this.heldBytes += bytes;
  }

  /**
   * The held frames whose turn has come at `nowMs`, oldest first: each goes
   * once no older frame in `collecting` may still be repaired. (nowMs
   * Infinity: all of them, the stream being over.)
   */
  release(nowMs: number, collecting: () => Iterable<FrameInRepair>): F[] {
    const out: F[] = [];
    while (this.held.length > 0) {
      const head = this.held[0]!;
      for (const p of collecting()) if (isNewer32(head.frame.frameNumber, p.frameNumber) && nowMs - p.firstSeenMs < this.holdMs) return out;
      this.held.shift();
      this.heldBytes -= head.bytes;
      out.push(head.frame);
    }
    return out;
  }
}
