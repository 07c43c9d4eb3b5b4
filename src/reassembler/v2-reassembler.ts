import { isNewerFrame, type V2Packet } from "../protocol/v2.ts";

export interface V2ReassemblerOptions {
  /** Frames collected at once; a new frame beyond this evicts the oldest. */
  maxFramesInFlight: number;
  /** Cap on payload bytes held across all frames in flight. */
  maxBufferedBytes: number;
  /** Cap on one frame's chunk count (chunk count × payload size bounds its size). */
  maxChunksPerFrame: number;
  /** An incomplete frame older than this is dropped by expire(). */
  frameDeadlineMs: number;
  /** A different stream id takes over once the current stream has been silent this long (or has ended). */
  streamSwitchAfterMs: number;
}

export const DEFAULT_V2_REASSEMBLER_OPTIONS: V2ReassemblerOptions = {
  maxFramesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxChunksPerFrame: 8192,
  frameDeadlineMs: 1000,
  streamSwitchAfterMs: 500,
};

export interface CompletedFrame {
  streamId: number;
  frameNumber: number;
  captureTimeUs: number;
  jpeg: Uint8Array;
}

export type V2Event =
  | { kind: "frame"; frame: CompletedFrame }
  | { kind: "end"; streamId: number }
  | { kind: "new-stream"; streamId: number };

interface PendingFrame {
  frameNumber: number;
  captureTimeUs: number;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  firstSeenMs: number;
}

/**
 * Collects v2 chunks, in any order and possibly twice, into whole frames.
 * Pure and socket-free: the caller passes the clock. A frame is handed out
 * only when every chunk is there, and only if it is newer than the last one
 * handed out; older incomplete frames are dropped when a newer one
 * completes, when they pass their deadline, or when memory caps are hit.
 */
export class V2Reassembler {
  private streamId: number | undefined;
  private streamEnded = false;
  private lastActivityMs = -Infinity;
  private lastDelivered: number | undefined;
  private readonly pending = new Map<number, PendingFrame>();
  private buffered = 0;

  readonly stats = {
    chunksAccepted: 0,
    chunksDuplicate: 0,
    chunksStale: 0,
    chunksForeignStream: 0,
    chunksOverLimit: 0,
    chunksInconsistent: 0,
    framesCompleted: 0,
    framesDroppedIncomplete: 0,
    streams: 0,
  };

  private readonly options: V2ReassemblerOptions;

  constructor(options: Partial<V2ReassemblerOptions> = {}) {
    this.options = { ...DEFAULT_V2_REASSEMBLER_OPTIONS, ...options };
  }

  push(packet: V2Packet, nowMs: number): V2Event | undefined {
    let event: V2Event | undefined;
    if (packet.streamId !== this.streamId) {
      const current = this.streamId !== undefined && !this.streamEnded && nowMs - this.lastActivityMs < this.options.streamSwitchAfterMs;
      // Stray end datagrams of an old stream must not start a "new" one.
      if (current || packet.endOfStream) {
        this.stats.chunksForeignStream++;
        return undefined;
      }
      this.startStream(packet.streamId);
      event = { kind: "new-stream", streamId: packet.streamId };
    }
    this.lastActivityMs = nowMs;

    if (packet.endOfStream) {
      if (this.streamEnded) return undefined;
      this.streamEnded = true;
      this.dropPendingWhere(() => true);
      return { kind: "end", streamId: packet.streamId };
    }
    if (this.streamEnded) {
      // Chunks after the end datagrams: reordered stragglers of the ended stream.
      this.stats.chunksStale++;
      return event;
    }
    const frame = this.collect(packet, nowMs);
    return frame ? { kind: "frame", frame } : event;
  }

  /** Drops incomplete frames past their deadline. Call on a timer. */
  expire(nowMs: number): void {
    this.dropPendingWhere((p) => nowMs - p.firstSeenMs > this.options.frameDeadlineMs);
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

  toJSON() {
    return { ...this.stats, framesInFlight: this.pending.size, bufferedBytes: this.buffered };
  }

  private collect(packet: V2Packet, nowMs: number): CompletedFrame | undefined {
    const { frameNumber, chunkIndex, chunkCount, payload } = packet;
    if (this.lastDelivered !== undefined && !isNewerFrame(frameNumber, this.lastDelivered)) {
      this.stats.chunksStale++;
      return undefined;
    }
    if (chunkCount > this.options.maxChunksPerFrame || payload.length > this.options.maxBufferedBytes) {
      this.stats.chunksOverLimit++;
      return undefined;
    }
    let frame = this.pending.get(frameNumber);
    if (frame && frame.chunks.length !== chunkCount) {
      this.stats.chunksInconsistent++;
      return undefined;
    }
    if (frame?.chunks[chunkIndex]) {
      this.stats.chunksDuplicate++;
      return undefined;
    }
    if (!frame) {
      while (this.pending.size >= this.options.maxFramesInFlight) this.dropOldestPending();
      frame = {
        frameNumber,
        captureTimeUs: packet.captureTimeUs,
        chunks: new Array(chunkCount),
        received: 0,
        bytes: 0,
        firstSeenMs: nowMs,
      };
      this.pending.set(frameNumber, frame);
    }
    while (this.buffered + payload.length > this.options.maxBufferedBytes && this.pending.size > 1) {
      this.dropOldestPending(frame);
    }
    if (this.buffered + payload.length > this.options.maxBufferedBytes) {
      this.stats.chunksOverLimit++;
      return undefined;
    }
    frame.chunks[chunkIndex] = payload;
    frame.received++;
    frame.bytes += payload.length;
    this.buffered += payload.length;
    this.stats.chunksAccepted++;
    if (frame.received < chunkCount) return undefined;

    this.removePending(frame);
    const jpeg = new Uint8Array(frame.bytes);
    let offset = 0;
    for (const chunk of frame.chunks) {
      jpeg.set(chunk!, offset);
      offset += chunk!.length;
    }
    this.lastDelivered = frameNumber;
    this.stats.framesCompleted++;
    // Anything older can no longer be shown: it would go backwards in time.
    this.dropPendingWhere((p) => !isNewerFrame(p.frameNumber, frameNumber));
    return { streamId: packet.streamId, frameNumber, captureTimeUs: frame.captureTimeUs, jpeg };
  }

  private startStream(streamId: number): void {
    this.dropPendingWhere(() => true);
    this.streamId = streamId;
    this.streamEnded = false;
    this.lastDelivered = undefined;
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
