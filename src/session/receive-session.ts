import { decodeJpeg, OversizedFrameError } from "../decoder/jpeg-decoder.ts";
import { pictureBytes, type Picture } from "../decoder/picture.ts";
import { LatestFrameDecoder } from "../decoder/latest-frame-decoder.ts";
import { qualityOfLumaTable, readJpegSize, readLumaTable } from "../decoder/jpeg-header.ts";
import type { StreamReadout } from "../display/stream-readout.ts";
import { elapsedSinceCaptureUs } from "../protocol/v2.ts";
import { forward32 } from "../protocol/serial-number.ts";
import { StreamAssembler, type AssembledFrame, type AssemblerEvent, type StreamAssemblerOptions } from "../reassembler/stream-assembler.ts";
import { ReceiverFeedback } from "../feedback/receiver-feedback.ts";
import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";
import type { OutgoingDatagram } from "../socket/endpoint.ts";
import { RecentSamples } from "../util/percentiles.ts";
import { RateWindow } from "../util/rate-window.ts";
import { FramePresenter, type PresenterStats } from "./frame-presenter.ts";
import { round } from "../util/round.ts";
import { bytesEqual } from "../util/bytes.ts";

/** Silence this long after a stream counts as its end: the legacy protocol and RTP have no end marker. */
export const ENDED_AFTER_SILENCE_MS = 3000;
/**
 * Frames that come out together (those held behind one repaired by
 * retransmission) wait here, at most this many, to be shown one after
 * another at half their capture spacing, catching up, instead of replacing
 * each other in the decoder. Beyond it, or when decoding cannot keep up at
 * all, the oldest are skipped: a live picture must not lag.
 */
const MAX_BACKLOG = 6;
/** A frame that waited this long for the decoder is stale: decoding is not keeping up, skip it (the newest always stays). */
const MAX_BACKLOG_WAIT_MS = 150;

export interface ReceiveClock {
  /** Monotonic milliseconds. */
  nowMs(): number;
  /** Wall-clock microseconds, the sender's capture times' clock. */
  wallClockUs(): number;
}

/** The clock the picture follows when there is one (the sound's). */
export interface PictureClock {
  /** A frame captured at `captureUs` is decoded and ready at `nowMs` (how long the picture takes counts toward the clock's delay). */
  frameReady(captureUs: number, nowMs: number): void;
  /** When a frame captured at `captureUs` is to be shown, as the clock stands at `nowMs` (undefined: at once). */
  dueMs(captureUs: number, nowMs: number): number | undefined;
}

export interface ReceiveSessionOptions extends Omit<StreamAssemblerOptions, "feedback"> {
  /** With sound playing, each frame waits for its time on the sound's clock. */
  pictureClock?: PictureClock;
  maxPixels: number;
  /** v2's return path (unicast): NACKs and reports to the sender, frames held for repair within the latency budget. */
  returnPath?: { latencyMs?: number };
  /** Decodes a frame; by default sharp/libvips with the --max-pixels check. */
  decode?: (jpeg: Uint8Array, maxPixels: number) => Promise<Picture>;
}

/** What a session hands on: each frame it shows, each sound packet as it arrives, and the end of a stream. */
export interface ReceiveSessionHandlers {
  show(frame: AssembledFrame, image: Picture): void;
  /**
   * A frame is decoded, before it waits for its time: an output slow to
   * take its first picture (a window's first draw) gets ready now, and the
   * frame counts as ready once it has.
   */
  prepare?(image: Picture): void;
  /**
   * A whole frame came together, before it is decoded or waits for its
   * time: for outputs that take the JPEG as it is (the browsers, which
   * decode it themselves). Only frames whose header names a size within
   * --max-pixels: a forged size would reach them undecoded.
   */
  assembled?(frame: AssembledFrame, nowMs: number): void;
  heard?(audio: ReceivedAudio, nowMs: number): void;
  /** A frame waits for its time on the picture clock: call present() at `dueMs` (said again when the clock has moved it). */
  waiting?(dueMs: number): void;
  ended(): void;
}

/** The counts a receive run ends with (the command adds the socket's and the exit's facts). */
export interface ReceiveCounts {
  datagramsReceived: number;
  datagramsRejected: number;
  rejectedByReason: Record<string, number>;
  /** v2 and RTP (legacy datagrams carry no numbers to count loss by). */
  datagramsLost: number;
  datagramsRecovered: number;
  datagramsDuplicated: number;
  datagramsReordered: number;
  datagramsLate: number;
  bytesReceived: number;
  framesReceived: number;
  framesRecovered: number;
  framesShown: number;
  framesSkipped: number;
  framesDroppedIncomplete: number;
  framesCorrupt: number;
  /** Of the corrupt: refused unopened because the header claimed more than --max-pixels. */
  framesOversized: number;
  fps: number;
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /** How long decoding a frame took (its share of the latency). */
  decodeMs: { p50: number; p95: number; p99: number } | null;
  streamEnded: boolean;
  /** The return path (v2 unicast): round trip as measured by answered NACKs, what was asked and what it saved. */
  returnPath: {
    latencyBudgetMs: number;
    rttMs: number | null;
    nacksSent: number;
    chunksAsked: number;
    chunksRetransmitted: number;
    framesSavedByRetransmission: number;
    /** Sound packets asked for again (audio NACKs, repeats included), and those that came back. */
    audioAsked: number;
    audioResent: number;
  } | null;
  /** What the sender last said of its rate (v2 with a return path): its target, why, and how it encodes. */
  sender: { targetMbps: number | null; reason: string; quality: number; width: number; height: number; fps: number } | null;
  /** The sound track's packets as they arrived (null: the stream had no sound). */
  audio: { packetsReceived: number; packetsRecovered: number; packetsDuplicate: number; packetsLate: number } | null;
}

/**
 * One receiver's state, socket-free: datagrams in (with the time they came),
 * frames assembled and decoded (the newest first, skipping what a newer one
 * overtook), shown through the handlers, and every count behind the status
 * line, the window's readout and the summary. The command around it owns the
 * socket, the window, the recorder and the timers.
 */
export class ReceiveSession {
  private readonly assembler: StreamAssembler;
  private readonly feedback: ReceiverFeedback | undefined;
  private readonly decoder: LatestFrameDecoder<AssembledFrame, Picture>;
  private readonly latency = new RecentSamples();
  private readonly decodeTimes = new RecentSamples();
  // Small windows for the live readout: the last couple of seconds.
  private readonly recentLatency = new RecentSamples(60);
  private readonly recentDecodeTimes = new RecentSamples(60);
  private readonly rates = new RateWindow<"shown" | "bytes" | "lost" | "expected">();
  private shown = 0;
  /** The last shown frame's luma table (a copy; a sender that adapts changes it), and the quality worked out from it when a readout last asked. */
  private lastLumaTable: Uint8Array | undefined;
  private quality: { table: Uint8Array; value: number | undefined } | undefined;
  private firstShownMs = 0;
  private lastShownMs = 0;
  private oversized = 0;
  private streamStarted = false;
  private streamEnded = false;
  private lastDatagramMs = 0;
  private readonly backlog: { frame: AssembledFrame; sinceMs: number }[] = [];
  private readonly presenter: FramePresenter<{ frame: AssembledFrame; image: Picture }>;
  private readonly pictureClock: PictureClock | undefined;
  private nextOfferMs = 0;
  private backlogSkipped = 0;
  /** Frames overtaken while waiting for their time on the picture clock. */
  private presenterSkipped = 0;
  /** When the first frame waiting for its time is due, as last worked out (see presentIfDue); undefined: none waits. */
  private nextDueAtMs: number | undefined;
  private readonly maxPixels: number;

  constructor(
    options: ReceiveSessionOptions,
    private readonly handlers: ReceiveSessionHandlers,
    private readonly clock: ReceiveClock,
  ) {
    this.maxPixels = options.maxPixels;
    const pictureClock = (this.pictureClock = options.pictureClock);
    this.presenter = new FramePresenter(pictureClock ? (captureUs, nowMs) => pictureClock.dueMs(captureUs, nowMs) : undefined);
    this.feedback = options.returnPath ? new ReceiverFeedback({ latencyMs: options.returnPath.latencyMs, preSharedKey: options.key }) : undefined;
    this.assembler = new StreamAssembler({ ...options, feedback: this.feedback });
    const decode = options.decode ?? decodeJpeg;
    this.decoder = new LatestFrameDecoder<AssembledFrame, Picture>(
      async (frame) => {
        const started = this.clock.nowMs();
        const image = await decode(frame.jpeg, options.maxPixels);
        const took = this.clock.nowMs() - started;
        this.decodeTimes.add(took);
        this.recentDecodeTimes.add(took);
        return image;
      },
      (frame, image) => this.decoded(frame, image),
      (_frame, error) => {
        if (error instanceof OversizedFrameError) this.oversized++;
      },
    );
  }

  /** One datagram from `source`:`port`, arrived at `nowMs`. Returns false if it was refused (counted by reason in stats()). */
  receive(datagram: Uint8Array, source: string, nowMs: number, port?: number): boolean {
    const rejectedBefore = this.assembler.datagramsRejected;
    const events = this.assembler.push(datagram, nowMs, source, port);
    const accepted = this.assembler.datagramsRejected === rejectedBefore;
    if (accepted) {
      this.streamStarted = true;
      this.lastDatagramMs = nowMs;
    }
    this.handle(events);
    this.presentIfDue(nowMs);
    return accepted;
  }

  /**
   * Shows a waiting frame whose time has come, from whatever runs: the
   * shell's timer for it can fire tens of ms late while datagrams and
   * decodes keep the event loop busy (the first frame was seen 38 ms after
   * its beep so), and datagrams come every millisecond or so.
   */
  private presentIfDue(nowMs: number): void {
    // By the time last worked out, not the clock asked afresh for each of thousands of datagrams a second; it is
    // worked out again each time a frame waits, is shown, or the housekeeping ticks (the clock moves it slowly).
    if (this.nextDueAtMs === undefined || nowMs < this.nextDueAtMs) return;
    this.present(nowMs);
    this.nextDueAtMs = this.presenter.nextDueMs(nowMs);
  }

  /** Call on a timer: frames that waited long enough are finished or given up; returns the feedback to send now. */
  tick(nowMs: number): OutgoingDatagram[] {
    this.present(nowMs);
    // The clock may have moved the next frame's time since its timer was set.
    const next = (this.nextDueAtMs = this.presenter.nextDueMs(nowMs));
    if (next !== undefined) this.handlers.waiting?.(next);
    this.handle(this.assembler.expire(nowMs));
    this.pump(nowMs);
    this.feedback?.noteLoad(this.backlog.length > 0 ? nowMs - this.backlog[0]!.sinceMs : 0, this.decoder.stats.skipped + this.backlogSkipped);
    return this.assembler.replies(nowMs);
  }

  /** A stream started and has been silent this long (for --idle-timeout). */
  silentForMs(nowMs: number): number | undefined {
    return this.streamStarted ? nowMs - this.lastDatagramMs : undefined;
  }

  /**
   * The run is over: frames held for repair are shown, frames still
   * incomplete are counted as dropped, and everything waiting is decoded, so
   * the counts account for every frame that arrived in part or whole.
   */
  async finish(): Promise<void> {
    this.handle(this.assembler.flush());
    await this.idle();
    const last = this.presenter.flush().at(-1);
    if (last) this.show(last.frame, last.image);
  }

  /** Shows the frames whose time on the picture clock has come. */
  present(nowMs: number): void {
    const due = this.presenter.due(nowMs);
    // Only the newest is worth drawing; the others were overtaken while waiting.
    for (const [i, { frame, image }] of due.entries()) if (i === due.length - 1) this.show(frame, image);
    this.presenterSkipped += Math.max(0, due.length - 1);
  }

  /** When the next frame waiting for its time is due, as the clock stands at `nowMs` (the shell sets a timer for it); undefined when none waits. */
  nextPresentMs(nowMs: number): number | undefined {
    return (this.nextDueAtMs = this.presenter.nextDueMs(nowMs));
  }

  /** Frames not shown because newer ones overtook them: in the decoder, the backlog, or waiting for their time. */
  private get framesSkipped(): number {
    return this.decoder.stats.skipped + this.backlogSkipped + this.presenterSkipped + this.presenter.skipped;
  }

  /** When the last frames were shown against their time on the picture clock, median (undefined: none followed it). */
  get recentAvOffsetMs(): number | undefined {
    return this.presenter.recentOffsetMs;
  }

  /** The picture against the picture clock (null: no clock was followed). */
  presenterStats(): PresenterStats | null {
    const stats = this.presenter.stats();
    return stats.offsetMs ? stats : null;
  }

  /** Resolves once every frame waiting is decoded and shown (no more waiting for turns). */
  async idle(): Promise<void> {
    for (;;) {
      this.pump(this.clock.nowMs(), true);
      await this.decoder.idle();
      // A frame shown hands the decoder the next one (a microtask) as the wait ends: idle only once that is done too.
      if (this.backlog.length === 0 && !this.decoder.working) return;
    }
  }

  get rejectedByReason(): Readonly<Record<string, number | undefined>> {
    return this.assembler.rejectedByReason;
  }

  /** The numbers behind the window title, the overlay and the status line, over the last couple of seconds. */
  readout(nowMs: number, port: number, frozen: boolean): StreamReadout {
    const s = this.assembler.stats();
    const perSecond = this.rates.push(nowMs, { shown: this.shown, bytes: s.bytesReceived, lost: s.datagramsLost, expected: s.datagramsExpected });
    const expected = this.rates.growth("expected");
    const silent = this.streamStarted && nowMs - this.lastDatagramMs > ENDED_AFTER_SILENCE_MS;
    return {
      port,
      state: !this.streamStarted ? "waiting" : this.streamEnded || silent ? "ended" : "receiving",
      frozen,
      fps: perSecond.shown,
      mbps: (perSecond.bytes * 8) / 1e6,
      lossPercent: expected > 0 ? (100 * this.rates.growth("lost")) / expected : undefined,
      latencyMs: this.recentLatency.count ? this.recentLatency.percentile(50) : undefined,
      decodeMs: this.recentDecodeTimes.count ? this.recentDecodeTimes.percentile(50) : undefined,
      shown: this.shown,
      skipped: this.framesSkipped,
      dropped: s.framesDroppedIncomplete + this.decoder.stats.corrupt,
      recoveredFrames: s.framesRecovered,
      rejected: s.datagramsRejected,
      rttMs: this.feedback?.rttMs,
      framesSavedByRetransmission: this.feedback?.stats.framesSavedByRetransmission ?? 0,
      quality: this.shownQuality(),
      sender: this.senderReadout(),
    };
  }

  /** The JPEG quality of the frame last shown, worked out again only when its table changed (rate control moved the quality). */
  private shownQuality(): number | undefined {
    const table = this.lastLumaTable;
    if (!table) return undefined;
    if (this.quality?.table !== table) this.quality = { table, value: qualityOfLumaTable(table) };
    return this.quality.value;
  }

  private senderReadout(): StreamReadout["sender"] {
    const sender = this.feedback?.sender;
    return sender && { targetMbps: sender.targetBps === undefined ? null : round(sender.targetBps / 1e6, 2), reason: sender.reason };
  }

  counts(): ReceiveCounts {
    const s = this.assembler.stats();
    const percentiles = (samples: RecentSamples) =>
      samples.count > 0 ? { p50: round(samples.percentile(50)!, 1), p95: round(samples.percentile(95)!, 1), p99: round(samples.percentile(99)!, 1) } : null;
    return {
      datagramsReceived: s.datagramsReceived,
      datagramsRejected: s.datagramsRejected,
      rejectedByReason: { ...(s.rejectedByReason as Record<string, number>) },
      datagramsLost: s.datagramsLost,
      datagramsRecovered: s.datagramsRecovered,
      datagramsDuplicated: s.datagramsDuplicated,
      datagramsReordered: s.datagramsReordered,
      datagramsLate: s.datagramsLate,
      bytesReceived: s.bytesReceived,
      framesReceived: s.framesCompleted,
      framesRecovered: s.framesRecovered,
      framesShown: this.shown,
      framesSkipped: this.framesSkipped,
      framesDroppedIncomplete: s.framesDroppedIncomplete,
      framesCorrupt: this.decoder.stats.corrupt,
      framesOversized: this.oversized,
      // Over the time frames were being shown, not the time spent waiting for a stream.
      fps: this.shown > 1 ? round((this.shown - 1) / ((this.lastShownMs - this.firstShownMs) / 1000), 2) : 0,
      latencyMs: percentiles(this.latency),
      decodeMs: percentiles(this.decodeTimes),
      streamEnded: this.streamEnded,
      returnPath: this.feedback
        ? {
            latencyBudgetMs: this.feedback.latencyBudgetMs,
            rttMs: this.feedback.rttMs === undefined ? null : round(this.feedback.rttMs, 1),
            nacksSent: this.feedback.stats.nacksSent,
            chunksAsked: this.feedback.chunksAsked,
            chunksRetransmitted: this.feedback.chunksAnswered,
            framesSavedByRetransmission: this.feedback.stats.framesSavedByRetransmission,
            audioAsked: this.feedback.audioCounts.asked,
            audioResent: this.feedback.audioCounts.answered,
          }
        : null,
      audio: audioCounts(this.assembler.audioStats()),
      sender: this.feedback?.sender ? { ...this.senderReadout()!, quality: this.feedback.sender.quality, width: this.feedback.sender.width, height: this.feedback.sender.height, fps: this.feedback.sender.fps } : null,
    };
  }

  private handle(events: AssemblerEvent[]): void {
    for (const event of events) {
      if (event.kind === "frame") {
        this.streamEnded = false;
        if (this.handlers.assembled) {
          const size = readJpegSize(event.frame.jpeg);
          if (size && size.width * size.height <= this.maxPixels) this.handlers.assembled(event.frame, this.clock.nowMs());
        }
        this.backlog.push({ frame: event.frame, sinceMs: this.clock.nowMs() });
        while (this.backlog.length > MAX_BACKLOG) {
          this.backlog.shift();
          this.backlogSkipped++;
        }
        this.pump(this.clock.nowMs());
      } else if (event.kind === "audio") {
        this.handlers.heard?.(event.audio, this.clock.nowMs());
      } else {
        this.streamEnded = true;
        this.handlers.ended();
      }
    }
  }

  /** Hands the decoder the next frame of the backlog when it has room and the frame's turn has come. */
  private pump(nowMs: number, flushing = false): void {
    if (flushing) this.nextOfferMs = 0;
    while (!flushing && this.backlog.length > 1 && nowMs - this.backlog[0]!.sinceMs > MAX_BACKLOG_WAIT_MS) {
      this.backlog.shift();
      this.backlogSkipped++;
    }
    while (this.backlog.length > 0 && !this.decoder.full && (flushing || nowMs >= this.nextOfferMs)) {
      const frame = this.backlog.shift()!.frame;
      // The next one follows at half their capture spacing: catching up (none for protocols without capture times).
      const next = this.backlog[0]?.frame;
      const spacingMs =
        frame.captureTimeUs !== undefined && next?.captureTimeUs !== undefined ? Math.min(50, (forward32(next.captureTimeUs, frame.captureTimeUs) ?? 0) / 2000) : 0;
      this.nextOfferMs = nowMs + spacingMs;
      this.decoder.offer(frame);
    }
  }

  /** A frame decoded: shown now, or held until its time on the picture clock. */
  private decoded(frame: AssembledFrame, image: Picture): void {
    this.handlers.prepare?.(image);
    const nowMs = this.clock.nowMs();
    if (frame.captureTimeUs !== undefined) this.pictureClock?.frameReady(frame.captureTimeUs, nowMs);
    const now = this.presenter.add({ frame, image }, frame.captureTimeUs, nowMs, pictureBytes(image));
    for (const [i, { frame: f, image: img }] of now.entries()) if (i === now.length - 1) this.show(f, img);
    this.presenterSkipped += Math.max(0, now.length - 1);
    const next = (this.nextDueAtMs = this.presenter.nextDueMs(nowMs));
    if (next !== undefined) {
      queueMicrotask(() => this.pump(this.clock.nowMs()));
      this.handlers.waiting?.(next);
    }
  }

  private show(frame: AssembledFrame, image: Picture): void {
    this.lastShownMs = this.clock.nowMs();
    queueMicrotask(() => this.pump(this.clock.nowMs()));
    if (this.shown++ === 0) this.firstShownMs = this.lastShownMs;
    // Only the table is kept here: matching it to a quality took 12-15 ms on the first frame (cold code on a busy thread), and the first frame was that much late.
    const table = readLumaTable(frame.jpeg);
    if (!table) this.lastLumaTable = undefined;
    else if (!this.lastLumaTable || !bytesEqual(this.lastLumaTable, table)) this.lastLumaTable = table.slice();
    this.handlers.show(frame, image);
    const elapsed = frame.captureTimeUs === undefined || frame.captureAnchoredOnArrival ? undefined : elapsedSinceCaptureUs(this.clock.wallClockUs(), frame.captureTimeUs);
    if (elapsed !== undefined) {
      this.latency.add(elapsed / 1000);
      this.recentLatency.add(elapsed / 1000);
    }
  }
}

function audioCounts(stats: ReturnType<StreamAssembler["audioStats"]>): ReceiveCounts["audio"] {
  if (stats.packetsReceived + stats.packetsRecovered === 0) return null;
  const { packetsReceived, packetsRecovered, packetsDuplicate, packetsLate } = stats;
  return { packetsReceived, packetsRecovered, packetsDuplicate, packetsLate };
}
