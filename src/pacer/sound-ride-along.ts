/** How early a sound packet may leave with the picture's batch: a bit more than the pacer's wake-up spacing (its 2 ms tick, and a late timer). */
export const RIDE_EARLY_MS = 4;

interface Waiting {
  datagrams: Uint8Array[];
  dueMs: number;
  taken: () => void;
}

/**
 * The sound packet waiting for its due time, which the picture's pacer
 * takes along when it sends a batch shortly before it.
 *
 * While a frame is spread, the pacer wakes every couple of ms; the sound
 * goes every 20 ms. On its own timer each sound packet is a wake-up of its
 * own on both machines (a sender's timer, a receiver's socket), 50 a
 * second; taken along in the same socket call as the picture's batch it
 * costs neither. It only ever leaves earlier than due (a few ms, which the
 * receiver's jitter buffer takes in), never later: when no batch comes in
 * time, its own timer sends it. Pure: the caller passes the clock.
 */
export class SoundRideAlong {
  private waiting: Waiting | undefined;
  /** Packets a batch took along (the rest went on their own timer). */
  takenAlong = 0;

  constructor(private readonly earlyMs = RIDE_EARLY_MS) {}

  /** Holds `datagrams` (due at `dueMs`); `taken` is called if a batch takes them along. One packet waits at a time. */
  hold(datagrams: Uint8Array[], dueMs: number, taken: () => void): void {
    if (this.waiting) throw new Error("a sound packet is already waiting");
    this.waiting = { datagrams, dueMs, taken };
  }

  /** For a batch sent at `nowMs`: the waiting sound's datagrams if they are due within earlyMs (now no longer waiting), else undefined. */
  take(nowMs: number): Uint8Array[] | undefined {
    const waiting = this.waiting;
    if (!waiting || waiting.dueMs - nowMs > this.earlyMs) return undefined;
    this.waiting = undefined;
    this.takenAlong++;
    waiting.taken();
    return waiting.datagrams;
  }

  /** Its due time came with no batch: the waiting datagrams, for the sound's own send (undefined if a batch took them). */
  release(): Uint8Array[] | undefined {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting?.datagrams;
  }
}
