import { forward32 } from "../protocol/serial-number.ts";

export interface AudioNackPlannerOptions {
  /** Never ask for one packet more often than this, however short the round trip. */
  minRetryMs: number;
}

const DEFAULTS: AudioNackPlannerOptions = { minRetryMs: 10 };
/** Missing packets remembered at once: 5 s of 20 ms packets, far past any deadline; a forged jump in sequence numbers costs no more. */
const MAX_MISSING = 256;

interface Missing {
  noticedMs: number;
  /** When last asked for (undefined: not yet). */
  askedMs: number | undefined;
  times: number;
}

/**
 * Which sound packets a receiver asks the sender for again, pure and given
 * the time. A packet is missing once a later one (or a group's parity,
 * which says how many its group holds) has arrived; asked for at once (on
 * a LAN the answer comes long before the group's parity could rebuild it),
 * again after about a round trip, and no more once an answer could not
 * come within `holdMs` of noticing: the sound would have played by then.
 */
export class AudioNackPlanner {
  private readonly options: AudioNackPlannerOptions;
  /** The newest sequence number known to have been sent. */
  private highest: number | undefined;
  private readonly missing = new Map<number, Missing>();
  readonly stats = { packetsAsked: 0, packetsAskedAgain: 0, packetsAnswered: 0 };

  constructor(options: Partial<AudioNackPlannerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** A new stream: nothing of the old one is asked for. */
  reset(): void {
    this.highest = undefined;
    this.missing.clear();
  }

  /** Data packets up to `sequence` have been sent (a data packet's own number, or the last a parity packet's group holds). */
  sentUpTo(sequence: number, nowMs: number): void {
    sequence >>>= 0;
    if (this.highest === undefined) {
      this.highest = sequence;
      return;
    }
    const ahead = forward32(sequence, this.highest);
    if (ahead === undefined || ahead === 0) return;
    // Only the latest MAX_MISSING of a long gap can matter (older ones are past their time).
    for (let n = Math.max(1, ahead - MAX_MISSING + 1); n < ahead; n++) this.notice((this.highest + n) >>> 0, nowMs);
    this.highest = sequence;
  }

  /**
   * Packet `sequence` is here (arrived, resent or rebuilt). Returns whether
   * it had been asked for, with a round-trip sample when asked exactly once
   * (Karn's rule).
   */
  arrived(sequence: number, nowMs: number): { answered: boolean; rttMs?: number } {
    sequence >>>= 0;
    const entry = this.missing.size > 0 ? this.missing.get(sequence) : undefined;
    if (!entry) return { answered: false };
    this.missing.delete(sequence);
    if (entry.askedMs === undefined) return { answered: false };
    this.stats.packetsAnswered++;
    return { answered: true, rttMs: entry.times === 1 ? nowMs - entry.askedMs : undefined };
  }

  /** The packets to ask for now, given the round trip and how long after noticing an answer still helps. */
  plan(nowMs: number, rttMs: number, holdMs: number): number[] {
    const retryMs = Math.max(this.options.minRetryMs, 1.25 * rttMs);
    const ask: number[] = [];
    for (const [sequence, entry] of this.missing) {
      if (nowMs + rttMs > entry.noticedMs + holdMs) {
        this.missing.delete(sequence); // an answer would come too late: concealed
        continue;
      }
      if (entry.askedMs !== undefined && nowMs - entry.askedMs < retryMs) continue;
      if (entry.askedMs === undefined) this.stats.packetsAsked++;
      else this.stats.packetsAskedAgain++;
      entry.askedMs = nowMs;
      entry.times++;
      ask.push(sequence);
    }
    return ask;
  }

  /** Packets missing now (bounded by MAX_MISSING). */
  get missingCount(): number {
    return this.missing.size;
  }

  private notice(sequence: number, nowMs: number): void {
    if (this.missing.has(sequence)) return;
    if (this.missing.size >= MAX_MISSING) this.missing.delete(this.missing.keys().next().value!);
    this.missing.set(sequence, { noticedMs: nowMs, askedMs: undefined, times: 0 });
  }
}
