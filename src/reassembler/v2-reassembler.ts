import { sendPosition } from "../packetizer/send-order.ts";
import { ahead32, isNewer32 } from "../protocol/serial-number.ts";
import type { V2FrameLayout, V2Packet } from "../protocol/v2.ts";
import { rebuildMissingData } from "./v2-fec-recovery.ts";
import { chunkCount, FrameArrivals, sameLayout } from "./v2-frame-arrivals.ts";
import { StreamFollower } from "./v2-stream-follower.ts";

export interface V2ReassemblerOptions {
  /** Frames collected at once; a new frame beyond this evicts the oldest. */
  maxFramesInFlight: number;
  /** Cap on payload bytes held across all frames in flight. */
  maxBufferedBytes: number;
  /** Cap on one frame's data + parity chunks. */
  maxChunksPerFrame: number;
  /** An incomplete frame older than this is dropped by expire(). */
  frameDeadlineMs: number;
  /**
   * A different stream id takes over once the current stream has ended or
   * been silent for three of its frame intervals, clamped to this range:
   * a restarted sender is followed at once, two live ones do not flap.
   */
  streamSwitchAfterMs: { min: number; max: number };
  /**
   * How long an incomplete frame may hold back newer complete ones while it
   * waits for repair (retransmission): frames then come out in order, and a
   * frame still incomplete after this is dropped. 0 (no return path): a
   * complete frame goes out at once and older incomplete ones are dropped.
   */
  repairHoldMs: number;
}

export const DEFAULT_V2_REASSEMBLER_OPTIONS: V2ReassemblerOptions = {
  maxFramesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxChunksPerFrame: 16384,
  frameDeadlineMs: 1000,
  streamSwitchAfterMs: { min: 50, max: 500 },
  repairHoldMs: 0,
};

/** Per-chunk bookkeeping charged against the memory cap on top of its payload, so a flood of tiny chunks is bounded too. */
export const CHUNK_OVERHEAD_BYTES = 128;

export interface CompletedFrame {
  streamId: number;
  frameNumber: number;
  captureTimeUs: number;
  jpeg: Uint8Array;
  /** True when FEC filled in lost data chunks. */
  recovered: boolean;
}

export type V2Event =
  | { kind: "frame"; frame: CompletedFrame }
  | { kind: "end"; streamId: number }
  | { kind: "new-stream"; streamId: number };

/** What is remembered of a frame after it was handed on: which chunks came, to tell late chunks from duplicates. */
interface DeliveredFrame {
  frameNumber: number;
  seen: Uint8Array;
  layout: V2FrameLayout;
}

const REMEMBERED_DELIVERED = 8;
/** How long a recoverable frame waits for stragglers before expire() decodes it anyway. */
const STRAGGLER_WAIT_MS = 50;

/**
 * Collects v2 chunks, in any order and possibly twice, into whole frames,
 * recovering lost data chunks with Reed–Solomon parity when a frame's
 * groups each have enough chunks. Pure and socket-free: the caller passes
 * the clock. A frame is handed out only when all its data is there (received
 * or recovered), and only if it is newer than the last one handed out.
 * Loss, recovery, duplication and reordering are returned as counts.
 * Which stream to follow is StreamFollower's call; each frame's arrivals are
 * a FrameArrivals; FEC recovery is rebuildMissingData. This class keeps the
 * frames in flight within their memory caps and keeps the counts.
 */
export class V2Reassembler {
  private readonly follower: StreamFollower;
  private lastDelivered: number | undefined;
  private newestFrame: number | undefined;
  private lastPosition = { frame: 0, position: -1 };
  private readonly pending = new Map<number, FrameArrivals>();
  /** Complete frames held back, oldest first, while an older one waits for repair (repairHoldMs > 0). */
  private readonly ready: { frame: CompletedFrame; bytes: number }[] = [];
  private readonly delivered: DeliveredFrame[] = [];
  private buffered = 0;

  readonly stats = {
    /** Distinct chunks that arrived, late ones included. */
    chunksReceived: 0,
    chunksDuplicate: 0,
    chunksReordered: 0,
    /** Arrived after their frame was handed on (FEC did not need them) or dropped. */
    chunksLate: 0,
    /** Of the late: for a frame too old to be remembered, or after the stream ended (a replay, or very late). */
    chunksStale: 0,
    chunksForeignStream: 0,
    chunksOverLimit: 0,
    chunksInconsistent: 0,
    /** Data chunks rebuilt from parity. */
    chunksRecovered: 0,
    /** Chunks of every frame seen, as their headers announce. */
    chunksExpected: 0,
    framesCompleted: 0,
    framesRecovered: 0,
    framesDroppedIncomplete: 0,
    /** Frame numbers skipped entirely: not one chunk of them arrived. */
    framesMissing: 0,
  };

  private readonly options: V2ReassemblerOptions;

  /** The latency budget may follow the measured round trip: frames held from now on wait this long. */
  set repairHoldMs(ms: number) {
    this.options.repairHoldMs = ms;
  }

  constructor(options: Partial<V2ReassemblerOptions> = {}) {
    this.options = { ...DEFAULT_V2_REASSEMBLER_OPTIONS, ...options };
    this.follower = new StreamFollower(this.options.streamSwitchAfterMs);
  }

  /** Feeds one parsed datagram; returns what it completed or signalled (usually nothing, at most a few events). */
  push(packet: V2Packet, nowMs: number): V2Event[] {
    const events: V2Event[] = [];
    const verdict = this.follower.judge(packet.streamId, packet.endOfStream, nowMs);
    if (verdict === "foreign") {
      this.stats.chunksForeignStream++;
      return events;
    }
    if (verdict === "new") {
      this.startStream(events);
      events.push({ kind: "new-stream", streamId: packet.streamId });
    }

    if (packet.endOfStream) {
      if (!this.follower.end()) return events;
      this.recoverReadyFramesBefore(undefined, events, nowMs);
      this.dropPendingWhere(() => true);
      this.release(Infinity, events);
      events.push({ kind: "end", streamId: packet.streamId });
      return events;
    }
    if (this.follower.hasEnded) {
      this.stats.chunksLate++;
      this.stats.chunksStale++;
      return events;
    }
    this.collect(packet, nowMs, events);
    return events;
  }

  /**
   * Call on a timer: recovers a frame FEC can complete once its chunks have
   * stopped coming (its last chunk was lost and no newer frame followed), and
   * drops incomplete frames past their deadline.
   */
  expire(nowMs: number): V2Event[] {
    const events: V2Event[] = [];
    const settled = [...this.pending.values()].filter((p) => p.recoverable && nowMs - p.lastArrivalMs >= STRAGGLER_WAIT_MS);
    if (this.holding) {
      for (const frame of settled) this.complete(frame, events, nowMs);
    } else if (settled.length > 0) {
      const newest = settled.reduce((a, b) => (isNewer32(b.frameNumber, a.frameNumber) ? b : a));
      this.complete(newest, events, nowMs);
    }
    this.dropPendingWhere((p) => nowMs - p.firstSeenMs > this.options.frameDeadlineMs);
    this.release(nowMs, events);
    return events;
  }

  /** The run is over: frames held for repair go out, incomplete ones are dropped (and counted). */
  flush(): V2Event[] {
    const events: V2Event[] = [];
    this.dropPendingWhere(() => true);
    this.release(Infinity, events);
    return events;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  get framesInFlight(): number {
    return this.pending.size;
  }

  /** The frames still being collected, for the NACK planner: what arrived of each, and when it was first seen. */
  pendingFrames(): Iterable<Readonly<FrameArrivals>> {
    return this.pending.values();
  }

  /** The newest frame any chunk was seen of (loss of older frames' chunks is certain once a newer one arrives). */
  get newestFrameNumber(): number | undefined {
    return this.newestFrame;
  }

  private get holding(): boolean {
    return this.options.repairHoldMs > 0;
  }

  get currentStreamId(): number | undefined {
    return this.follower.current;
  }

  /** How long the current stream must be silent before another may take over. */
  get silenceBeforeSwitchMs(): number {
    return this.follower.silenceBeforeSwitchMs;
  }

  /**
   * Chunks a genuine sender's network would rarely produce, and a replay
   * always does: second copies, chunks of frames long gone or of a finished
   * stream, and chunks of another stream. (A first copy that arrives just
   * after its frame was handed on is an ordinary straggler, not counted.)
   */
  get staleChunks(): number {
    return this.stats.chunksDuplicate + this.stats.chunksStale + this.stats.chunksForeignStream;
  }

  /** Chunks announced but never seen, over frames that are no longer being collected. */
  get chunksLost(): number {
    let stillExpected = 0;
    for (const p of this.pending.values()) stillExpected += p.missing;
    return Math.max(0, this.stats.chunksExpected - this.stats.chunksReceived - stillExpected);
  }

  toJSON() {
    return { ...this.stats, streams: this.follower.streams, chunksLost: this.chunksLost, framesInFlight: this.pending.size, bufferedBytes: this.buffered };
  }

  private collect(packet: V2Packet, nowMs: number, events: V2Event[]): void {
    const { frameNumber } = packet;
    const position = sendPosition(packet.dataChunks, packet.groups * packet.parityPerGroup, packet.parity, packet.chunkIndex);
    const cost = packet.payload.length + CHUNK_OVERHEAD_BYTES;
    if (chunkCount(packet) > this.options.maxChunksPerFrame || cost > this.options.maxBufferedBytes) {
      this.stats.chunksOverLimit++;
      return;
    }
    this.noteOrder(frameNumber, position);
    let frame = this.pending.get(frameNumber);
    if (frame && !sameLayout(frame.layout, packet)) {
      this.stats.chunksInconsistent++;
      return;
    }
    if (frame?.has(packet)) {
      this.stats.chunksDuplicate++;
      return;
    }
    // A newer frame is arriving: the stragglers of older ones are lost, so recover those FEC can.
    // (Frames older than the last one handed on are never pending, so this only ever looks back.)
    this.recoverReadyFramesBefore(frameNumber, events, nowMs);
    const finished = (this.lastDelivered !== undefined && !isNewer32(frameNumber, this.lastDelivered)) || this.ready.some((r) => r.frame.frameNumber === frameNumber);
    if (finished) {
      this.noteLate(packet, position);
      return;
    }
    if (!frame) frame = this.startFrame(packet, nowMs);
    while (this.buffered + cost > this.options.maxBufferedBytes && this.pending.size > 1) this.dropOldestPending(frame);
    if (this.buffered + cost > this.options.maxBufferedBytes) {
      this.stats.chunksOverLimit++;
      return;
    }

    frame.add(packet, cost, nowMs);
    this.buffered += cost;
    this.stats.chunksReceived++;
    // Decode only for data that is really missing: wait for the chunk sent last (or a newer frame).
    const sentLast = position === chunkCount(frame.layout) - 1;
    if (frame.complete || (frame.recoverable && sentLast)) this.complete(frame, events, nowMs);
  }

  /** A frame is whole (or FEC can make it so): out at once, or, while holding for repairs, in order once nothing older can still be repaired. */
  private complete(frame: FrameArrivals, events: V2Event[], nowMs: number): void {
    const done = this.finish(frame);
    if (!this.holding) {
      this.lastDelivered = done.frameNumber;
      // Anything older can no longer be shown: it would go backwards in time.
      this.dropPendingWhere((p) => !isNewer32(p.frameNumber, done.frameNumber));
      events.push({ kind: "frame", frame: done });
      return;
    }
    const bytes = done.jpeg.length + CHUNK_OVERHEAD_BYTES;
    this.buffered += bytes;
    const at = this.ready.findIndex((r) => isNewer32(r.frame.frameNumber, done.frameNumber));
    this.ready.splice(at < 0 ? this.ready.length : at, 0, { frame: done, bytes });
    this.release(nowMs, events);
  }

  /**
   * Hands on held frames, oldest first, while no older frame may still be
   * repaired (first seen less than repairHoldMs ago); older frames that ran
   * out of time are dropped as each goes.
   */
  private release(nowMs: number, events: V2Event[]): void {
    while (this.ready.length > 0) {
      const head = this.ready[0]!;
      const waiting = [...this.pending.values()].some(
        (p) => isNewer32(head.frame.frameNumber, p.frameNumber) && nowMs - p.firstSeenMs < this.options.repairHoldMs,
      );
      if (waiting) return;
      this.ready.shift();
      this.buffered -= head.bytes;
      this.dropPendingWhere((p) => !isNewer32(p.frameNumber, head.frame.frameNumber));
      this.lastDelivered = head.frame.frameNumber;
      events.push({ kind: "frame", frame: head.frame });
    }
  }

  /**
   * Completes the frames older than `frameNumber` (any, if undefined) that FEC
   * can complete: every one while holding for repairs (they go out in order),
   * else only the newest (the others would be dropped by it anyway).
   */
  private recoverReadyFramesBefore(frameNumber: number | undefined, events: V2Event[], nowMs: number): void {
    const recoverable = [...this.pending.values()]
      .filter((p) => p.recoverable && (frameNumber === undefined || isNewer32(frameNumber, p.frameNumber)))
      .sort((a, b) => (isNewer32(a.frameNumber, b.frameNumber) ? 1 : -1));
    for (const frame of this.holding ? recoverable : recoverable.slice(-1)) this.complete(frame, events, nowMs);
  }

  private finish(frame: FrameArrivals): CompletedFrame {
    this.removePending(frame);
    // What arrived, recorded before FEC fills in the rest: a rebuilt chunk that turns up later is late, not a duplicate.
    this.delivered.push({ frameNumber: frame.frameNumber, seen: frame.seenPositions(), layout: frame.layout });
    if (this.delivered.length > REMEMBERED_DELIVERED) this.delivered.shift();
    const recovered = !frame.complete;
    if (recovered) this.stats.chunksRecovered += rebuildMissingData(frame);
    const jpeg = frame.assemble();
    this.follower.noteFrame(frame.frameNumber, frame.captureTimeUs);
    this.stats.framesCompleted++;
    if (recovered) this.stats.framesRecovered++;
    return { streamId: this.follower.current!, frameNumber: frame.frameNumber, captureTimeUs: frame.captureTimeUs, jpeg, recovered };
  }

  private startFrame(packet: V2Packet, nowMs: number): FrameArrivals {
    while (this.pending.size >= this.options.maxFramesInFlight) this.dropOldestPending();
    const frame = new FrameArrivals(packet.frameNumber, packet.captureTimeUs, packet, nowMs);
    this.pending.set(packet.frameNumber, frame);
    this.stats.chunksExpected += chunkCount(frame.layout);
    if (this.newestFrame === undefined || isNewer32(packet.frameNumber, this.newestFrame)) {
      if (this.newestFrame !== undefined) this.stats.framesMissing += Math.min(1_000_000, ahead32(packet.frameNumber, this.newestFrame) - 1);
      this.newestFrame = packet.frameNumber;
    }
    return frame;
  }

  /** A chunk that arrives behind one sent after it was reordered on the way. */
  private noteOrder(frameNumber: number, position: number): void {
    const last = this.lastPosition;
    const behind = isNewer32(last.frame, frameNumber) || (last.frame === frameNumber && position < last.position);
    if (behind) this.stats.chunksReordered++;
    else this.lastPosition = { frame: frameNumber, position };
  }

  private noteLate(packet: V2Packet, position: number): void {
    const memory = this.delivered.find((d) => d.frameNumber === packet.frameNumber && sameLayout(d.layout, packet));
    if (memory && !memory.seen[position]) {
      memory.seen[position] = 1;
      this.stats.chunksReceived++;
      this.stats.chunksLate++;
    } else if (memory) {
      this.stats.chunksDuplicate++;
    } else {
      this.stats.chunksLate++;
      this.stats.chunksStale++;
    }
  }

  /** A new stream is followed: the old one's held frames go out, nothing of it stays pending or remembered. */
  private startStream(events: V2Event[]): void {
    this.dropPendingWhere(() => true);
    this.release(Infinity, events);
    this.lastDelivered = undefined;
    this.newestFrame = undefined;
    this.lastPosition = { frame: 0, position: -1 };
    this.delivered.length = 0;
  }

  private dropOldestPending(keep?: FrameArrivals): void {
    let oldest: FrameArrivals | undefined;
    for (const p of this.pending.values()) {
      if (p === keep) continue;
      if (!oldest || isNewer32(oldest.frameNumber, p.frameNumber)) oldest = p;
    }
    if (!oldest) return;
    this.removePending(oldest);
    this.stats.framesDroppedIncomplete++;
  }

  private dropPendingWhere(predicate: (p: FrameArrivals) => boolean): void {
    for (const p of [...this.pending.values()]) {
      if (!predicate(p)) continue;
      this.removePending(p);
      this.stats.framesDroppedIncomplete++;
    }
  }

  private removePending(frame: FrameArrivals): void {
    this.pending.delete(frame.frameNumber);
    this.buffered -= frame.bytes;
  }
}
