import { isNewer32 } from "../protocol/serial-number.ts";
import type { NackEntry } from "../protocol/feedback-nack.ts";

/** What the planner needs to know of a frame being collected (FrameArrivals has it). */
export interface FrameInProgress {
  readonly frameNumber: number;
  readonly firstSeenMs: number;
  readonly lastArrivalMs: number;
  readonly highestPosition: number;
  readonly layout: { readonly groups: number };
  shortfall(group: number): number;
  missingPositions(group: number): number[];
}

export interface NackPlannerOptions {
  /** How long a frame must have been quiet (no newer frame begun) before its missing tail counts as lost: longer than the pacer's gaps within a frame. */
  tailGraceMs: number;
  /** Never ask for one chunk more often than this, however short the RTT. */
  minRetryMs: number;
}

const DEFAULTS: NackPlannerOptions = { tailGraceMs: 30, minRetryMs: 10 };
/** Asks remembered per chunk; old frames' entries go when their frame does. */
const MAX_REMEMBERED_ASKS = 16384;

interface Ask {
  firstMs: number;
  lastMs: number;
  times: number;
}

/**
 * Decides, given the time, which chunks a receiver asks the sender for again.
 * Only what parity cannot rebuild: for each FEC group, as many missing chunks
 * as it is short, counting the group's chunks not yet due as still to come
 * (data first). Only chunks surely lost: sent before one that arrived, or,
 * for a frame's tail, once a newer frame began or the frame has been quiet
 * for a while. Asked again after about one RTT, and
 * never once an answer could no longer arrive before the frame's deadline.
 * Pure: no sockets, no clock of its own.
 */
export class NackPlanner {
  private readonly asks = new Map<string, Ask>();
  private readonly options: NackPlannerOptions;
  readonly stats = { chunksAsked: 0, chunksAskedAgain: 0, chunksAnswered: 0 };

  constructor(options: Partial<NackPlannerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * The chunks to ask for now. `holdMs` is how long a frame may wait for
   * repair after it was first seen; `rttMs` the round trip an answer takes.
   */
  plan(frames: Iterable<FrameInProgress>, newestFrame: number | undefined, nowMs: number, rttMs: number, holdMs: number): NackEntry[] {
    const entries: NackEntry[] = [];
    const retryMs = Math.max(this.options.minRetryMs, 1.25 * rttMs);
    for (const frame of frames) {
      if (nowMs + rttMs > frame.firstSeenMs + holdMs) continue; // an answer would come too late to help
      const overtaken = newestFrame !== undefined && isNewer32(newestFrame, frame.frameNumber);
      const settled = overtaken || nowMs - frame.lastArrivalMs >= this.options.tailGraceMs;
      const positions: number[] = [];
      for (let group = 0; group < frame.layout.groups; group++) {
        const shortfall = frame.shortfall(group);
        if (shortfall === 0) continue;
        const missing = frame.missingPositions(group);
        // Chunks sent after the latest that arrived may simply not be here yet: they count as coming.
        const lost = settled ? missing : missing.filter((position) => position < frame.highestPosition);
        let need = shortfall - (missing.length - lost.length);
        for (const position of lost) {
          if (need <= 0) break;
          need--;
          const key = `${frame.frameNumber}:${position}`;
          const ask = this.asks.get(key);
          if (ask && nowMs - ask.lastMs < retryMs) continue;
          if (ask) {
            ask.lastMs = nowMs;
            ask.times++;
            this.stats.chunksAskedAgain++;
          } else {
            this.remember(key, { firstMs: nowMs, lastMs: nowMs, times: 1 });
            this.stats.chunksAsked++;
          }
          positions.push(position);
        }
      }
      if (positions.length > 0) entries.push({ frameNumber: frame.frameNumber, positions });
    }
    return entries;
  }

  /**
   * A chunk arrived. Undefined if it was never asked for; else an answer, with
   * a round-trip sample if it was asked for exactly once (Karn's rule: an
   * answer to a repeated ask is ambiguous).
   */
  arrived(frameNumber: number, position: number, nowMs: number): { rttMs: number | undefined } | undefined {
    if (this.asks.size === 0) return undefined; // the usual case, per datagram: nothing asked, no key to build
    const key = `${frameNumber}:${position}`;
    const ask = this.asks.get(key);
    if (!ask) return undefined;
    this.asks.delete(key);
    this.stats.chunksAnswered++;
    return { rttMs: ask.times === 1 ? nowMs - ask.firstMs : undefined };
  }

  /** Forgets the asks for frames no longer being collected. */
  forgetAllBut(frameNumbers: Set<number>): void {
    for (const key of this.asks.keys()) {
      if (!frameNumbers.has(Number(key.slice(0, key.indexOf(":"))))) this.asks.delete(key);
    }
  }

  private remember(key: string, ask: Ask): void {
    if (this.asks.size >= MAX_REMEMBERED_ASKS) this.asks.delete(this.asks.keys().next().value!);
    this.asks.set(key, ask);
  }
}
