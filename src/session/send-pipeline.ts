import type { WireFormat } from "../packetizer/wire-format.ts";
import { SenderFeedback, type SenderFeedbackStats } from "../feedback/sender-feedback.ts";
import { DEFAULT_LATENCY_MS } from "../feedback/receiver-feedback.ts";
import type { SenderState } from "../protocol/feedback-sender-state.ts";
import { AdaptiveEncoding, type RateStats } from "../rate/adaptive-encoding.ts";
import type { EncodingCeiling, EncodingChoice } from "../rate/encoding-planner.ts";
import type { RateTracePoint } from "../rate/rate-trace.ts";
import { SendSession, type SendCounts } from "./send-session.ts";
import { AudioTrack, type OutgoingAudio } from "./audio-track.ts";
import type { SourceAudioPacket } from "../source/ffmpeg-audio-source.ts";

/*
 * The send side's stages between the source and the socket, pure and given
 * the time: the encoding plan (AdaptiveEncoding), pacing and counts
 * (SendSession), the wire format, and the return path (SenderFeedback).
 * The shell (commands/send.ts) owns the source, the encoder, the sockets,
 * the timers and the terminal; it asks this object what to do and does it.
 *
 * A frame's way through: plan() numbers it and says how to encode it (or
 * that it is left out for rate); encoded() tells the planner its size;
 * dueMs() says when it goes; frame() turns it into datagrams (or leaves it
 * out); sent() says when they left. received() answers what comes back.
 * The sound, where there is one, rides the same clock: audio() places each
 * packet against the stream's start and sets its rate aside in the budget.
 */

/** What the sound takes before a second of it has gone: 96 kbit/s of Opus with headers and 4+2 parity. */
const NOMINAL_AUDIO_BPS = 160_000;

/**
 * The picture's pacer cap, bytes a ms, under --max-rate (bits/s; undefined:
 * no cap): the sound goes beside it, unpaced and first, so its rate comes
 * off the cap; the picture keeps at least half of it whatever the sound.
 */
export function pictureBytesPerMs(maxBps: number | undefined, carriesSound: boolean): number | undefined {
  if (maxBps === undefined) return undefined;
  const pictureBps = carriesSound ? Math.max(maxBps / 2, maxBps - NOMINAL_AUDIO_BPS) : maxBps;
  return pictureBps / 8 / 1000;
}

export interface SendPipelineOptions {
  wire: WireFormat;
  /** Frames per second to pace at; undefined: each frame goes as soon as it is encoded (--fps max, live sources). */
  fps: number | undefined;
  /** The source's frame rate: what the encoding budget is shared among. */
  sourceFps: number;
  /** Frames due before the probe is answered are left out (false with --fps max: every frame is sent). */
  leaveOutWhileProbing: boolean;
  lowLatency: boolean;
  ceiling: EncodingCeiling;
  minQuality?: number;
  /** --max-rate in bits/s: never aimed above. */
  maxBps?: number;
  /** "auto": adapt wherever the receivers are heard. */
  adapt: "auto" | "on" | "off";
  /** Parity before any report, or always without a return path or with fecFixed. */
  fecPercent: number;
  fecFixed: boolean;
  /**
   * The receivers this sender hears (as feedback-gate.ts's endpoint()),
   * where the wire format has a return path; undefined: none is heard
   * (--no-feedback, multicast).
   */
  receivers: ReadonlySet<string> | undefined;
  /** The pre-shared key feedback is sealed under. */
  preSharedKey?: Uint8Array;
  historyBytes: number;
  retransmitShare: number;
  /** The source's sound track, Opus with this many channels; undefined: picture only. */
  audioChannels?: 1 | 2;
}

/** One source frame's plan: its number, and how to encode it (or "skip": left out for rate, not encoded). */
export interface FramePlan {
  readonly index: number;
  readonly encoding: EncodingChoice | "skip";
}

/** A frame's datagrams, to be spread over `windowMs` (0: at once), `lateMs` after its capture time. */
export interface OutgoingFrame {
  index: number;
  datagrams: Uint8Array[];
  windowMs: number;
  lateMs: number;
}

export interface SendPipelineStatus {
  elapsedSeconds: number;
  /** Frames taken from the source so far. */
  position: number;
  counts: SendCounts;
  returnPath: SenderFeedbackStats | undefined;
  rate: RateStats;
  /** The sound track's packets and bytes sent so far (null: no sound). */
  audio: { packets: number; bytes: number } | null;
}

export class SendPipeline {
  private readonly session: SendSession;
  private readonly rate: AdaptiveEncoding;
  private readonly feedback: SenderFeedback | undefined;
  private readonly audioTrack: AudioTrack | undefined;
  /** The one frame counter: the next source frame's number. */
  private nextIndex = 0;
  /** When the last frame sent began to go out. */
  private lastFrameMs: number | undefined;

  constructor(private readonly options: SendPipelineOptions) {
    const { wire } = options;
    const returnPath = wire.returnPath && options.receivers ? wire.returnPath : undefined;
    // One encoding serves every receiver (encoding per receiver would cost a core each): the stream follows the slowest.
    this.rate = new AdaptiveEncoding({
      ceiling: options.ceiling,
      minQuality: options.minQuality,
      maxBps: options.maxBps,
      adapt: options.adapt !== "off" && returnPath !== undefined,
      leaveOutWhileProbing: options.leaveOutWhileProbing,
    });
    this.feedback =
      returnPath && options.receivers
        ? new SenderFeedback({
            destinations: options.receivers,
            streamId: returnPath.streamId,
            streamKey: returnPath.streamKey,
            preSharedKey: options.preSharedKey,
            historyBytes: options.historyBytes,
            retransmitShare: options.retransmitShare,
            fixedFecPercent: options.fecFixed ? options.fecPercent : undefined,
            blindFecPercent: options.fecPercent,
            onReport: (receiverId, report, timing) => this.rate.report(receiverId, report, timing),
            onReceiverState: (receiverId, state, nowMs) => this.rate.receiverState(receiverId, state, nowMs),
          })
        : undefined;
    this.session = new SendSession({ fps: options.fps, lowLatency: options.lowLatency, wire });
    const audio = options.audioChannels === undefined ? undefined : wire.audioPacketizer(options.audioChannels);
    this.audioTrack = audio ? new AudioTrack(audio) : undefined;
  }

  /** Whether the stream carries sound (the source has it and the protocol can carry it). */
  /** When the stream's clock started (locally and on the wall clock), once the first frame has started it. */
  get clockStart(): { ms: number; us: number } | undefined {
    return this.session.start;
  }

  get carriesAudio(): boolean {
    return this.audioTrack !== undefined;
  }

  /**
   * A sound packet from the source: its datagrams and when they are due on
   * the picture's clock. Undefined until the first frame has started that
   * clock (the caller waits for it), or when the stream carries no sound.
   */
  audio(packet: SourceAudioPacket): OutgoingAudio | undefined {
    const start = this.session.start;
    if (!this.audioTrack || !start) return undefined;
    const outgoing = this.audioTrack.schedule(packet, start);
    // Its own datagram comes first (parity follows): kept for an audio NACK.
    this.feedback?.audioSent(outgoing.sequence, outgoing.datagrams[0]!, outgoing.dueMs);
    this.rate.reserve(this.audioTrack.bitsPerSecond ?? NOMINAL_AUDIO_BPS);
    return outgoing;
  }

  /** Whether the receivers are heard (NACKs answered, reports followed). */
  get hearsReceivers(): boolean {
    return this.feedback !== undefined;
  }

  /** The next source frame: its number, and how to encode it. Called in source order. */
  plan(nowMs: number): FramePlan {
    const index = this.nextIndex++;
    const encoding = this.rate.next(index, this.options.sourceFps, this.parityPercent(nowMs), this.feedback?.lossFraction ?? 0, nowMs);
    return { index, encoding };
  }

  /** The frame planned as `plan` was encoded to `bytes` bytes: the planner learns each quality's size. */
  encoded(plan: FramePlan, bytes: number): void {
    if (plan.encoding !== "skip") this.rate.encoded(plan.encoding, bytes);
  }

  /** When the planned frame is due (undefined: now). The first call starts the stream's clock. */
  dueMs(plan: FramePlan, nowMs: number, nowUs: number): number | undefined {
    return this.session.dueMs(plan.index, nowMs, nowUs);
  }

  /**
   * The planned frame at its due time, encoded (`jpeg`) or not (left out
   * for rate): its datagrams, or undefined when it is not sent (left out
   * for rate, left out while the probe is unanswered, or too late).
   */
  frame(plan: FramePlan, jpeg: Uint8Array | undefined, nowMs: number, nowUs: number): OutgoingFrame | undefined {
    // The probe not yet answered when this frame is due: its slot passes unsent, as one left out for rate.
    if (jpeg === undefined || this.rate.leavesOutForProbe(nowMs)) {
      this.session.skipForRate(plan.index);
      return undefined;
    }
    const decision = this.session.frame(plan.index, jpeg, nowMs, nowUs, this.parityPercent(nowMs));
    if (decision.kind === "skip") return undefined;
    // The probe goes at once: how the path spreads it out is its capacity.
    const windowMs = this.rate.isProbe(plan.index) ? 0 : decision.windowMs;
    // Into the history before the first datagram leaves: on a short path a NACK for it comes back while the pacer is still sending it.
    this.feedback?.frameSent(plan.index, decision.datagrams, nowMs, nowMs + windowMs);
    this.lastFrameMs = nowMs;
    return { index: plan.index, datagrams: decision.datagrams, windowMs, lateMs: decision.lateMs };
  }

  /** The sound track has ended: what protects its last packets (the parity of a group it left partly filled). */
  audioEnded(): Uint8Array[] {
    return this.audioTrack?.flush() ?? [];
  }

  /** The frame's datagrams all left, the last at `nowMs`, `durationMs` after the first. */
  sent(frame: OutgoingFrame, nowMs: number, durationMs: number): void {
    let bytes = 0;
    for (const d of frame.datagrams) bytes += d.length;
    this.rate.sent(bytes, nowMs, frame.lateMs, durationMs);
  }

  /** A datagram from the network (feedback, or anything hostile): the datagrams to resend to where it came from. */
  received(datagram: Uint8Array, address: string, port: number, nowMs: number): Uint8Array[] {
    return this.feedback?.received(datagram, address, port, nowMs) ?? [];
  }

  /** What the receivers are told of the stream's rate and why, once it has begun (undefined: nothing to tell, or nobody heard). */
  announcement(nowMs: number): Uint8Array | undefined {
    if (!this.feedback || this.session.counts().frames === 0) return undefined;
    const r = this.rate.stats(nowMs);
    const state: Omit<SenderState, "stateNumber"> = { targetBps: this.rate.targetBps(nowMs), reason: r.reason, quality: r.quality, width: r.width, height: r.height, fps: r.fps };
    return this.feedback.announce(state);
  }

  /** When the last frame's interval on screen ends (undefined when unpaced). */
  endDueMs(): number | undefined {
    return this.session.endDueMs();
  }

  /**
   * Until when the end of the stream waits, answering NACKs: until the last
   * frame can no longer be repaired (its first datagram plus the receivers'
   * repair hold). A receiver gives up what it still holds when the end
   * arrives, so a sender that ended at once lost the last frame whenever one
   * of its datagrams was lost. Undefined: no wait (nobody heard, nothing sent).
   */
  repairsCloseMs(): number | undefined {
    if (!this.feedback || this.lastFrameMs === undefined) return undefined;
    return this.lastFrameMs + (this.feedback.receiversRepairHoldMs ?? DEFAULT_LATENCY_MS);
  }

  /** The datagrams that tell receivers the stream is over. */
  endOfStream(nowUs: number): Uint8Array[] {
    return this.session.endOfStream(nowUs);
  }

  status(nowMs: number): SendPipelineStatus {
    return {
      elapsedSeconds: this.session.elapsedSeconds(nowMs),
      position: this.session.position,
      counts: this.session.counts(),
      returnPath: this.feedback?.stats(nowMs),
      rate: this.rate.stats(nowMs),
      audio: this.audioTrack?.stats() ?? null,
    };
  }

  /** The target, quality, scale and frame rate over time (--json). */
  rateTrace(): RateTracePoint[] {
    return this.rate.traced();
  }

  private parityPercent(nowMs: number): number {
    return this.feedback ? this.feedback.parityPercent(nowMs) : this.options.fecPercent;
  }
}
