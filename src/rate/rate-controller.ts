import type { ReceiverReport } from "../protocol/feedback-report.ts";
import type { ReceiverState } from "../protocol/feedback-receiver-state.ts";
import { RateWindow } from "../util/rate-window.ts";
import { LinkLoss } from "./link-loss.ts";
import { linearTrend } from "../util/linear-trend.ts";
import { ReceiverReports, type ReportTiming } from "../feedback/receiver-reports.ts";
import { forward32 } from "../protocol/serial-number.ts";

/*
 * How many bits per second the path to the receivers can carry, from their
 * reports, in the spirit of WebRTC's GCC (draft-ietf-rmcat-gcc): a queue
 * building (the one-way delay growing), a queue standing (round trips well
 * above the least seen: a full drop-tail queue no longer grows, it drops),
 * or heavy loss means the stream sends
 * more than the bottleneck carries, so the target drops to a little under
 * what is actually arriving; otherwise it climbs, fast while far from the
 * last capacity seen and gently near it, where the next overshoot is likely.
 * Pure: given reports and the time.
 */

export interface RateControllerOptions {
  /** The lowest target: below this a stream is not worth sending (and the climb starts from somewhere). */
  minBps: number;
  /**
   * Where a receiver's estimate starts, doubling every 150 ms while nothing
   * shows congestion (as TCP's slow start): a stream that began far beyond a
   * narrow link would fill its queue and lose its first second.
   */
  startBps: number;
  /** One-way delay growing faster than this (µs per s) is a queue building. */
  overuseTrendUsPerS: number;
  /** Round trips this much above the least seen are a queue standing (full, so no longer growing). */
  standingQueueMs: number;
  /** Congested reports in a row before acting: one late or lossy report is not a trend. */
  congestedReportsToAct: number;
  /**
   * Acted on at once, in one report: loss this far above the link's own, or
   * less than (1 − this) of what the link would deliver of the sending rate
   * arriving. A stream far beyond the link (its start, a sudden drop in
   * capacity), not noise: only reports covering enough datagrams count.
   */
  overwhelmingLoss: number;
  /** After a congestion, the target is this share of what arrives. */
  backoff: number;
  /** Growth per second while far from the last capacity seen. */
  fastGrowthPerS: number;
  /** Growth per second near it, as a share of that capacity. */
  gentleGrowthPerS: number;
  /** A receiver that has not reported for this long no longer steers. */
  staleAfterMs: number;
}

const DEFAULTS: RateControllerOptions = {
  minBps: 250_000,
  startBps: 10_000_000,
  overuseTrendUsPerS: 40_000,
  standingQueueMs: 30,
  congestedReportsToAct: 2,
  overwhelmingLoss: 0.4,
  backoff: 0.87,
  fastGrowthPerS: 1.7,
  gentleGrowthPerS: 0.07,
  staleAfterMs: 3000,
};

/** The arrival rate is smoothed over about this long: a 100 ms report holds only 3 frames. */
const ARRIVAL_SMOOTHING_MS = 300;
/** How long a new stream waits at the start rate for the first report. */
const FIRST_REPORT_GRACE_MS = 1000;
/** While starting, the estimate doubles this often (about every other report) until the first congestion. */
const STARTUP_DOUBLING_MS = 150;
/** The sending rate is measured over this long. */
const SEND_WINDOW_MS = 500;
/** The least round trip over this long is the path's own, without queues. */
const BASE_RTT_WINDOW_MS = 10_000;
/** The current round trip is the least over this long: one sample held up by a busy receiver is not a queue. */
const RECENT_RTT_WINDOW_MS = 300;
const MAX_RTT_SAMPLES = 256;
/** The sender's own lag is followed over this long: the span of the receiver's delay trend. */
const LATENESS_WINDOW_MS = 1000;
/** The stream waits at most this long after its first frame (the probe) for a receiver to say how fast it arrived. */
const PROBE_WAIT_MS = 400;
/** The start goes this far under the probe's delivery rate. */
const PROBE_SHARE = 0.85;
/**
 * A probe that came as fast as it left raises the start at most this many
 * times: a token bucket with a burst allowance larger than the probe lets it
 * through at line rate, and the start doubles on from there anyway.
 */
const PROBE_MAX_RAISE = 4;
/** A probe delivered at under this share of the rate it was sent at was spread out by the path (or a slow reader). */
const PATH_LIMITED = 0.5;
/** A receiver whose oldest undecoded frame waited this long is short of time… */
const BUSY_LAG_MS = 100;
/** …and counts as busy this long after it last said so (or skipped a frame for time). */
const BUSY_HOLD_MS = 1000;
/** A report must cover this many datagrams for its loss or arrival rate to overwhelm at once: fewer is noise. */
const MIN_REPORT_DATAGRAMS = 30;
/** A cut for a queue's signal keeps at least this share of the target. */
const MAX_CUT = 0.5;
/** Reports in a row far beyond the link before acting: a receiver that stalled for a moment reads the same once. */
const OVERWHELMED_REPORTS_TO_ACT = 2;
/** A report's loss overwhelms only over this many datagrams: 30% random loss shows as 50% in one of 30 often enough. */
const MIN_LOSS_REPORT_DATAGRAMS = 100;
/** Before the link's own loss is known, it is taken as this for the overwhelming-loss test. */
const ASSUMED_LINK_LOSS = 0.1;
/** What the path carried is remembered this long (as BBR's windowed maximum of the delivery rate). */
const CARRIED_WINDOW_MS = 10_000;
/** A target below this share of what the path carried recently, with no queue showing, climbs back fast. */
const RECOVER_BELOW = 0.8;
/** …once no report has shown congestion for this long… */
const RECOVER_QUIET_MS = 300;
/** …doubling this often, up to what the path carried. */
const RECOVERY_DOUBLING_MS = 200;
/** At a cut, a path that delivered less than this share of what it was sent (beyond its own loss) could not carry it. */
const CARRIED_ALL = 0.9;

/** The estimate never runs further ahead of what arrives than this (GCC allows 1.5). */
const MAX_AHEAD_OF_ARRIVALS = 1.15;
/** While starting, as far as the doubling goes. */
const STARTUP_AHEAD_OF_ARRIVALS = 1.5;

export type RateState = "unconstrained" | "startup" | "decrease" | "hold" | "increase" | "recover" | "receiver-busy";
/** What decided a cut: the one-way delay growing, round trips standing high, loss that rose with the rate, or a stream far beyond the link. */
export type CutCause = "delay-growing" | "queue-standing" | "loss-rising" | "overwhelmed";

interface Receiver {
  /** Smoothed arrival rate, bits/s. */
  arrivalBps: number | undefined;
  /** The sending rate between its reports, smoothed alike: what the arrivals are measured against. */
  sentBps: number | undefined;
  /** The stream's bytes sent at its last report. */
  sentBytesAtReport: number;
  estimateBps: number;
  congestedInARow: number;
  state: RateState;
  /** The arrival rate at the last congestions: where the link's capacity was (mean and spread, bits/s). */
  capacity: { meanBps: number; deviationBps: number } | undefined;
  /** Round-trip samples from the reports' echoes (ms), newest last. */
  rtts: { atMs: number; ms: number }[];
  /** The link's own loss, told apart from loss that rises with the rate. */
  loss: LinkLoss;
  /** What the path delivered (arrivals, plus what the link itself loses), bits/s, newest last, over CARRIED_WINDOW_MS. */
  carried: { atMs: number; bps: number }[];
  /** When a report last showed congestion. */
  congestedAtMs: number;
  /** Reports in a row that showed the stream far beyond the link: one may be a receiver's busy moment. */
  overwhelmedInARow: number;
  /** The loss share of its latest report (before repair). */
  reportLoss: number;
  /** Until when the receiver counts as short of CPU (its decoder lagging, or skipping frames for time). */
  busyUntilMs: number;
  /** Its cumulative count of frames skipped for time, last heard. */
  skippedForTime: number | undefined;
}

export class RateController {
  private readonly options: RateControllerOptions;
  private readonly receivers: ReceiverReports<Receiver>;
  private readonly sending = new RateWindow<"bytes">(SEND_WINDOW_MS);
  private sentBytes = 0;
  /** How late each recent frame went out after its capture time, ms (as the receiver's delay trend, over about a second). */
  private readonly lateness: { atMs: number; value: number }[] = [];
  private firstAskMs: number | undefined;
  /** What the stream sends, bits/s, over the last half second. */
  private sendBps = 0;
  /** The first frame, sent at once: how fast it left, to tell the path's spreading of it from the sender's own pace. */
  private probe: { sentAtMs: number; sendBps: number } | undefined;
  private probeAnswered = false;
  readonly stats = { decreases: 0, reportsIgnored: 0, busyHolds: 0, probeBps: null as number | null, causes: { "delay-growing": 0, "queue-standing": 0, "loss-rising": 0, overwhelmed: 0 } as Record<CutCause, number> };

  constructor(
    options: Partial<RateControllerOptions> = {},
    /** Never aim above this (send --max-rate), bits/s. */
    private readonly maxBps = Infinity,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.receivers = new ReceiverReports(this.options.staleAfterMs);
  }

  /**
   * The stream sent a frame of `bytes` (one copy: every receiver gets the
   * same), `lateMs` after its capture time: a sender falling behind (its CPU)
   * shows at the receiver as one-way delay growing, and is no queue. The
   * first frame is the probe, sent at once over `durationMs`.
   */
  sent(bytes: number, nowMs: number, lateMs = 0, durationMs = 0): void {
    this.probe ??= { sentAtMs: nowMs, sendBps: durationMs > 0 ? (bytes * 8 * 1000) / durationMs : Infinity };
    this.sentBytes += bytes;
    this.sendBps = this.sending.push(nowMs, { bytes: this.sentBytes }).bytes * 8;
    this.lateness.push({ atMs: nowMs, value: lateMs });
    while (this.lateness.length > MAX_RTT_SAMPLES || (this.lateness.length > 2 && nowMs - this.lateness[0]!.atMs > LATENESS_WINDOW_MS)) this.lateness.shift();
  }

  /** A report from `receiverId` arrived (checked to be newer than its last), with the round trip its echo gave. */
  report(receiverId: number, report: ReceiverReport, { nowMs, rttSampleMs }: ReportTiming): void {
    const { state: receiver, delta } = this.receivers.add(receiverId, report, nowMs, () => ({
      arrivalBps: undefined,
      sentBps: undefined,
      sentBytesAtReport: this.sentBytes,
      estimateBps: this.options.startBps,
      congestedInARow: 0,
      state: "startup",
      capacity: undefined,
      rtts: [],
      loss: new LinkLoss(),
      carried: [],
      congestedAtMs: -Infinity,
      overwhelmedInARow: 0,
      busyUntilMs: -Infinity,
      reportLoss: 0,
      skippedForTime: undefined,
    }));
    if (rttSampleMs !== undefined && rttSampleMs >= 0) {
      receiver.rtts.push({ atMs: nowMs, ms: rttSampleMs });
      while (receiver.rtts.length > MAX_RTT_SAMPLES || nowMs - receiver.rtts[0]!.atMs > BASE_RTT_WINDOW_MS) receiver.rtts.shift();
    }
    this.stats.reportsIgnored = this.receivers.ignored;
    // The first report only starts the receiver; one whose counts make no sense (confused or forged) changes nothing.
    if (!delta) return;
    const { expected, lost, intervalMs } = delta;
    const arrivalBps = report.receiveBytesPerSecond * 8;
    const weight = Math.min(1, intervalMs / ARRIVAL_SMOOTHING_MS);
    receiver.arrivalBps = receiver.arrivalBps === undefined ? arrivalBps : receiver.arrivalBps + weight * (arrivalBps - receiver.arrivalBps);
    const intervalSentBps = ((this.sentBytes - receiver.sentBytesAtReport) * 8 * 1000) / intervalMs;
    receiver.sentBytesAtReport = this.sentBytes;
    receiver.sentBps = receiver.sentBps === undefined ? intervalSentBps : receiver.sentBps + weight * (intervalSentBps - receiver.sentBps);
    const verdict = receiver.loss.add(expected, lost, this.sendBps);
    const ownLoss = receiver.loss.ownLoss;
    // The lesser of the smoothed and the latest arrivals: one report can hold a stalled reader's backlog, more than
    // the path carried in its interval, and after a sudden drop the smoothed rate still remembers the rate before it.
    rememberCarried(receiver, deliveredBps(Math.min(receiver.arrivalBps, arrivalBps), ownLoss), nowMs);
    // The one-way delay the network added: what the receiver saw, less the sender's own growing lag (µs per s).
    const delayTrendUsPerS = report.delayTrendUsPerS - linearTrend(this.lateness) * 1e6;
    // Loss alone is not congestion: it must rise with the rate (a queue or policer overflowing), over two windows (so it acts at once).
    const signal: CutCause | undefined =
      delayTrendUsPerS > this.options.overuseTrendUsPerS
        ? "delay-growing"
        : standingQueueMs(receiver.rtts, nowMs) > this.options.standingQueueMs
          ? "queue-standing"
          : verdict === "congestion"
            ? "loss-rising"
            : undefined;
    // A receiver short of CPU reads datagrams late: its delay and round trips grow with no queue on the path.
    const busy = nowMs < receiver.busyUntilMs;
    const cause = busy && signal !== "loss-rising" ? undefined : signal;
    if (busy && signal && !cause) this.stats.busyHolds++;
    receiver.congestedInARow = cause ? receiver.congestedInARow + 1 : 0;
    const loss = expected === 0 ? 0 : lost / expected;
    receiver.reportLoss = loss;
    const judged = expected >= MIN_REPORT_DATAGRAMS;
    const expectedLoss = receiver.loss.known ? ownLoss : ASSUMED_LINK_LOSS;
    const farBeyond =
      judged &&
      !busy &&
      ((expected >= MIN_LOSS_REPORT_DATAGRAMS && loss > expectedLoss + this.options.overwhelmingLoss) ||
        (intervalSentBps > this.options.minBps && arrivalBps < (1 - this.options.overwhelmingLoss) * (1 - expectedLoss) * intervalSentBps));
    if (cause || farBeyond) receiver.congestedAtMs = nowMs;
    receiver.overwhelmedInARow = farBeyond ? receiver.overwhelmedInARow + 1 : 0;
    // Two reports in a row, even at the start: a receiver still warming up (its first decodes) stalls for one.
    if (receiver.overwhelmedInARow >= OVERWHELMED_REPORTS_TO_ACT) {
      receiver.overwhelmedInARow = 0;
      receiver.congestedAtMs = nowMs;
      // The latest of the two: a reader that stalled reads its backlog after, so its second report is not the low one;
      // the first of a link that dropped may still hold arrivals from before the drop (it cut an 8 Mbit/s stream
      // on a link gone to 6 to 8.5, and the queue overflowed 270 ms longer).
      this.decrease(receiver, "overwhelmed", arrivalBps, nowMs);
    } else if (receiver.congestedInARow >= this.options.congestedReportsToAct || cause === "loss-rising") this.decrease(receiver, cause!, undefined, nowMs);
    else if (busy) {
      // Neither cut nor climb for a receiver that cannot keep up: more would not be shown, less would not be seen.
      receiver.state = "receiver-busy";
    } else if (cause || delayTrendUsPerS < -this.options.overuseTrendUsPerS) {
      // One congested report, or a queue still draining: wait and see.
      if (receiver.state !== "startup") receiver.state = "hold";
    } else this.increase(receiver, intervalMs, arrivalBps, nowMs);
  }

  /**
   * Whether the stream should hold its frames: its first went out as a probe
   * of the path and no receiver has said yet how fast it arrived (at most
   * PROBE_WAIT_MS: a receiver that never says is an older one).
   */
  awaitingProbe(nowMs: number): boolean {
    return this.probe !== undefined && !this.probeAnswered && nowMs - this.probe.sentAtMs < PROBE_WAIT_MS;
  }

  /** Whether the stream is still starting: its probe not yet sent, or not yet answered. */
  starting(nowMs: number): boolean {
    return this.probe === undefined || this.awaitingProbe(nowMs);
  }

  /** A receiver's state, beside its report: the path's delivery rate of recent frames, and whether it is short of time. */
  receiverState(receiverId: number, state: ReceiverState, nowMs: number): void {
    const receiver = this.receivers.get(receiverId);
    if (!receiver) return;
    const skipped = receiver.skippedForTime === undefined ? 0 : (forward32(state.framesSkippedForTime, receiver.skippedForTime) ?? 0);
    receiver.skippedForTime = state.framesSkippedForTime;
    if (skipped > 0 || state.decodeLagMs > BUSY_LAG_MS) receiver.busyUntilMs = nowMs + BUSY_HOLD_MS;
    if (receiver.state !== "startup" || this.probeAnswered) return;
    // The first state answers the probe, measured or not (a probe lost on the way measures nothing: the start then doubles up from the start rate).
    this.probeAnswered = true;
    const deliveryBps = state.deliveryBytesPerSecond * 8;
    if (deliveryBps <= 0) return;
    this.stats.probeBps = deliveryBps;
    // The path spread the probe out: the stream starts just under that rate, and climbs from there as after a cut
    // (at most a little above what arrives), not by doubling: doubling took an 8 Mbit/s link to 12 and its queue
    // to 400 ms. It is no capacity: a receiver short of CPU reads a burst slowly too, and the climb goes on past it.
    if (this.probe && deliveryBps < PATH_LIMITED * this.probe.sendBps) {
      receiver.estimateBps = Math.max(this.options.minBps, PROBE_SHARE * deliveryBps);
      receiver.state = "increase";
    } else receiver.estimateBps = Math.max(receiver.estimateBps, Math.min(PROBE_SHARE * deliveryBps, PROBE_MAX_RAISE * this.options.startBps));
  }

  /**
   * What the stream may send now, bits/s; undefined when nothing constrains
   * it: no receiver reports (the stream starts at startBps, and waits a
   * second for the first report before sending everything it has, as a
   * sender without a return path does).
   */
  targetBps(nowMs: number): number | undefined {
    this.firstAskMs ??= nowMs;
    let target: number | undefined = this.receivers.size === 0 && nowMs - this.firstAskMs < FIRST_REPORT_GRACE_MS ? this.options.startBps : undefined;
    for (const receiver of this.receivers.fresh(nowMs)) {
      target = Math.min(target ?? Infinity, receiver.estimateBps);
    }
    if (target === undefined) return this.maxBps === Infinity ? undefined : this.maxBps;
    return Math.min(this.maxBps, target);
  }

  /** The most any receiver still reporting loses on its own link, 0–1: what parity and resends are repairing. */
  linkLoss(nowMs: number): number {
    let most = 0;
    for (const receiver of this.receivers.fresh(nowMs)) most = Math.max(most, receiver.loss.ownLoss);
    return most;
  }

  /** Whether a receiver still reporting is short of time (its decoder lagging, or skipping frames). */
  receiverBusy(nowMs: number): boolean {
    for (const receiver of this.receivers.fresh(nowMs)) if (nowMs < receiver.busyUntilMs) return true;
    return false;
  }

  /** The state of the receiver that sets the target (the slowest), for the stats. */
  state(nowMs: number): RateState {
    const target = this.targetBps(nowMs);
    for (const receiver of this.receivers.fresh(nowMs)) if (receiver.estimateBps === target) return receiver.state;
    return "unconstrained";
  }

  /**
   * `latestArrivalBps` when overwhelmed: the smoothed rate still remembers
   * the capacity before a sudden drop, the latest report has the new one.
   * Otherwise the smoothed rate: one report's is noisy (a 100 ms interval
   * holds three frames), and a low one would cut too deep.
   */
  private decrease(receiver: Receiver, cause: CutCause, latestArrivalBps: number | undefined, nowMs: number): void {
    const arrival = Math.min(receiver.arrivalBps ?? Infinity, latestArrivalBps ?? Infinity);
    // A queue's signal halves the target at most (as TCP's decrease): the smoothed arrivals can lag far behind
    // what is sent (the first reports hold only the probe), and a cut to them spiralled a 20%-loss stream to 3 Mbit/s.
    // Only a stream far beyond the link goes straight down to what arrives.
    const floor = cause === "overwhelmed" ? this.options.minBps : Math.max(this.options.minBps, MAX_CUT * receiver.estimateBps);
    const target = Math.max(floor, this.options.backoff * arrival);
    // A queue keeps signalling while it drains: cutting again is only right if less arrives than before.
    if (target < receiver.estimateBps) {
      receiver.estimateBps = target;
      this.stats.decreases++;
      this.stats.causes[cause]++;
      // A path that delivered less than it was sent has shown its capacity: what it carried before no longer holds.
      // One that delivered it all still could, and the cut may be undone; loss that rose with the rate but
      // took nothing away from what arrived is no capacity either (a noisy moment, not a policer).
      // Before the link's own loss is known, this report's loss stands in for it: loss alone must not read as a path falling short.
      const delivered = deliveredBps(arrival, receiver.loss.known ? receiver.loss.ownLoss : Math.max(ASSUMED_LINK_LOSS, receiver.reportLoss));
      const short = delivered < CARRIED_ALL * (receiver.sentBps ?? this.sendBps);
      if (short) receiver.carried = [{ atMs: nowMs, bps: delivered }];
      if (short || cause !== "loss-rising") receiver.capacity = learnCapacity(receiver.capacity, arrival);
    }
    receiver.state = "decrease";
    receiver.congestedInARow = 0;
  }

  private increase(receiver: Receiver, intervalMs: number, latestArrivalBps: number, nowMs: number): void {
    const estimate = receiver.estimateBps;
    const ownLoss = receiver.loss.ownLoss;
    const carriedBps = receiver.carried.reduce((most, c) => Math.max(most, c.bps), 0);
    // Well below what the path carried lately, and no queue: a wrong cut (a busy moment, noise) is undone within a second or two.
    if (receiver.state !== "startup" && estimate < RECOVER_BELOW * carriedBps && nowMs - receiver.congestedAtMs > RECOVER_QUIET_MS) {
      receiver.estimateBps = Math.min(carriedBps, estimate * 2 ** (intervalMs / RECOVERY_DOUBLING_MS));
      receiver.state = "recover";
      return;
    }
    const capacity = receiver.capacity;
    // More arriving than the capacity seen, without a queue building: the link got better, and that capacity no longer applies.
    if (capacity && (receiver.arrivalBps ?? 0) > capacity.meanBps + capacity.deviationBps) receiver.capacity = undefined;
    const near = receiver.capacity !== undefined && estimate > receiver.capacity.meanBps - receiver.capacity.deviationBps;
    const seconds = intervalMs / 1000;
    const grown =
      receiver.state === "startup"
        ? estimate * 2 ** (intervalMs / STARTUP_DOUBLING_MS)
        : near
          ? estimate + this.options.gentleGrowthPerS * receiver.capacity!.meanBps * seconds
          : estimate * this.options.fastGrowthPerS ** seconds;
    // Never far ahead of what the path delivers: a stream that does not use its allowance (already at its best
    // quality for its size) must not bank one the path never showed, and spend it all in one step up;
    // and since no more arrives than the link carries, an overshoot stays within this share of it.
    // What the link loses on its own counts as delivered: on a lossy link arrivals always trail what is sent.
    // Climbing fast (starting, or far from any capacity seen), the latest arrivals count: the smoothed rate lags the climb.
    const arrived = !near ? Math.max(latestArrivalBps, receiver.arrivalBps ?? 0) : (receiver.arrivalBps ?? 0);
    const ahead = receiver.state === "startup" ? STARTUP_AHEAD_OF_ARRIVALS : MAX_AHEAD_OF_ARRIVALS;
    const ceiling = Math.max(this.options.minBps, ahead * deliveredBps(arrived, ownLoss));
    receiver.estimateBps = Math.max(estimate, Math.min(grown, ceiling));
    if (receiver.state !== "startup") receiver.state = "increase";
  }
}

/** What the path carried, given what arrived and the share the link itself loses (never taken above 90%). */
function deliveredBps(arrivalBps: number, ownLoss: number): number {
  return arrivalBps / (1 - Math.min(0.9, ownLoss));
}

function rememberCarried(receiver: Receiver, bps: number, nowMs: number): void {
  const carried = receiver.carried;
  carried.push({ atMs: nowMs, bps });
  while (carried.length > 0 && (carried.length > MAX_RTT_SAMPLES || nowMs - carried[0]!.atMs > CARRIED_WINDOW_MS)) carried.shift();
}

/** How far the recent round trips stand above the least of the window: the queue's delay (0 without samples). */
function standingQueueMs(rtts: readonly { atMs: number; ms: number }[], nowMs: number): number {
  if (rtts.length === 0) return 0;
  let base = Infinity;
  let recent = Infinity;
  for (const { atMs, ms } of rtts) {
    base = Math.min(base, ms);
    if (nowMs - atMs <= RECENT_RTT_WINDOW_MS) recent = Math.min(recent, ms);
  }
  return recent === Infinity ? 0 : recent - base;
}

/** The spread is never taken below this share of the mean: a few samples are not a certainty. */
const MIN_DEVIATION = 0.04;

/**
 * Mean and spread of the arrival rates at congestion. A sample far outside
 * (over 3 spreads) means the link changed: it starts afresh, as GCC does.
 */
function learnCapacity(capacity: Receiver["capacity"], arrivalBps: number): NonNullable<Receiver["capacity"]> {
  if (!capacity || Math.abs(arrivalBps - capacity.meanBps) > 3 * capacity.deviationBps) return { meanBps: arrivalBps, deviationBps: MIN_DEVIATION * arrivalBps };
  const meanBps = 0.7 * capacity.meanBps + 0.3 * arrivalBps;
  const deviationBps = Math.max(MIN_DEVIATION * meanBps, 0.7 * capacity.deviationBps + 0.3 * Math.abs(arrivalBps - meanBps));
  return { meanBps, deviationBps };
}
