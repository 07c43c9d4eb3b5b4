/*
 * A bottleneck link with a drop-tail queue, as a fluid model: the link sends
 * at the rate its schedule gives for each moment, what arrives faster waits in
 * the queue, and a datagram that finds more queued ahead of it than the link
 * can send in `queueMs` (at the rate of that moment) is dropped. Pure: given
 * the time, no clock of its own. The schedule's times count from the first
 * datagram, so a run repeats however long its peers took to start.
 */

/** From `fromMs` (after the first datagram) on, the link carries `mbit` Mbit/s. */
export interface RateStep {
  fromMs: number;
  mbit: number;
}

export const DEFAULT_QUEUE_MS = 200;

/**
 * Parses a rate or a schedule of rates: "8" (fixed), or "25,6@3s,25@7s"
 * (25 Mbit/s, 6 from 3 s, 25 again from 7 s; times in s or ms, ascending).
 */
export function parseRateSchedule(text: string): RateStep[] {
  const steps: RateStep[] = [];
  for (const [i, part] of text.split(",").entries()) {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(?:@\s*(\d+(?:\.\d+)?)\s*(ms|s))?\s*$/.exec(part);
    if (!match) throw new RangeError(`"${part}" is not MBIT or MBIT@TIME (e.g. 6@3s or 6@2500ms)`);
    const mbit = Number(match[1]);
    if (!(mbit >= 0.01 && mbit <= 100_000)) throw new RangeError(`a rate must be 0.01 to 100000 Mbit/s, got ${match[1]}`);
    if (i === 0 && match[2] !== undefined && Number(match[2]) !== 0) throw new RangeError(`the first rate holds from the start: write it without @, got "${part}"`);
    if (i > 0 && match[2] === undefined) throw new RangeError(`every rate after the first needs @TIME, got "${part}"`);
    const fromMs = match[2] === undefined ? 0 : Number(match[2]) * (match[3] === "s" ? 1000 : 1);
    if (i > 0 && fromMs <= steps[i - 1]!.fromMs) throw new RangeError(`times must increase: "${part}" comes after ${steps[i - 1]!.fromMs} ms`);
    steps.push({ fromMs, mbit });
  }
  return steps;
}

export class Bottleneck {
  private originMs: number | undefined;
  /** Bits waiting or being sent, as of `lastMs`. */
  private backlogBits = 0;
  private lastMs = 0;
  readonly stats = { datagramsDropped: 0, bytesDropped: 0, maxQueueMs: 0 };

  constructor(
    private readonly schedule: readonly RateStep[],
    private readonly queueMs = DEFAULT_QUEUE_MS,
  ) {
    if (schedule.length === 0 || schedule[0]!.fromMs !== 0) throw new RangeError("a rate schedule starts with the rate at time 0");
    if (!(queueMs >= 0)) throw new RangeError(`queue must be 0 ms or more, got ${queueMs}`);
  }

  /** The link's rate in Mbit/s (= bits per µs = kbit per ms) at `nowMs`. */
  rateAt(nowMs: number): number {
    return this.schedule[this.stepAt(this.sinceOrigin(nowMs))]!.mbit;
  }

  /** When the last bit of a datagram of `bytes` arriving at `nowMs` leaves the link; undefined when the queue drops it. */
  admit(bytes: number, nowMs: number): number | undefined {
    this.originMs ??= nowMs;
    this.drainUntil(nowMs);
    const waitMs = this.backlogBits / (1000 * this.rateAt(nowMs));
    if (waitMs > this.queueMs) {
      this.stats.datagramsDropped++;
      this.stats.bytesDropped += bytes;
      return undefined;
    }
    this.stats.maxQueueMs = Math.max(this.stats.maxQueueMs, waitMs);
    this.backlogBits += bytes * 8;
    return nowMs + this.msToSend(this.backlogBits, nowMs);
  }

  private sinceOrigin(nowMs: number): number {
    return this.originMs === undefined ? 0 : nowMs - this.originMs;
  }

  private stepAt(t: number): number {
    let i = 0;
    while (i + 1 < this.schedule.length && this.schedule[i + 1]!.fromMs <= t) i++;
    return i;
  }

  /** Sends what the link could since the last call, step by step through the schedule. */
  private drainUntil(nowMs: number): void {
    let t = this.sinceOrigin(this.lastMs);
    const end = this.sinceOrigin(nowMs);
    this.lastMs = nowMs;
    while (t < end && this.backlogBits > 0) {
      const i = this.stepAt(t);
      const until = Math.min(end, this.schedule[i + 1]?.fromMs ?? Infinity);
      this.backlogBits = Math.max(0, this.backlogBits - (until - t) * 1000 * this.schedule[i]!.mbit);
      t = until;
    }
  }

  /** How long the link takes, from `nowMs`, to send `bits` (rates may change on the way). */
  private msToSend(bits: number, nowMs: number): number {
    const start = this.sinceOrigin(nowMs);
    let t = start;
    for (;;) {
      const i = this.stepAt(t);
      const until = this.schedule[i + 1]?.fromMs ?? Infinity;
      const bitsPerMs = 1000 * this.schedule[i]!.mbit;
      if (bits <= (until - t) * bitsPerMs) return t + bits / bitsPerMs - start;
      bits -= (until - t) * bitsPerMs;
      t = until;
    }
  }
}
