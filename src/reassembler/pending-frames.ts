import { isNewer32 } from "../protocol/serial-number.ts";

/** A frame being collected, as the memory caps see it: its number (32-bit, wrapping) and the bytes charged for it. */
export interface PendingFrame {
  readonly key: number;
  chargedBytes: number;
}

export interface PendingFramesLimits {
  /** Frames collected at once; a new one beyond this evicts the oldest. */
  maxFrames: number;
  /** Bytes charged across all of them. */
  maxBytes: number;
}

/**
 * The frames a reassembler is still collecting, within two memory caps (a
 * frame count and a byte total), keyed by a 32-bit number compared as a
 * serial number (a v2 frame number, an RTP timestamp). Whatever the network
 * sends, what is held stays bounded: a new frame evicts the oldest, and a
 * chunk that would pass the byte cap evicts older frames or is refused.
 * Every frame dropped unfinished is reported to `onDrop` (a count).
 */
export class PendingFrames<F extends PendingFrame> {
  private readonly frames = new Map<number, F>();
  private charged = 0;

  constructor(
    private limits: PendingFramesLimits,
    private readonly onDrop: (frame: F) => void,
  ) {}

  /** The frame cap may change (it follows the repair hold); the next new frame evicts down to it. */
  set maxFrames(n: number) {
    this.limits = { ...this.limits, maxFrames: n };
  }

  get maxFrames(): number {
    return this.limits.maxFrames;
  }

  get(key: number): F | undefined {
    return this.frames.get(key);
  }

  get size(): number {
    return this.frames.size;
  }

  /** Bytes charged for every frame held. */
  get bytes(): number {
    return this.charged;
  }

  /** Whether a new frame would evict one. */
  get full(): boolean {
    return this.frames.size >= this.limits.maxFrames;
  }

  values(): IterableIterator<F> {
    return this.frames.values();
  }

  /** A new frame, after evicting the oldest while at the frame cap. */
  add(frame: F): F {
    while (this.full && this.frames.size > 0) this.drop(this.oldest()!);
    this.frames.set(frame.key, frame);
    this.charged += frame.chargedBytes;
    return frame;
  }

  /**
   * A new frame unless it is older than every frame held while they fill
   * the cap (it could only evict a newer one, and would be shown out of
   * order): then undefined, nothing changed.
   */
  admit(frame: F): F | undefined {
    const oldest = this.full ? this.oldest() : undefined;
    if (oldest && isNewer32(oldest.key, frame.key)) return undefined;
    return this.add(frame);
  }

  /**
   * Charges `cost` more bytes to `frame` (already added), with `heldElsewhere`
   * bytes (finished frames not yet handed on) counting against the cap too:
   * older frames are evicted to make room; false (nothing charged) when even
   * alone it would not fit.
   */
  charge(frame: F, cost: number, heldElsewhere = 0): boolean {
    const over = () => heldElsewhere + this.charged + cost > this.limits.maxBytes;
    while (over() && this.frames.size > 1) {
      const oldest = this.oldest(frame);
      if (!oldest) break;
      this.drop(oldest);
    }
    if (over()) return false;
    frame.chargedBytes += cost;
    this.charged += cost;
    return true;
  }

  /** The frame is finished (handed on): it leaves, uncounted. */
  remove(frame: F): void {
    if (this.frames.get(frame.key) !== frame) return;
    this.frames.delete(frame.key);
    this.charged -= frame.chargedBytes;
  }

  /** The frame is given up unfinished: it leaves, counted. */
  drop(frame: F): void {
    if (this.frames.get(frame.key) !== frame) return;
    this.remove(frame);
    this.onDrop(frame);
  }

  /** Gives up every frame `predicate` picks. */
  dropWhere(predicate: (frame: F) => boolean): void {
    for (const frame of [...this.frames.values()]) if (predicate(frame)) this.drop(frame);
  }

  /** The oldest frame held (but `except`), in serial-number order. */
  oldest(except?: F): F | undefined {
    let oldest: F | undefined;
    for (const frame of this.frames.values()) if (frame !== except && (!oldest || isNewer32(oldest.key, frame.key))) oldest = frame;
    return oldest;
  }
}
