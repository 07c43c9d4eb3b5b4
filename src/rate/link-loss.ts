/*
 * Tells a lossy link from an overfull one, from receiver reports. Loss is
 * judged over windows of at least MIN_WINDOW_DATAGRAMS (and reports): at low rates a report
 * holds a handful of datagrams and its loss share is noise (the cut →
 * fewer datagrams → noisier loss → another cut spiral). The link's own loss
 * is the level windows keep showing; a window well above it counts as
 * congestion only if the stream was sending faster than when that level was
 * last confirmed: loss that rises with the rate is a queue or a policer
 * overflowing, loss that rises at the same rate is the link getting worse,
 * which parity and resends cover. Pure: given counts and rates.
 */

/** Datagrams a loss figure must cover before it counts (at 15% loss, ±2% one standard deviation). */
export const MIN_WINDOW_DATAGRAMS = 300;
/**
 * Reports a window must span too: a receiver counts a frame's datagrams as
 * expected when it starts and as lost when it ends, so one report's figure
 * is lumpy by up to a frame, far more than chance alone would make it.
 */
export const MIN_WINDOW_REPORTS = 3;
/** Excess loss must stand this many standard deviations above the link's own to be more than chance. */
const SIGNIFICANCE = 3;
/** …and this many times the windows' own mean deviation from it: a real link's loss is lumpier than coin flips. */
const DEVIATIONS = 5;
/** The link's own loss is the mean of this many windows before any window can read as excess: one alone is lumpy. */
const SETTLED_WINDOWS = 4;
/** How far one window moves that mean deviation. */
const FOLLOW_DEVIATION = 0.2;
/** …and at least this many points above it. */
const MIN_EXCESS = 0.03;
/** "Sending faster" means at least this much above the rate the link's loss was confirmed at. */
const RATE_RISE = 1.05;
/** How far one window within the link's loss moves it toward what it showed; one above it (the link got worse), less. */
const FOLLOW = 0.3;
const FOLLOW_WORSE = 0.15;
/** The link's loss level is taken as known from at most this many datagrams: it must be able to move. */
const MAX_OWN_DATAGRAMS = 3000;

export type LossVerdict =
  /** Not enough datagrams yet to judge. */
  | "pending"
  /** Within what the link loses on its own. */
  | "link"
  /** Above it, while sending no faster: the link got lossier. */
  | "link-worse"
  /** Above it in two windows in a row, risen with the sending rate: the stream is too fast. */
  | "congestion";

export class LinkLoss {
  private expected = 0;
  private lost = 0;
  private rateSumBps = 0;
  private rateSamples = 0;
  private reports = 0;
  /** Mean deviation of the windows within the link's loss from it (0–1): how lumpy this link's loss figures are. */
  private deviation = 0;
  /** The link's own loss share; undefined until the first full window. */
  private own: number | undefined;
  /** Datagrams behind that level (for its uncertainty), capped: it follows the link. */
  private ownDatagrams = 0;
  /** The sending rate when that loss level was last confirmed, bits/s. */
  private confirmedAtBps = 0;
  /** Windows the link's loss was learnt from, up to SETTLED_WINDOWS, and what they held. */
  private windows = 0;
  private readonly learning = { expected: 0, lost: 0 };
  /** The previous window was already above the link's loss with the rate risen: one window alone may be chance. */
  private risingBefore = false;
  /** The latest full window's loss share. */
  latest: number | undefined;

  /** The link's own loss, 0–1 (0 while unknown). */
  get ownLoss(): number {
    return this.own ?? 0;
  }

  get known(): boolean {
    return this.own !== undefined;
  }

  /** One report's counts: `expected` datagrams announced, `lost` of them missing, while the stream sent `sendBps`. */
  add(expected: number, lost: number, sendBps: number): LossVerdict {
    this.expected += expected;
    this.lost += lost;
    this.rateSumBps += sendBps * expected;
    this.rateSamples += expected;
    this.reports++;
    if (this.expected < MIN_WINDOW_DATAGRAMS || this.reports < MIN_WINDOW_REPORTS) return "pending";
    const loss = this.lost / this.expected;
    const rateBps = this.rateSamples > 0 ? this.rateSumBps / this.rateSamples : sendBps;
    const n = this.expected;
    this.expected = this.lost = this.rateSumBps = this.rateSamples = this.reports = 0;
    this.latest = loss;
    // Learning: the link's loss is the mean of the first windows, each lumpy; nothing yet counts as excess.
    if (this.windows < SETTLED_WINDOWS) {
      this.windows++;
      this.learning.expected += n;
      this.learning.lost += loss * n;
      const mean = this.learning.lost / this.learning.expected;
      if (this.own !== undefined) this.deviation += (Math.abs(loss - mean) - this.deviation) / this.windows;
      this.own = mean;
      this.ownDatagrams = Math.min(MAX_OWN_DATAGRAMS, this.learning.expected);
      this.confirmedAtBps = rateBps;
      return "link";
    }
    const own = this.own ?? 0;
    // Both figures are estimates: the spread of their difference counts both sample sizes.
    const pooled = Math.max(0.01, (own + loss) / 2);
    const spread = Math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / this.ownDatagrams));
    const margin = Math.max(MIN_EXCESS, SIGNIFICANCE * spread, DEVIATIONS * this.deviation);
    if (loss <= own + margin) {
      this.deviation += FOLLOW_DEVIATION * (Math.abs(loss - own) - this.deviation);
      // Evenly either way within the noise: an uneven follow would sit off the link's mean.
      this.own = own + FOLLOW * (loss - own);
      this.ownDatagrams = Math.min(MAX_OWN_DATAGRAMS, this.ownDatagrams + n);
      this.confirmedAtBps = rateBps;
      this.risingBefore = false;
      return "link";
    }
    if (rateBps > 0 && rateBps >= RATE_RISE * this.confirmedAtBps) {
      const confirmed = this.risingBefore;
      this.risingBefore = true;
      return confirmed ? "congestion" : "pending";
    }
    this.risingBefore = false;
    this.deviation += FOLLOW_DEVIATION * (Math.abs(loss - own) - this.deviation);
    this.own = own + FOLLOW_WORSE * (loss - own);
    return "link-worse";
  }
}
