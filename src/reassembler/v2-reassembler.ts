import { sendPosition } from "../packetizer/send-order.ts";
import { isNewer32 } from "../protocol/serial-number.ts";
import type { V2Packet } from "../protocol/v2.ts";
import { ArrivalOrder } from "./arrival-order.ts";
import { DeliveredFrames } from "./delivered-frames.ts";
import { PendingFrames } from "./pending-frames.ts";
import { framesInFlightFor, RepairHold } from "./repair-hold.ts";
import { rebuildMissingData } from "./v2-fec-recovery.ts";
import { chunkCount, FrameArrivals, sameLayout } from "./v2-frame-arrivals.ts";
import { CHUNK_OVERHEAD_BYTES, DEFAULT_V2_REASSEMBLER_OPTIONS, chunksLost, newV2ChunkCounts, type V2AssembledFrame, type V2Event, type V2ReassemblerOptions } from "./v2-reassembler-types.ts";
import { StreamFollower } from "./v2-stream-follower.ts";

/** How long a recoverable frame waits for stragglers before expire() decodes it anyway. */
const STRAGGLER_WAIT_MS = 50;

/**
 * Collects v2 chunks, in any order and possibly twice, into whole frames
 * (Reed–Solomon parity filling in lost data), each handed out once all its
 * data is there and only if newer than the last; the rest is counted. Pure:
 * the caller passes the clock. One job per part: StreamFollower (which
 * stream), PendingFrames (memory caps), FrameArrivals (one frame's chunks),
 * RepairHold (order and repair), DeliveredFrames (late chunks), ArrivalOrder.
 */
export class V2Reassembler {
  private readonly options: V2ReassemblerOptions;
  private readonly follower: StreamFollower;
  private readonly pending: PendingFrames<FrameArrivals>;
  private readonly hold: RepairHold<V2AssembledFrame>;
  private readonly delivered = new DeliveredFrames();
  private readonly order = new ArrivalOrder();
  private lastDelivered: number | undefined;
  readonly stats = newV2ChunkCounts();

  constructor(options: Partial<V2ReassemblerOptions> = {}) {
    this.options = { ...DEFAULT_V2_REASSEMBLER_OPTIONS, ...options };
    this.follower = new StreamFollower(this.options.streamSwitchAfterMs);
    this.hold = new RepairHold(this.options.repairHoldMs);
    this.pending = new PendingFrames({ maxFrames: framesInFlightFor(this.options.repairHoldMs, this.options.maxFramesInFlight), maxBytes: this.options.maxBufferedBytes }, () => this.stats.framesDroppedIncomplete++);
  }

  /** The latency budget may follow the measured round trip: frames held from now on wait this long, and as many may be in flight as that needs. */
  set repairHoldMs(ms: number) {
    this.hold.holdMs = ms;
    this.pending.maxFrames = framesInFlightFor(ms, this.options.maxFramesInFlight);
  }

  /** Feeds one parsed datagram; returns what it completed or signalled (usually nothing, at most a few events). */
  push(packet: V2Packet, nowMs: number): V2Event[] {
    const events: V2Event[] = [];
    const verdict = this.follower.judge(packet.streamId, packet.endOfStream, nowMs);
    if (verdict === "foreign") return (this.stats.chunksForeignStream++, events);
    if (verdict === "new") {
      this.startStream(events);
      events.push({ kind: "new-stream", streamId: packet.streamId });
    }
    if (packet.endOfStream) {
      if (!this.follower.end()) return events;
      this.finishRecoverable(events, nowMs);
      this.giveUpAll(events);
      events.push({ kind: "end", streamId: packet.streamId });
    } else if (this.follower.hasEnded) {
      this.stats.chunksLate++;
      this.stats.chunksStale++;
    } else {
      this.collect(packet, nowMs, events);
    }
    return events;
  }

  /** Call on a timer: finishes frames FEC can complete once their chunks stopped coming; drops incomplete frames past their deadline. */
  expire(nowMs: number): V2Event[] {
    const events: V2Event[] = [];
    this.finishRecoverable(events, nowMs, (p) => nowMs - p.lastArrivalMs >= STRAGGLER_WAIT_MS);
    this.pending.dropWhere((p) => nowMs - p.firstSeenMs > this.options.frameDeadlineMs);
    this.release(nowMs, events);
    return events;
  }

  /** The run is over: frames held for repair go out, incomplete ones are dropped (and counted). */
  flush(): V2Event[] {
    return this.giveUpAll([]);
  }

  get bufferedBytes(): number {
    return this.pending.bytes + this.hold.bytes;
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
    return this.order.newestFrame;
  }

  get currentStreamId(): number | undefined {
    return this.follower.current;
  }

  /** Chunks announced but never seen, over frames that are no longer being collected. */
  get chunksLost(): number {
    return chunksLost(this.stats, this.pending.values());
  }

  toJSON() {
    return { ...this.stats, streams: this.follower.streams, chunksLost: this.chunksLost, framesInFlight: this.pending.size, bufferedBytes: this.bufferedBytes };
  }

  private collect(packet: V2Packet, nowMs: number, events: V2Event[]): void {
    const { frameNumber } = packet;
    const position = sendPosition(packet.dataChunks, packet.groups * packet.parityPerGroup, packet.parity, packet.chunkIndex);
    const cost = packet.payload.length + CHUNK_OVERHEAD_BYTES;
    if (chunkCount(packet) > this.options.maxChunksPerFrame || cost > this.options.maxBufferedBytes) return void this.stats.chunksOverLimit++;
    if (this.order.reordered(frameNumber, position)) this.stats.chunksReordered++;
    let frame = this.pending.get(frameNumber);
    if (frame && !sameLayout(frame.layout, packet)) return void this.stats.chunksInconsistent++;
    if (frame?.has(packet)) return void this.stats.chunksDuplicate++;
    // A newer frame is arriving: the stragglers of older ones are lost, so finish those FEC can.
    this.finishRecoverable(events, nowMs, (p) => isNewer32(frameNumber, p.frameNumber));
    if ((this.lastDelivered !== undefined && !isNewer32(frameNumber, this.lastDelivered)) || this.hold.has(frameNumber)) {
      const late = this.delivered.classify(packet, position);
      this.stats[late === "duplicate" ? "chunksDuplicate" : "chunksLate"]++;
      if (late !== "duplicate") this.stats[late === "late" ? "chunksReceived" : "chunksStale"]++;
      return;
    }
    frame ??= this.startFrame(packet, nowMs);
    if (!this.pending.charge(frame, cost, this.hold.bytes)) return void this.stats.chunksOverLimit++;
    frame.add(packet, nowMs);
    this.stats.chunksReceived++;
    // Decode only for data that is really missing: wait for the chunk sent last (or a newer frame).
    const sentLast = position === chunkCount(frame.layout) - 1;
    if (frame.complete || (frame.recoverable && sentLast)) this.complete(frame, events, nowMs);
  }

  private startFrame(packet: V2Packet, nowMs: number): FrameArrivals {
    const frame = this.pending.add(new FrameArrivals(packet.frameNumber, packet.captureTimeUs, packet, nowMs));
    this.stats.chunksExpected += chunkCount(frame.layout);
    this.stats.framesMissing += this.order.framesJumped(packet.frameNumber);
    return frame;
  }

  /** Of the frames FEC can complete (and `which` picks), finishes those the repair hold's policy says to. */
  private finishRecoverable(events: V2Event[], nowMs: number, which: (p: FrameArrivals) => boolean = () => true): void {
    for (const frame of this.hold.toFinish([...this.pending.values()].filter((p) => p.recoverable && which(p)))) this.complete(frame, events, nowMs);
  }

  /** A frame is whole (or FEC can make it so): out at once, or, while holding for repairs, in order once nothing older can still be repaired. */
  private complete(frame: FrameArrivals, events: V2Event[], nowMs: number): void {
    const done = this.finish(frame);
    if (!this.hold.holding) return this.deliver(done, events);
    this.hold.hold(done, done.jpeg.length + CHUNK_OVERHEAD_BYTES);
    this.release(nowMs, events);
  }

  private release(nowMs: number, events: V2Event[]): void {
    for (const frame of this.hold.release(nowMs, () => this.pending.values())) this.deliver(frame, events);
  }

  /** A frame handed on: anything older can no longer be shown (it would go backwards in time). */
  private deliver(frame: V2AssembledFrame, events: V2Event[]): void {
    this.pending.dropWhere((p) => !isNewer32(p.frameNumber, frame.frameNumber));
    this.lastDelivered = frame.frameNumber;
    events.push({ kind: "frame", frame });
  }

  private finish(frame: FrameArrivals): V2AssembledFrame {
    this.pending.remove(frame);
    // What arrived, recorded before FEC fills in the rest: a rebuilt chunk that turns up later is late, not a duplicate.
    this.delivered.remember(frame.frameNumber, frame.layout, frame.seenPositions());
    const recovered = !frame.complete;
    if (recovered) this.stats.chunksRecovered += rebuildMissingData(frame);
    this.follower.noteFrame(frame.frameNumber, frame.captureTimeUs);
    this.stats.framesCompleted++;
    if (recovered) this.stats.framesRecovered++;
    return { streamId: this.follower.current!, frameNumber: frame.frameNumber, captureTimeUs: frame.captureTimeUs, jpeg: frame.assemble(), recovered };
  }

  /** Incomplete frames are dropped (counted); held ones go out. */
  private giveUpAll(events: V2Event[]): V2Event[] {
    this.pending.dropWhere(() => true);
    this.release(Infinity, events);
    return events;
  }

  /** A new stream is followed: the old one's held frames go out, nothing of it stays pending or remembered. */
  private startStream(events: V2Event[]): void {
    this.giveUpAll(events);
    this.lastDelivered = undefined;
    this.order.reset();
    this.delivered.clear();
  }
}
