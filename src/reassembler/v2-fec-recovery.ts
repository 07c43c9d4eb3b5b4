import { padShard, reedSolomonFor } from "../fec/reed-solomon.ts";
import { chunkPayloadSize } from "../protocol/v2.ts";
import type { FrameArrivals } from "./v2-frame-arrivals.ts";

/**
 * Rebuilds each FEC group's missing data chunks from any k of its chunks
 * (Reed–Solomon over the group's data and parity), in place. The frame must
 * be recoverable. Returns how many data chunks were rebuilt.
 */
export function rebuildMissingData(frame: FrameArrivals): number {
  const { layout } = frame;
  const size = chunkPayloadSize(layout);
  let rebuilt = 0;
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
      rebuilt++;
    });
  }
  return rebuilt;
}
