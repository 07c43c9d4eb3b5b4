import { deserializeFeedback, feedbackKey, FeedbackType, serializeFeedback } from "../protocol/feedback.ts";
import { deserializeSenderState, type SenderState } from "../protocol/feedback-sender-state.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";
import { isNewer32 } from "../protocol/serial-number.ts";
import { normalizeAddress } from "../socket/address.ts";
import type { Endpoint, OutgoingDatagram } from "../socket/endpoint.ts";

export type { Endpoint, OutgoingDatagram };
import { MAX_NACK_ENTRIES, serializeNack, type NackEntry } from "../protocol/feedback-nack.ts";
import { serializeReport } from "../protocol/feedback-report.ts";
import { serializeReceiverState } from "../protocol/feedback-receiver-state.ts";
import { MAX_AUDIO_NACK_ENTRIES, serializeAudioNack } from "../protocol/feedback-audio-nack.ts";
import { ArrivalLog } from "./arrival-log.ts";
import { AudioNackPlanner } from "./audio-nack-planner.ts";
import { NackPlanner, type FrameInProgress } from "./nack-planner.ts";
import { ReportBuilder, type StreamCounts } from "./report-builder.ts";
import { RttEstimator } from "./rtt-estimator.ts";

/** The default latency budget, as SRT's default latency: room for a retransmission or two on a LAN or a Wi-Fi hop. */
export const DEFAULT_LATENCY_MS = 120;
/** With the budget chosen automatically, at least this many round trips fit in it (SRT advises 4; 3 keeps latency lower). */
const BUDGET_ROUND_TRIPS = 3;
const MAX_AUTO_LATENCY_MS = 1000;
/** Round trips vary: the budget allows this many mean deviations beyond the least. */
const JITTER_ALLOWANCE = 2;
const MAX_ANSWERED_FRAMES = 256;

/** What the reassembler shows the return path of the stream it follows. */
export interface ReassemblyView {
  pendingFrames(): Iterable<FrameInProgress>;
  readonly newestFrameNumber: number | undefined;
  counts(): StreamCounts;
}

export interface ReceiverFeedbackOptions {
  /** receive --latency: a fixed budget. Undefined: DEFAULT_LATENCY_MS, raised to 3 least RTTs plus twice the jitter once the RTT is known. */
  latencyMs?: number;
  /** The pre-shared key: feedback is then sealed under the stream's feedback key. */
  preSharedKey?: Uint8Array;
}

/**
 * A v2 receiver's return path: it logs each datagram of the followed stream,
 * and on each tick says what to send back to the stream's source: NACKs for
 * what parity cannot rebuild, and a report every 100 ms. It measures the
 * round trip from its answered NACKs and sets the latency budget from it.
 * Pure: the caller sends what it returns, and passes the time.
 */
export class ReceiverFeedback {
  private readonly log = new ArrivalLog();
  private readonly planner = new NackPlanner();
  private readonly audioPlanner = new AudioNackPlanner();
  private readonly rtt = new RttEstimator();
  private readonly reports = new ReportBuilder();
  private readonly receiverId = crypto.getRandomValues(new Uint32Array(1))[0]!;
  private stream: { id: number; source: Endpoint; key: Uint8Array | undefined; salt: Uint8Array | undefined } | undefined;
  /** Frames some of whose chunks came in answer to a NACK: saved by retransmission if they complete. */
  private readonly answered = new Set<number>();
  readonly stats = { nacksSent: 0, reportsSent: 0, framesSavedByRetransmission: 0 };

  constructor(private readonly options: ReceiverFeedbackOptions = {}) {}

  /**
   * How long a frame may wait for repairs: round trips of the path's own
   * (the least seen), plus its jitter. Not the smoothed RTT: behind a full
   * queue that grows with the queue, and the budget (so the latency) with it.
   */
  get latencyBudgetMs(): number {
    if (this.options.latencyMs !== undefined) return this.options.latencyMs;
    if (!this.rtt.known) return DEFAULT_LATENCY_MS;
    const budget = BUDGET_ROUND_TRIPS * this.rtt.leastMs + JITTER_ALLOWANCE * this.rtt.jitterMs;
    return Math.min(MAX_AUTO_LATENCY_MS, Math.max(DEFAULT_LATENCY_MS, Math.ceil(budget)));
  }

  get rttMs(): number | undefined {
    return this.rtt.known ? this.rtt.rttMs : undefined;
  }

  get chunksAsked(): number {
    return this.planner.stats.chunksAsked + this.planner.stats.chunksAskedAgain;
  }

  /** Chunks that arrived after a NACK asked for them. */
  get chunksAnswered(): number {
    return this.planner.stats.chunksAnswered;
  }

  /** A datagram of the followed stream arrived (from `source`; `salt` when sealed). */
  arrived(chunk: { streamId: number; frameNumber: number; position: number; captureTimeUs: number; bytes: number; salt?: Uint8Array }, source: Endpoint, nowMs: number): void {
    const current = this.stream;
    // A new run is a new stream id, or (sealed) a new salt: compared in place, this runs per datagram.
    const sameSalt = current?.salt === undefined ? chunk.salt === undefined : chunk.salt !== undefined && Buffer.compare(current.salt, chunk.salt) === 0;
    if (!current || current.id !== chunk.streamId || !sameSalt) {
      this.log.reset();
      this.reports.reset();
      this.audioPlanner.reset();
      this.answered.clear();
      this.sender = undefined;
      const key = this.options.preSharedKey && chunk.salt ? feedbackKey(this.options.preSharedKey, chunk.salt) : undefined;
      this.stream = { id: chunk.streamId, source, key, salt: chunk.salt && Uint8Array.from(chunk.salt) };
    } else {
      // Answers go where the stream comes from now (a NAT may remap the sender's port).
      current.source = source;
    }
    this.log.arrived(chunk.frameNumber, chunk.position, chunk.captureTimeUs, chunk.bytes, nowMs);
    const answer = this.planner.arrived(chunk.frameNumber, chunk.position, nowMs);
    if (!answer) return;
    this.answered.add(chunk.frameNumber);
    // Frames that were dropped all the same never complete: remember only the latest few.
    if (this.answered.size > MAX_ANSWERED_FRAMES) this.answered.delete(this.answered.values().next().value!);
    if (answer.rttMs !== undefined) this.rtt.add(answer.rttMs);
  }

  /** Sound data packets up to `sequence` were sent (the newest a sound datagram shows: its own, or its group's last for parity). */
  audioSent(sequence: number, nowMs: number): void {
    this.audioPlanner.sentUpTo(sequence, nowMs);
  }

  /** Sound packet `sequence` is here (arrived, or rebuilt): whether it came in answer to an audio NACK (late by nature, as a rebuilt one). */
  audioArrived(sequence: number, nowMs: number): boolean {
    const answer = this.audioPlanner.arrived(sequence, nowMs);
    if (answer.rttMs !== undefined) this.rtt.add(answer.rttMs);
    return answer.answered;
  }

  /** Sound packets asked for again so far, and those that came. */
  get audioCounts(): { asked: number; answered: number } {
    const { packetsAsked, packetsAskedAgain, packetsAnswered } = this.audioPlanner.stats;
    return { asked: packetsAsked + packetsAskedAgain, answered: packetsAnswered };
  }

  /** What the followed stream's sender last said it aims at, and why. */
  sender: SenderState | undefined;

  /**
   * A sender state message (feedback type 4) from `source`: kept when it is
   * the followed stream's own sender's, authentic under the stream's key, and
   * newer than the last. Throws ProtocolError (counted and dropped) otherwise.
   */
  senderState(datagram: Uint8Array, source: Endpoint | undefined): void {
    const stream = this.stream;
    // Parsed first: a sealed one at a receiver that cannot open it is refused as any sealed datagram would be.
    const envelope = deserializeFeedback(datagram, stream?.key);
    if (!stream) throw new ProtocolError("stale", "sender state before any stream");
    if (envelope.type !== FeedbackType.senderState) throw new ProtocolError("unknown-protocol", "feedback that only a sender takes");
    if (stream.key && !envelope.sealed) throw new ProtocolError("not-sealed", "a plain sender state for a sealed stream");
    if (envelope.streamId !== stream.id) throw new ProtocolError("stale", "sender state of a stream not followed");
    if (!source || normalizeAddress(source.address) !== normalizeAddress(stream.source.address) || source.port !== stream.source.port) {
      throw new ProtocolError("stranger", "sender state from somewhere the stream does not come from");
    }
    const state = deserializeSenderState(envelope.body);
    if (this.sender && !isNewer32(state.stateNumber, this.sender.stateNumber)) throw new ProtocolError("stale", "an old or repeated sender state");
    this.sender = state;
  }

  /** How the receiver's own side keeps up, told to the sender beside each report. */
  private load = { decodeLagMs: 0, framesSkippedForTime: 0 };

  /** The decoder's state now: how long the oldest frame waiting for it has waited, and frames skipped for lack of time so far. */
  noteLoad(decodeLagMs: number, framesSkippedForTime: number): void {
    this.load = { decodeLagMs, framesSkippedForTime };
  }

  /** A frame was handed on whole: if a NACK's answer helped, retransmission saved it. */
  frameCompleted(frameNumber: number): void {
    this.log.frameDone(frameNumber);
    if (this.answered.delete(frameNumber)) this.stats.framesSavedByRetransmission++;
  }

  /** What to send back now: NACKs for what is lost, and the report when one is due. */
  tick(view: ReassemblyView, nowMs: number): OutgoingDatagram[] {
    const stream = this.stream;
    if (!stream) return [];
    const frames = [...view.pendingFrames()];
    this.planner.forgetAllBut(new Set(frames.map((f) => f.frameNumber)));
    const out: OutgoingDatagram[] = [];
    const envelope = (type: (typeof FeedbackType)[keyof typeof FeedbackType], body: Uint8Array) => ({
      ...stream.source,
      datagram: serializeFeedback({ type, streamId: stream.id, receiverId: this.receiverId, body }, stream.key),
    });
    const entries = this.planner.plan(frames, view.newestFrameNumber, nowMs, this.rtt.rttMs, this.latencyBudgetMs);
    for (const batch of batches(entries)) {
      out.push(envelope(FeedbackType.nack, serializeNack(batch)));
      this.stats.nacksSent++;
    }
    const audio = this.audioPlanner.plan(nowMs, this.rtt.rttMs, this.latencyBudgetMs);
    // At most MAX_AUDIO_NACK_ENTRIES numbers a message: never more entries than that, however they pack.
    for (let at = 0; at < audio.length; at += MAX_AUDIO_NACK_ENTRIES) {
      out.push(envelope(FeedbackType.audioNack, serializeAudioNack(audio.slice(at, at + MAX_AUDIO_NACK_ENTRIES))));
    }
    const report = this.reports.due(nowMs, view.counts(), this.log, this.latencyBudgetMs);
    if (report) {
      out.push(envelope(FeedbackType.report, serializeReport(report)));
      out.push(envelope(FeedbackType.receiverState, serializeReceiverState({ reportNumber: report.reportNumber, deliveryBytesPerSecond: this.log.takeDeliveryRate(), ...this.load })));
      this.stats.reportsSent++;
    }
    return out;
  }
}

/** NACK entries in messages of at most MAX_NACK_ENTRIES packed entries (a position and the 16 after it count as one). */
function batches(entries: NackEntry[]): NackEntry[][] {
  const out: NackEntry[][] = [];
  let current: NackEntry[] = [];
  let packed = 0;
  for (const entry of entries) {
    // At most one packed entry per position: a safe upper bound on what this entry takes.
    const cost = entry.positions.length;
    if (packed + cost > MAX_NACK_ENTRIES && current.length > 0) {
      out.push(current);
      current = [];
      packed = 0;
    }
    current.push({ frameNumber: entry.frameNumber, positions: entry.positions.slice(0, MAX_NACK_ENTRIES) });
    packed += Math.min(cost, MAX_NACK_ENTRIES);
  }
  if (current.length > 0) out.push(current);
  return out;
}
