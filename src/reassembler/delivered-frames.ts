import type { V2FrameLayout, V2Packet } from "../protocol/v2.ts";
import { sameLayout } from "./v2-frame-arrivals.ts";

/** Frames remembered after they were handed on: enough for the stragglers of a few frames at once. */
const REMEMBERED = 8;

/** What a chunk of a frame no longer being collected is. */
export type LateChunk =
  /** A first copy of a chunk of a frame handed on (FEC did not need it): it still counts as received. */
  | "late"
  /** A second copy. */
  | "duplicate"
  /** Of a frame too old to be remembered, or given up: a replay, or very late. */
  | "stale";

/**
 * The memory of the last frames handed on: which chunks of each had come
 * (recorded before FEC filled in the rest), so that a chunk arriving after
 * its frame was handed on is told apart as a straggler, a duplicate or stale.
 */
export class DeliveredFrames {
  private readonly frames: { frameNumber: number; seen: Uint8Array; layout: V2FrameLayout }[] = [];

  /** Frame `frameNumber` was handed on; `seen` marks the send positions that had arrived. */
  remember(frameNumber: number, layout: V2FrameLayout, seen: Uint8Array): void {
    this.frames.push({ frameNumber, layout, seen });
    if (this.frames.length > REMEMBERED) this.frames.shift();
  }

  /** A chunk (at send position `position`) of a frame no longer collected: what it is; a first copy is marked seen. */
  classify(packet: V2Packet, position: number): LateChunk {
    const memory = this.frames.find((d) => d.frameNumber === packet.frameNumber && sameLayout(d.layout, packet));
    if (!memory) return "stale";
    if (memory.seen[position]) return "duplicate";
    memory.seen[position] = 1;
    return "late";
  }

  /** A new stream: nothing of the old one is remembered. */
  clear(): void {
    this.frames.length = 0;
  }
}
