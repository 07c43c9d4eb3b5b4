import type { StreamKey } from "../protocol/v2-seal.ts";
import type { ReceiverReport } from "../protocol/feedback-report.ts";
import type { ReceiverState } from "../protocol/feedback-receiver-state.ts";
import { serializeSenderState, type SenderState } from "../protocol/feedback-sender-state.ts";
import { feedbackKey, FeedbackType, serializeFeedback } from "../protocol/feedback.ts";
import { FecController } from "./fec-controller.ts";
import type { ReportTiming } from "./receiver-reports.ts";
import { FeedbackGate } from "./feedback-gate.ts";
import { RetransmitBudget } from "./retransmit-budget.ts";
import { RetransmitHistory } from "./retransmit-history.ts";
import { AudioHistory } from "./audio-history.ts";
import { RttEstimator } from "./rtt-estimator.ts";

export interface SenderFeedbackOptions {
  /** Destinations as "address:port" (feedback-gate.ts's endpoint()). */
  destinations: ReadonlySet<string>;
  streamId: number;
  preSharedKey?: Uint8Array;
  streamKey?: StreamKey;
  /** Bytes of sent datagrams kept for resending. */
  historyBytes: number;
  /** Resends may add at most this share to the sending rate. */
  retransmitShare: number;
  /** send --fec N: a fixed parity share; otherwise it follows the reports. */
  fixedFecPercent?: number;
  /** The share used before any report (and when they stop): send --fec's share. */
  blindFecPercent: number;
  /** Every accepted report goes here too (rate adaptation). */
  onReport?: (receiverId: number, report: ReceiverReport, timing: ReportTiming) => void;
  /** …and every receiver state (rate adaptation: the path's delivery rate, a receiver short of time). */
  onReceiverState?: (receiverId: number, state: ReceiverState, nowMs: number) => void;
}

export interface SenderFeedbackStats {
  /** Sender state messages sent to each destination (beside the stream's datagrams, not counted with them). */
  senderStatesSent: number;
  feedbackReceived: number;
  feedbackRefused: Record<string, number>;
  nacksReceived: number;
  chunksRequested: number;
  chunksResent: number;
  /** Requests not served: the datagram had left the history, or the resend budget was spent. */
  chunksNotResent: number;
  /** Sound packets asked for again (audio NACKs), resent, and not (gone from the history, or no budget). */
  audioRequested: number;
  audioResent: number;
  audioNotResent: number;
  reportsReceived: number;
  rttMs: number | null;
  /** Loss the receivers report, smoothed, as a percentage. */
  lossPercent: number;
  parityPercent: number;
}

/** Loss at which even a first resend goes twice: one copy alone would miss one frame's deadline in a few hundred. */
const HEAVY_LOSS = 0.08;
const MAX_COPIES = 3;
/** A reported budget beyond this (a forged report) does not keep a finished sender waiting. */
const MAX_REPAIR_HOLD_MS = 1000;

/**
 * How many copies of a datagram to resend, given how often it was resent
 * already and the receivers' loss (0–1). Once per ask on a clean link; each
 * repeat of an ask adds one, so the chance that every copy is lost again
 * falls as the loss to the power of the copies.
 */
export function resendCopies(timesResent: number, lossFraction: number): number {
  return Math.min(MAX_COPIES, timesResent + (lossFraction >= HEAVY_LOSS ? 2 : 1));
}

/**
 * A v2 sender's return path: feedback from the network, checked by the
 * gate; NACKs answered from the history within the resend budget; reports
 * turned into a round-trip time (from their echo) and a parity share.
 * Pure: the caller passes the time and sends what it returns.
 */
export class SenderFeedback {
  private readonly gate: FeedbackGate;
  private readonly history: RetransmitHistory;
  private readonly audioHistory = new AudioHistory();
  private readonly budget: RetransmitBudget;
  private readonly rtt = new RttEstimator();
  private readonly fec: FecController;
  /** Sender state goes out sealed under the stream's feedback key, as feedback comes back. */
  private readonly key: Uint8Array | undefined;
  private nextStateNumber = 0;
  /** The longest repair hold a receiver reported: how long after a frame's first datagram it may still be repaired. */
  private repairHoldMs: number | undefined;
  private readonly counts = { senderStatesSent: 0, nacksReceived: 0, chunksRequested: 0, chunksResent: 0, chunksNotResent: 0, reportsReceived: 0, audioRequested: 0, audioResent: 0, audioNotResent: 0 };

  constructor(private readonly options: SenderFeedbackOptions) {
    this.gate = new FeedbackGate(options.destinations, options.streamId, options.preSharedKey, options.streamKey);
    this.history = new RetransmitHistory(options.historyBytes);
    this.budget = new RetransmitBudget(options.retransmitShare);
    this.fec = new FecController({ blindPercent: options.blindFecPercent });
    this.key = options.preSharedKey && options.streamKey ? feedbackKey(options.preSharedKey, options.streamKey.salt) : undefined;
  }

  /** The datagram that tells the destinations the sender's state (numbered here): what it aims at and why. */
  announce(state: Omit<SenderState, "stateNumber">): Uint8Array {
    const body = serializeSenderState({ ...state, stateNumber: this.nextStateNumber++ });
    this.counts.senderStatesSent++;
    return serializeFeedback({ type: FeedbackType.senderState, streamId: this.options.streamId, receiverId: 0, body }, this.key);
  }

  /** A frame's datagrams (in send order) go out between startMs and endMs: told before the first leaves, so a NACK for one still finds it. */
  frameSent(frameNumber: number, datagrams: readonly Uint8Array[], startMs: number, endMs: number): void {
    this.history.record(frameNumber, datagrams, startMs, endMs);
    for (const d of datagrams) this.budget.sent(d.length, endMs);
  }

  /** Sound data packet `sequence` goes out as `datagram` at `nowMs`: kept for resending, and counted in what the resend budget is a share of. */
  audioSent(sequence: number, datagram: Uint8Array, nowMs: number): void {
    this.audioHistory.record(sequence, datagram);
    this.budget.sent(datagram.length, nowMs);
  }

  /** A datagram arrived on the sending socket from address:port. Returns what to resend there. */
  received(datagram: Uint8Array, address: string, port: number, nowMs: number): Uint8Array[] {
    const message = this.gate.accept(datagram, address, port);
    if (!message) return [];
    if (message.kind === "state") {
      this.options.onReceiverState?.(message.receiverId, message.state, nowMs);
      return [];
    }
    if (message.kind === "report") {
      this.counts.reportsReceived++;
      const { report } = message;
      this.repairHoldMs = Math.min(MAX_REPAIR_HOLD_MS, Math.max(this.repairHoldMs ?? 0, report.latencyBudgetMs));
      const sentAt = this.history.sentAtMs(report.echoFrameNumber, report.echoPosition);
      const rttSampleMs = sentAt === undefined ? undefined : nowMs - sentAt - report.echoHoldUs / 1000;
      if (rttSampleMs !== undefined) this.rtt.add(rttSampleMs);
      const timing = { nowMs, rttMs: this.rtt.rttMs, rttSampleMs };
      this.fec.report(message.receiverId, report, timing);
      this.options.onReport?.(message.receiverId, report, timing);
      return [];
    }
    if (message.kind === "audio-nack") return this.resendAudio(message.sequences);
    this.counts.nacksReceived++;
    const resend: Uint8Array[] = [];
    for (const { frameNumber, positions } of message.entries) {
      for (const position of positions) {
        this.counts.chunksRequested++;
        const datagram = this.history.datagram(frameNumber, position);
        if (datagram && this.resendInto(resend, datagram, this.history.timesResent(frameNumber, position))) {
          this.history.resent(frameNumber, position, nowMs);
          this.counts.chunksResent++;
        } else {
          this.counts.chunksNotResent++;
        }
      }
    }
    return resend;
  }

  /** The sound packets an audio NACK asks for, from the history, within the resend budget (repeats of an ask in pairs or threes on a lossy link). */
  private resendAudio(sequences: number[]): Uint8Array[] {
    const resend: Uint8Array[] = [];
    for (const sequence of sequences) {
      this.counts.audioRequested++;
      const datagram = this.audioHistory.datagram(sequence);
      if (datagram && this.resendInto(resend, datagram, this.audioHistory.timesResent(sequence))) {
        this.audioHistory.resent(sequence);
        this.counts.audioResent++;
      } else {
        this.counts.audioNotResent++;
      }
    }
    return resend;
  }

  /**
   * Adds `datagram` to `resend` if the budget allows one copy (false if not).
   * A datagram asked for again was lost again: on a lossy link its next
   * copies go in pairs or threes, as the budget allows, so it still makes
   * its deadline.
   */
  private resendInto(resend: Uint8Array[], datagram: Uint8Array, timesResent: number): boolean {
    if (!this.budget.take(datagram.length)) return false;
    resend.push(datagram);
    const copies = resendCopies(timesResent, this.fec.lossFraction);
    for (let extra = 1; extra < copies && this.budget.take(datagram.length); extra++) resend.push(datagram);
    return true;
  }

  /** How long after a frame's first datagram a receiver may still ask for it (its reported latency budget; undefined before any report). */
  get receiversRepairHoldMs(): number | undefined {
    return this.repairHoldMs;
  }

  /** The parity share for the next frame. */
  parityPercent(nowMs: number): number {
    return this.options.fixedFecPercent ?? this.fec.percent(nowMs);
  }

  /** Loss the receivers report (smoothed, the worst receiver), 0–1: about what resends will add. */
  get lossFraction(): number {
    return this.fec.lossFraction;
  }

  stats(nowMs: number): SenderFeedbackStats {
    return {
      feedbackReceived: this.gate.stats.received,
      feedbackRefused: { ...(this.gate.stats.refused as Record<string, number>) },
      ...this.counts,
      rttMs: this.rtt.known ? Math.round(this.rtt.rttMs * 10) / 10 : null,
      lossPercent: Math.round(this.fec.lossFraction * 1000) / 10,
      parityPercent: this.parityPercent(nowMs),
    };
  }
}
