import { padShard, reedSolomonFor } from "../fec/reed-solomon.ts";
import { sendPosition } from "../packetizer/send-order.ts";
import { chunkPayloadSize, groupDataChunks, isNewerFrame, type V2FrameLayout, type V2Packet } from "../protocol/v2.ts";

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
}

export const DEFAULT_V2_REASSEMBLER_OPTIONS: V2ReassemblerOptions = {
  maxFramesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxChunksPerFrame: 16384,
  frameDeadlineMs: 1000,
  streamSwitchAfterMs: { min: 50, max: 500 },
};

/** Per-chunk bookkeeping charged against the memory cap on top of its payload, so a flood of tiny chunks is bounded too. */
export const CHUNK_OVERHEAD_BYTES = 128;
/** Stream ids that were taken over are remembered so their stray (or replayed) datagrams never take over again. */
const RETIRED_STREAMS = 64;

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

interface PendingFrame {
  frameNumber: number;
  captureTimeUs: number;
  layout: V2FrameLayout;
  data: (Uint8Array | undefined)[];
  parity: (Uint8Array | undefined)[];
  /** Chunks (data and parity) received per FEC group. */
  groupReceived: Uint16Array;
  groupsReady: number;
  dataReceived: number;
  bytes: number;
  firstSeenMs: number;
  lastArrivalMs: number;
}

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
 */
export class V2Reassembler {
  private streamId: number | undefined;
  private streamEnded = false;
  private lastActivityMs = -Infinity;
  private lastDelivered: number | undefined;
  private newestFrame: number | undefined;
  private lastPosition = { frame: 0, position: -1 };
  private readonly pending = new Map<number, PendingFrame>();
  private readonly retiredStreams: number[] = [];
  /** Mean capture-time gap between consecutive frames of this stream (EWMA), once two have been seen. */
  private frameIntervalMs: number | undefined;
  private lastCapture: { frameNumber: number; captureTimeUs: number } | undefined;
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
    streams: 0,
  };

  private readonly options: V2ReassemblerOptions;

  constructor(options: Partial<V2ReassemblerOptions> = {}) {
    this.options = { ...DEFAULT_V2_REASSEMBLER_OPTIONS, ...options };
  }

  /** Feeds one parsed datagram; returns what it completed or signalled (usually nothing, at most a few events). */
  push(packet: V2Packet, nowMs: number): V2Event[] {
    const events: V2Event[] = [];
    if (packet.streamId !== this.streamId) {
      const live = this.streamId !== undefined && !this.streamEnded && nowMs - this.lastActivityMs < this.silenceBeforeSwitchMs;
      // Stray end datagrams of an old stream must not start a "new" one, nor may a stream that was over.
      if (live || packet.endOfStream || this.retiredStreams.includes(packet.streamId)) {
        this.stats.chunksForeignStream++;
        return events;
      }
      this.startStream(packet.streamId);
      events.push({ kind: "new-stream", streamId: packet.streamId });
    }
    this.lastActivityMs = nowMs;

    if (packet.endOfStream) {
      if (this.streamEnded) return events;
      this.streamEnded = true;
      this.recoverReadyFramesBefore(undefined, events);
      this.dropPendingWhere(() => true);
      events.push({ kind: "end", streamId: packet.streamId });
      return events;
    }
    if (this.streamEnded) {
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
    const settled = [...this.pending.values()].filter(
      (p) => p.groupsReady === p.layout.groups && nowMs - p.lastArrivalMs >= STRAGGLER_WAIT_MS,
    );
    if (settled.length > 0) {
      const newest = settled.reduce((a, b) => (isNewerFrame(b.frameNumber, a.frameNumber) ? b : a));
      events.push({ kind: "frame", frame: this.finish(newest, this.streamId!) });
    }
    this.dropPendingWhere((p) => nowMs - p.firstSeenMs > this.options.frameDeadlineMs);
    return events;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  get framesInFlight(): number {
    return this.pending.size;
  }

  get currentStreamId(): number | undefined {
    return this.streamId;
  }

  /** How long the current stream must be silent before another may take over. */
  get silenceBeforeSwitchMs(): number {
    const { min, max } = this.options.streamSwitchAfterMs;
    return this.frameIntervalMs === undefined ? max : Math.min(max, Math.max(min, 3 * this.frameIntervalMs));
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
    for (const p of this.pending.values()) stillExpected += chunkCount(p.layout) - sum(p.groupReceived);
    return Math.max(0, this.stats.chunksExpected - this.stats.chunksReceived - stillExpected);
  }

  toJSON() {
    return { ...this.stats, chunksLost: this.chunksLost, framesInFlight: this.pending.size, bufferedBytes: this.buffered };
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
    const slots = frame ? (packet.parity ? frame.parity : frame.data) : undefined;
    if (slots?.[packet.chunkIndex]) {
      this.stats.chunksDuplicate++;
      return;
    }
    // A newer frame is arriving: the stragglers of older ones are lost, so recover those FEC can.
    // (Frames older than the last one handed on are never pending, so this only ever looks back.)
    this.recoverReadyFramesBefore(frameNumber, events);
    if (this.lastDelivered !== undefined && !isNewerFrame(frameNumber, this.lastDelivered)) {
      this.noteLate(packet, position);
      return;
    }
    if (!frame) frame = this.startFrame(packet, nowMs);
    while (this.buffered + cost > this.options.maxBufferedBytes && this.pending.size > 1) this.dropOldestPending(frame);
    if (this.buffered + cost > this.options.maxBufferedBytes) {
      this.stats.chunksOverLimit++;
      return;
    }

    (packet.parity ? frame.parity : frame.data)[packet.chunkIndex] = packet.payload;
    if (!packet.parity) frame.dataReceived++;
    frame.bytes += cost;
    frame.lastArrivalMs = nowMs;
    this.buffered += cost;
    this.stats.chunksReceived++;
    const group = packet.chunkIndex % frame.layout.groups;
    if (++frame.groupReceived[group]! === groupDataChunks(frame.layout, group)) frame.groupsReady++;

    const complete = frame.dataReceived === frame.layout.dataChunks;
    // Decode only for data that is really missing: wait for the chunk sent last (or a newer frame).
    const recoverable = frame.groupsReady === frame.layout.groups && position === chunkCount(frame.layout) - 1;
    if (complete || recoverable) events.push({ kind: "frame", frame: this.finish(frame, packet.streamId) });
  }

  /** Hands on the newest frame older than `frameNumber` (any, if undefined) that FEC can complete. */
  private recoverReadyFramesBefore(frameNumber: number | undefined, events: V2Event[]): void {
    let newest: PendingFrame | undefined;
    for (const p of this.pending.values()) {
      if (p.groupsReady < p.layout.groups) continue;
      if (frameNumber !== undefined && !isNewerFrame(frameNumber, p.frameNumber)) continue;
      if (!newest || isNewerFrame(p.frameNumber, newest.frameNumber)) newest = p;
    }
    if (newest && this.streamId !== undefined) events.push({ kind: "frame", frame: this.finish(newest, this.streamId) });
  }

  private finish(frame: PendingFrame, streamId: number): CompletedFrame {
    this.removePending(frame);
    // What arrived, recorded before FEC fills in the rest: a rebuilt chunk that turns up later is late, not a duplicate.
    this.rememberDelivered(frame);
    const recovered = frame.dataReceived < frame.layout.dataChunks;
    if (recovered) this.recoverData(frame);
    const jpeg = new Uint8Array(frame.layout.frameLength);
    let offset = 0;
    for (const chunk of frame.data) {
      const take = Math.min(chunk!.length, jpeg.length - offset); // a recovered last chunk carries padding
      jpeg.set(chunk!.subarray(0, take), offset);
      offset += take;
    }
    this.lastDelivered = frame.frameNumber;
    this.noteInterval(frame);
    this.stats.framesCompleted++;
    if (recovered) this.stats.framesRecovered++;
    // Anything older can no longer be shown: it would go backwards in time.
    this.dropPendingWhere((p) => !isNewerFrame(p.frameNumber, frame.frameNumber));
    return { streamId, frameNumber: frame.frameNumber, captureTimeUs: frame.captureTimeUs, jpeg, recovered };
  }

  /** Rebuilds each group's missing data chunks from any k of its chunks. */
  private recoverData(frame: PendingFrame): void {
    const { layout } = frame;
    const size = chunkPayloadSize(layout);
    for (let g = 0; g < layout.groups; g++) {
      const members: number[] = [];
      for (let i = g; i < layout.dataChunks; i += layout.groups) members.push(i);
      if (members.every((i) => frame.data[i])) continue;
      const shards: (Uint8Array | undefined)[] = members.map((i) => frame.data[i] && padShard(frame.data[i]!, size));
      for (let row = 0; row < layout.parityPerGroup; row++) shards.push(frame.parity[row * layout.groups + g]);
      const data = reedSolomonFor(members.length, layout.parityPerGroup).reconstruct(shards);
      members.forEach((i, r) => {
        if (frame.data[i]) return;
        frame.data[i] = data[r]!;
        this.stats.chunksRecovered++;
      });
    }
  }

  private startFrame(packet: V2Packet, nowMs: number): PendingFrame {
    while (this.pending.size >= this.options.maxFramesInFlight) this.dropOldestPending();
    const layout: V2FrameLayout = {
      dataChunks: packet.dataChunks,
      groups: packet.groups,
      parityPerGroup: packet.parityPerGroup,
      frameLength: packet.frameLength,
    };
    const frame: PendingFrame = {
      frameNumber: packet.frameNumber,
      captureTimeUs: packet.captureTimeUs,
      layout,
      data: new Array(layout.dataChunks),
      parity: new Array(layout.groups * layout.parityPerGroup),
      groupReceived: new Uint16Array(layout.groups),
      groupsReady: 0,
      dataReceived: 0,
      bytes: 0,
      firstSeenMs: nowMs,
      lastArrivalMs: nowMs,
    };
    this.pending.set(packet.frameNumber, frame);
    this.stats.chunksExpected += chunkCount(layout);
    if (this.newestFrame === undefined || isNewerFrame(packet.frameNumber, this.newestFrame)) {
      if (this.newestFrame !== undefined) this.stats.framesMissing += Math.min(1_000_000, ((packet.frameNumber - this.newestFrame) >>> 0) - 1);
      this.newestFrame = packet.frameNumber;
    }
    return frame;
  }

  /** A chunk that arrives behind one sent after it was reordered on the way. */
  private noteOrder(frameNumber: number, position: number): void {
    const last = this.lastPosition;
    const behind = isNewerFrame(last.frame, frameNumber) || (last.frame === frameNumber && position < last.position);
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

  private rememberDelivered(frame: PendingFrame): void {
    const { layout } = frame;
    const parityCount = layout.groups * layout.parityPerGroup;
    const seen = new Uint8Array(layout.dataChunks + parityCount);
    frame.data.forEach((chunk, i) => chunk && (seen[sendPosition(layout.dataChunks, parityCount, false, i)] = 1));
    frame.parity.forEach((chunk, p) => chunk && (seen[sendPosition(layout.dataChunks, parityCount, true, p)] = 1));
    this.delivered.push({ frameNumber: frame.frameNumber, seen, layout });
    if (this.delivered.length > REMEMBERED_DELIVERED) this.delivered.shift();
  }

  private noteInterval(frame: PendingFrame): void {
    const previous = this.lastCapture;
    this.lastCapture = { frameNumber: frame.frameNumber, captureTimeUs: frame.captureTimeUs };
    if (!previous) return;
    const frames = (frame.frameNumber - previous.frameNumber) >>> 0;
    const gapMs = ((frame.captureTimeUs - previous.captureTimeUs) >>> 0) / 1000 / frames;
    if (!(gapMs > 0 && gapMs < 10_000)) return; // clocks apart or a wrapped counter: no estimate from this pair
    this.frameIntervalMs = this.frameIntervalMs === undefined ? gapMs : 0.8 * this.frameIntervalMs + 0.2 * gapMs;
  }

  private startStream(streamId: number): void {
    this.dropPendingWhere(() => true);
    if (this.streamId !== undefined) {
      this.retiredStreams.push(this.streamId);
      if (this.retiredStreams.length > RETIRED_STREAMS) this.retiredStreams.shift();
    }
    this.frameIntervalMs = undefined;
    this.lastCapture = undefined;
    this.streamId = streamId;
    this.streamEnded = false;
    this.lastDelivered = undefined;
    this.newestFrame = undefined;
    this.lastPosition = { frame: 0, position: -1 };
    this.delivered.length = 0;
    this.stats.streams++;
  }

  private dropOldestPending(keep?: PendingFrame): void {
    let oldest: PendingFrame | undefined;
    for (const p of this.pending.values()) {
      if (p === keep) continue;
      if (!oldest || isNewerFrame(oldest.frameNumber, p.frameNumber)) oldest = p;
    }
    if (!oldest) return;
    this.removePending(oldest);
    this.stats.framesDroppedIncomplete++;
  }

  private dropPendingWhere(predicate: (p: PendingFrame) => boolean): void {
    for (const p of [...this.pending.values()]) {
      if (!predicate(p)) continue;
      this.removePending(p);
      this.stats.framesDroppedIncomplete++;
    }
  }

  private removePending(frame: PendingFrame): void {
    this.pending.delete(frame.frameNumber);
    this.buffered -= frame.bytes;
  }
}

function chunkCount(layout: V2FrameLayout): number {
  return layout.dataChunks + layout.groups * layout.parityPerGroup;
}

function sameLayout(a: V2FrameLayout, b: V2FrameLayout): boolean {
  return a.dataChunks === b.dataChunks && a.groups === b.groups && a.parityPerGroup === b.parityPerGroup && a.frameLength === b.frameLength;
}

function sum(values: Uint16Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
