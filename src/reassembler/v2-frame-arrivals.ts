import { sendPosition } from "../packetizer/send-order.ts";
import { groupDataChunks, type V2FrameLayout, type V2Packet } from "../protocol/v2.ts";

export function chunkCount(layout: V2FrameLayout): number {
  return layout.dataChunks + layout.groups * layout.parityPerGroup;
}

export function sameLayout(a: V2FrameLayout, b: V2FrameLayout): boolean {
  return a.dataChunks === b.dataChunks && a.groups === b.groups && a.parityPerGroup === b.parityPerGroup && a.frameLength === b.frameLength;
}

/**
 * One frame being collected: which of its data and parity chunks have come,
 * how many per FEC group, and the bytes they hold. It knows when the frame is
 * complete, and when every group has enough chunks for FEC to finish it.
 */
export class FrameArrivals {
  readonly layout: V2FrameLayout;
  readonly data: (Uint8Array | undefined)[];
  readonly parity: (Uint8Array | undefined)[];
  /** Chunks (data and parity) received per FEC group. */
  private readonly groupReceived: Uint16Array;
  private groupsReady = 0;
  dataReceived = 0;
  /** Bytes charged against the reassembler's memory cap (by PendingFrames). */
  chargedBytes = 0;
  lastArrivalMs: number;
  /** The latest send position that arrived (-1: none yet): anything sent before it and missing was lost or reordered. */
  highestPosition = -1;

  constructor(
    readonly frameNumber: number,
    readonly captureTimeUs: number,
    packet: V2FrameLayout,
    readonly firstSeenMs: number,
  ) {
    this.layout = { dataChunks: packet.dataChunks, groups: packet.groups, parityPerGroup: packet.parityPerGroup, frameLength: packet.frameLength };
    this.data = new Array(this.layout.dataChunks);
    this.parity = new Array(this.layout.groups * this.layout.parityPerGroup);
    this.groupReceived = new Uint16Array(this.layout.groups);
    this.lastArrivalMs = firstSeenMs;
  }

  /** The frame number, as PendingFrames keys it. */
  get key(): number {
    return this.frameNumber;
  }

  has(packet: V2Packet): boolean {
    return (packet.parity ? this.parity : this.data)[packet.chunkIndex] !== undefined;
  }

  /** Stores a chunk not seen before (its bytes already charged). */
  add(packet: V2Packet, nowMs: number): void {
    (packet.parity ? this.parity : this.data)[packet.chunkIndex] = packet.payload;
    if (!packet.parity) this.dataReceived++;
    this.lastArrivalMs = nowMs;
    const group = packet.chunkIndex % this.layout.groups;
    if (++this.groupReceived[group]! === groupDataChunks(this.layout, group)) this.groupsReady++;
    const position = sendPosition(this.layout.dataChunks, this.parity.length, packet.parity, packet.chunkIndex);
    if (position > this.highestPosition) this.highestPosition = position;
  }

  /** How many more chunks FEC group g needs before parity can rebuild it (0: it can, or nothing is missing). */
  shortfall(group: number): number {
    return Math.max(0, groupDataChunks(this.layout, group) - this.groupReceived[group]!);
  }

  /** The send positions of group g's chunks that have not arrived: data first (the cheaper repair), then parity. */
  missingPositions(group: number): number[] {
    const { dataChunks: k, groups } = this.layout;
    const parityCount = this.parity.length;
    const out: number[] = [];
    for (let i = group; i < k; i += groups) if (!this.data[i]) out.push(sendPosition(k, parityCount, false, i));
    for (let p = group; p < parityCount; p += groups) if (!this.parity[p]) out.push(sendPosition(k, parityCount, true, p));
    return out;
  }

  get complete(): boolean {
    return this.dataReceived === this.layout.dataChunks;
  }

  /** Every FEC group has as many chunks as it has data chunks: parity can fill in the rest. */
  get recoverable(): boolean {
    return this.groupsReady === this.layout.groups;
  }

  /** Chunks announced but not (yet) arrived. */
  get missing(): number {
    let received = 0;
    for (const count of this.groupReceived) received += count;
    return chunkCount(this.layout) - received;
  }

  /** Which send positions arrived, recorded before FEC fills in the rest. */
  seenPositions(): Uint8Array {
    const { layout } = this;
    const parityCount = layout.groups * layout.parityPerGroup;
    const seen = new Uint8Array(layout.dataChunks + parityCount);
    this.data.forEach((chunk, i) => chunk && (seen[sendPosition(layout.dataChunks, parityCount, false, i)] = 1));
    this.parity.forEach((chunk, p) => chunk && (seen[sendPosition(layout.dataChunks, parityCount, true, p)] = 1));
    return seen;
  }

  /** The frame's bytes, once every data chunk is there (received or rebuilt). */
  assemble(): Uint8Array {
    const jpeg = new Uint8Array(this.layout.frameLength);
    let offset = 0;
    for (const chunk of this.data) {
      const take = Math.min(chunk!.length, jpeg.length - offset); // a rebuilt last chunk carries padding
      jpeg.set(chunk!.subarray(0, take), offset);
      offset += take;
    }
    return jpeg;
  }
}
