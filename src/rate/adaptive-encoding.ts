import type { ReceiverReport } from "../protocol/feedback-report.ts";
import type { ReceiverState } from "../protocol/feedback-receiver-state.ts";
import type { SENDER_REASONS } from "../protocol/feedback-sender-state.ts";
import { EncodingPlanner, type EncodingCeiling, type EncodingChoice } from "./encoding-planner.ts";
import { RateController, type CutCause } from "./rate-controller.ts";
import type { ReportTiming } from "../feedback/receiver-reports.ts";
import { RateTrace, type RateTracePoint } from "./rate-trace.ts";

/*
 * A sender's rate adaptation, pure and given the time: the receivers'
 * reports set a target (RateController); parity, resends and headers are
 * taken out of it; what is left is the JPEG budget the planner fits each
 * frame to. With adaptation off every frame is encoded at the ceiling, as
 * before (--max-rate then only paces, and frames that fall behind are skipped).
 */

export interface AdaptiveEncodingOptions {
  ceiling: EncodingCeiling;
  minQuality?: number;
  /** --max-rate, bits/s: never aimed above. */
  maxBps?: number;
  /** Follow the receivers' reports (off: --adapt off, multicast, no return path). */
  adapt: boolean;
  /** Frames after the first (the probe) are left out until a receiver answers it (default); otherwise they go at the start rate. */
  leaveOutWhileProbing?: boolean;
}

export interface RateStats {
  adapt: boolean;
  /** What the stream may send, Mbit/s; null while nothing constrains it. */
  targetMbps: number | null;
  state: string;
  quality: number;
  width: number;
  height: number;
  scale: number;
  /** Frames per second actually sent: the source's rate over the frame stride. */
  fps: number;
  decreases: number;
  /** Why the stream is what it is: for the status line, the summary and the receivers. */
  reason: RateReason;
  /** The path's delivery rate of the first frame (the probe), Mbit/s; null when none was measured. */
  probeMbps: number | null;
  /** What decided each cut, counted by cause. */
  cuts: Record<CutCause, number> | null;
}

/**
 * Why the stream is what it is: starting (the probe has not been answered),
 * full quality (nothing held it back), loss repaired (full quality on a link
 * that loses, parity and resends repairing it), link limit (the path's
 * capacity), receiver busy (a receiver short of CPU), fixed (not adapting).
 * The receivers are told it in the sender state message.
 */
export type RateReason = (typeof SENDER_REASONS)[number];
/** The probe (the first frame) is encoded to about this many bytes at full size, or its best quality if smaller. */
const PROBE_BYTES = 64_000;
/** A link losing at least this share counts as lossy (its loss being repaired). */
const LOSSY_LINK = 0.01;

/** v2 headers and the end-of-frame slack, as a share of the JPEG bytes (measured: 2.1% at 1400-byte datagrams). */
const HEADER_SHARE = 0.025;
/** Whatever the sound takes, the picture keeps at least this share of the target (a target below the sound's rate is the path failing, not a budget). */
const MIN_PICTURE_SHARE = 0.5;

export class AdaptiveEncoding {
  private readonly controller: RateController | undefined;
  private readonly planner: EncodingPlanner;
  private last: EncodingChoice;
  private lastFps = 0;
  private probePlanned = false;
  private reservedBps = 0;
  private readonly trace = new RateTrace();

  constructor(private readonly options: AdaptiveEncodingOptions) {
    this.controller = options.adapt ? new RateController({}, options.maxBps ?? Infinity) : undefined;
    this.planner = new EncodingPlanner(options.ceiling, options.minQuality === undefined ? {} : { minQuality: options.minQuality });
    this.last = this.planner.choose(undefined, 30);
  }

  /** A receiver's report (already checked by the feedback gate), with the round trip its echo gave. */
  report(receiverId: number, report: ReceiverReport, timing: ReportTiming): void {
    this.controller?.report(receiverId, report, timing);
  }

  /** A receiver's state (delivery rate, how it keeps up), beside its report. */
  receiverState(receiverId: number, state: ReceiverState, nowMs: number): void {
    this.controller?.receiverState(receiverId, state, nowMs);
  }

  targetBps(nowMs: number): number | undefined {
    return this.controller?.targetBps(nowMs);
  }

  /**
   * The encoding for source frame `index`, or "skip" when the frame rate is
   * lowered and this one is not sent. `parityPercent` and `resendShare`
   * (resends over first sends, recently) come out of the budget.
   */
  next(index: number, fps: number, parityPercent: number, resendShare: number, nowMs: number): EncodingChoice | "skip" {
    const target = this.targetBps(nowMs);
    // The sound's share comes off the top: adaptation lowers the picture, never the sound.
    const pictureBps = target === undefined ? undefined : Math.max(target * MIN_PICTURE_SHARE, target - this.reservedBps);
    const payloadBps = pictureBps === undefined ? undefined : pictureBps / (1 + parityPercent / 100 + resendShare + HEADER_SHARE);
    // Until the probe (the first frame) is answered, frames are the picture at full size, as good as the start
    // rate allows: the path's answer sets the rest, and a start that shrank the picture would show.
    // The probe itself is up to PROBE_BYTES: larger than a token bucket's usual burst allowance (whose datagrams pass at
    // line rate and measure nothing), within one queue's worth of a narrow link's.
    const starting = this.controller?.starting(nowMs);
    const budgetBps = starting && !this.probePlanned ? Math.max(payloadBps ?? 0, PROBE_BYTES * 8 * fps) : payloadBps;
    const choice = starting ? this.planner.chooseAtFullSize(budgetBps, fps) : this.planner.choose(payloadBps, fps);
    this.probePlanned = true;
    this.last = choice;
    this.lastFps = fps / choice.frameStride;
    this.trace.record(nowMs, { targetMbps: toMbps(target), quality: choice.quality, scale: choice.scale, fps: round2(this.lastFps) });
    return index % choice.frameStride === 0 ? choice : "skip";
  }

  /**
   * Whether a frame due now is left out because the probe has not been
   * answered: the path's capacity is not known yet. An unpaced stream
   * (leaveOutWhileProbing false) sends every frame.
   */
  leavesOutForProbe(nowMs: number): boolean {
    return this.options.leaveOutWhileProbing !== false && this.controller?.awaitingProbe(nowMs) === true;
  }

  /** Whether frame number `index` is the probe, to go out at once: the first frame, when adapting. */
  isProbe(index: number): boolean {
    return this.controller !== undefined && index === 0;
  }

  /** Bits per second another track (the sound) takes from the target before the picture is planned. */
  reserve(bps: number): void {
    this.reservedBps = Math.max(0, bps);
  }

  /** A frame's datagrams, `bytes` in all, went out over `durationMs`, `lateMs` after its capture time. */
  sent(bytes: number, nowMs: number, lateMs = 0, durationMs = 0): void {
    this.controller?.sent(bytes, nowMs, lateMs, durationMs);
  }

  /** The frame encoded with `choice` came out `bytes` long. */
  encoded(choice: EncodingChoice, bytes: number): void {
    this.planner.encoded(choice, bytes);
  }

  stats(nowMs: number): RateStats {
    const target = this.targetBps(nowMs);
    return {
      adapt: this.options.adapt,
      targetMbps: toMbps(target),
      state: this.controller?.state(nowMs) ?? "fixed",
      quality: this.last.quality,
      width: this.last.width,
      height: this.last.height,
      scale: this.last.scale,
      fps: round2(this.lastFps),
      decreases: this.controller?.stats.decreases ?? 0,
      cuts: this.controller ? { ...this.controller.stats.causes } : null,
      reason: this.reason(nowMs),
      probeMbps: toMbps(this.controller?.stats.probeBps ?? undefined),
    };
  }

  reason(nowMs: number): RateReason {
    const controller = this.controller;
    if (!controller) return "fixed";
    if (controller.starting(nowMs)) return "starting";
    const full = this.last.quality >= this.options.ceiling.quality && this.last.scale === 1 && this.last.frameStride === 1;
    if (!full && controller.receiverBusy(nowMs)) return "receiver busy";
    if (!full) return "link limit";
    return controller.linkLoss(nowMs) >= LOSSY_LINK ? "loss repaired" : "full quality";
  }

  /** Target, quality, scale and frame rate every quarter second (bounded: the last ten minutes). */
  traced(): RateTracePoint[] {
    return this.trace.traced();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const toMbps = (bps: number | undefined) => (bps === undefined ? null : round2(bps / 1e6));
