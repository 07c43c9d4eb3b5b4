/*
 * Tells a lossy link from an overfull one, from receiver reports. Loss is
 * judged over windows of at least MIN_WINDOW_DATAGRAMS: at low rates a report
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
/** Excess loss must stand this many standard deviations above the link's own to be more than chance. */
const SIGNIFICANCE = 3;
/** …and at least this many points above it. */
const MIN_EXCESS = 0.03;
/** "Sending faster" means at least this much above the rate the link's loss was confirmed at. */
const RATE_RISE = 1.05;
/** How far one window moves the link's loss toward what it showed. */
const FOLLOW_DOWN = 0.3;
const FOLLOW_UP = 0.15;
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
  /** The link's own loss share; undefined until the first full window. */
  private own: number | undefined;
  /** Datagrams behind that level (for its uncertainty), capped: it follows the link. */
  private ownDatagrams = 0;
  /** The sending rate when that loss level was last confirmed, bits/s. */
  private confirmedAtBps = 0;
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
    if (this.expected < MIN_WINDOW_DATAGRAMS) return "pending";
    const loss = this.lost / this.expected;
    const rateBps = this.rateSamples > 0 ? this.rateSumBps / this.rateSamples : sendBps;
    const n = this.expected;
    this.expected = this.lost = this.rateSumBps = this.rateSamples = 0;
    this.latest = loss;
    if (this.own === undefined) {
      this.own = loss;
      this.ownDatagrams = n;
      this.confirmedAtBps = rateBps;
      return "link";
    }
    const own = this.own;
    // Both figures are estimates: the spread of their difference counts both sample sizes.
    const pooled = Math.max(0.01, (own + loss) / 2);
    const spread = Math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / this.ownDatagrams));
    const margin = Math.max(MIN_EXCESS, SIGNIFICANCE * spread);
    if (loss <= own + margin) {
      this.own = own + (loss < own ? FOLLOW_DOWN : FOLLOW_UP) * (loss - own);
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
    this.own = own + FOLLOW_UP * (loss - own);
    return "link-worse";
  }
}
