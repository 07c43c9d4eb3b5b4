import { seededRandom } from "../util/random.ts";
import { Bottleneck, DEFAULT_QUEUE_MS, type RateStep } from "./bottleneck.ts";

/*
 * A user-space network emulator's decisions, pure and deterministic for a
 * seed: for each datagram it returns when its copies leave (none when it is
 * lost). Kernel netem does the same in Linux, but is missing here and does
 * not exist on macOS or Windows.
 */
export interface ImpairmentOptions {
  /** Independent loss probability per IP fragment, 0–1. */
  loss: number;
  /** Gilbert–Elliott burst loss: average loss rate (0–1) and mean burst length in fragments. */
  burstLoss?: { rate: number; meanLength: number };
  /** Probability that a datagram is held back so later ones overtake it. */
  reorder: number;
  /** Probability that a datagram is delivered twice. */
  duplicate: number;
  /** Fixed one-way delay. */
  delayMs: number;
  /** Extra delay drawn uniformly from 0 … jitter (may reorder, as in netem). */
  jitterMs: number;
  /** Bottleneck rates over time (undefined: unlimited); a full queue drops. */
  rate?: RateStep[];
  /** The bottleneck's drop-tail queue, in ms of sending at the rate of the moment. */
  queueMs?: number;
  /** Path MTU: datagrams larger than MTU − 28 travel as several IP fragments. */
  mtu: number;
  seed: number;
}

export const DEFAULT_IMPAIRMENT: ImpairmentOptions = { loss: 0, reorder: 0, duplicate: 0, delayMs: 0, jitterMs: 0, mtu: 1500, seed: 1 };

/** How long a reordered datagram is held back beyond the others. */
export const REORDER_HOLD_MS = 4;

/** IP fragments a UDP datagram of `size` payload bytes needs on a path of `mtu`: ceil((S + 8) / (MTU − 20)). */
export function fragmentsFor(size: number, mtu: number): number {
  return Math.max(1, Math.ceil((size + 8) / (mtu - 20)));
}

export class Impairment {
  private readonly random: () => number;
  private readonly options: ImpairmentOptions;
  private bad = false;
  private readonly bottleneck: Bottleneck | undefined;

  readonly stats = {
    datagramsIn: 0,
    bytesIn: 0,
    fragments: 0,
    fragmentsLost: 0,
    datagramsLost: 0,
    datagramsQueueDropped: 0,
    datagramsReordered: 0,
    datagramsDuplicated: 0,
    datagramsOut: 0,
    bytesOut: 0,
  };

  constructor(options: Partial<ImpairmentOptions> = {}) {
    this.options = { ...DEFAULT_IMPAIRMENT, ...options };
    const { loss, reorder, duplicate, burstLoss, mtu } = this.options;
    for (const [name, p] of [
      ["loss", loss],
      ["reorder", reorder],
      ["duplicate", duplicate],
      ["burst loss rate", burstLoss?.rate ?? 0],
    ] as const) {
      if (!(p >= 0 && p < 1)) throw new RangeError(`${name} must be a probability from 0 to below 1, got ${p}`);
    }
    if (burstLoss && !(burstLoss.meanLength >= 1)) throw new RangeError(`mean burst length must be at least 1, got ${burstLoss.meanLength}`);
    if (!(mtu >= 68)) throw new RangeError(`MTU must be at least 68, got ${mtu}`);
    this.random = seededRandom(this.options.seed);
    if (this.options.rate) this.bottleneck = new Bottleneck(this.options.rate, this.options.queueMs ?? DEFAULT_QUEUE_MS);
  }

  /** Departure times (ms) for the copies of a datagram of `size` bytes arriving at `nowMs`; empty when lost. */
  process(size: number, nowMs: number): number[] {
    this.stats.datagramsIn++;
    this.stats.bytesIn += size;
    if (this.lost(size)) {
      this.stats.datagramsLost++;
      return [];
    }
    let departure = nowMs + this.options.delayMs + this.random() * this.options.jitterMs;
    if (this.bottleneck) {
      // Each IP fragment carries its own 20-byte IP header over the link.
      const leavesMs = this.bottleneck.admit(size + 8 + 20 * fragmentsFor(size, this.options.mtu), nowMs);
      if (leavesMs === undefined) {
        this.stats.datagramsQueueDropped++;
        return [];
      }
      departure += leavesMs - nowMs;
    }
    if (this.random() < this.options.reorder) {
      departure += REORDER_HOLD_MS;
      this.stats.datagramsReordered++;
    }
    const departures = [departure];
    if (this.random() < this.options.duplicate) {
      departures.push(departure + 0.1);
      this.stats.datagramsDuplicated++;
    }
    this.stats.datagramsOut += departures.length;
    this.stats.bytesOut += departures.length * size;
    return departures;
  }

  /** A datagram is lost if any one of its fragments is (each drawn from the loss models). */
  private lost(size: number): boolean {
    const fragments = fragmentsFor(size, this.options.mtu);
    let lost = false;
    for (let f = 0; f < fragments; f++) {
      this.stats.fragments++;
      if (this.fragmentLost()) {
        this.stats.fragmentsLost++;
        lost = true;
      }
    }
    return lost;
  }

  private fragmentLost(): boolean {
    let lost = this.random() < this.options.loss;
    const burst = this.options.burstLoss;
    if (burst) {
      // Gilbert–Elliott: Bad loses everything; leave Bad with p = 1/LEN; enter it with q so that q/(q+p) = rate.
      const leave = 1 / burst.meanLength;
      const enter = (burst.rate * leave) / (1 - burst.rate);
      this.bad = this.bad ? this.random() >= leave : this.random() < enter;
      lost ||= this.bad;
    }
    return lost;
  }
}
