import { describe, expect, test } from "bun:test";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { deserializeV2, type V2Packet } from "../../src/protocol/v2.ts";
import { rebuildMissingData } from "../../src/reassembler/v2-fec-recovery.ts";
import { FrameArrivals } from "../../src/reassembler/v2-frame-arrivals.ts";
import { StreamFollower } from "../../src/reassembler/v2-stream-follower.ts";

// The pieces V2Reassembler is made of, each alone.

function frameBytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7 + (i >> 5)) & 0xff);
}

function packets(jpeg: Uint8Array, fecPercent: number, frameNumber = 5): V2Packet[] {
  return packetizeV2(jpeg, { streamId: 9, frameNumber, captureTimeUs: 1000 }, { datagramSize: 200, fecPercent }).map(deserializeV2);
}

function arrivalsOf(all: V2Packet[], keep: (p: V2Packet, i: number) => boolean): FrameArrivals {
  const frame = new FrameArrivals(all[0]!.frameNumber, all[0]!.captureTimeUs, all[0]!, 0);
  all.forEach((p, i) => keep(p, i) && frame.add(p, i));
  return frame;
}

describe("FrameArrivals: one frame's chunks", () => {
  test("complete once every data chunk came, in any order; assembles the exact bytes", () => {
    const jpeg = frameBytes(2000, 1);
    const all = packets(jpeg, 0);
    const frame = new FrameArrivals(5, 1000, all[0]!, 0);
    for (const p of [...all].reverse()) {
      expect(frame.complete).toBe(false);
      expect(frame.has(p)).toBe(false);
      frame.add(p, 1);
      expect(frame.has(p)).toBe(true);
    }
    expect(frame.complete).toBe(true);
    expect(frame.missing).toBe(0);
    expect(frame.key).toBe(5);
    expect(Buffer.from(frame.assemble())).toEqual(Buffer.from(jpeg));
  });

  test("recoverable when each group has as many chunks as data chunks, parity included; counts what is missing", () => {
    const all = packets(frameBytes(3000, 2), 25);
    const parity = all.filter((p) => p.parity).length;
    expect(parity).toBeGreaterThan(0);
    // Lose exactly as many data chunks as there is parity, one per group at most per parity row.
    const lostData = new Set(all.filter((p) => !p.parity).slice(0, parity).map((p) => p.chunkIndex));
    const frame = arrivalsOf(all, (p) => p.parity || !lostData.has(p.chunkIndex));
    expect(frame.complete).toBe(false);
    expect(frame.missing).toBe(lostData.size);
    expect(frame.recoverable).toBe(true);
    const short = arrivalsOf(all, (p) => !lostData.has(p.chunkIndex) && !(p.parity && p.chunkIndex === 0));
    expect(short.recoverable).toBe(false);
  });

  test("seenPositions marks what arrived by send position, before any rebuilding", () => {
    const all = packets(frameBytes(1500, 3), 0);
    const frame = arrivalsOf(all, (_, i) => i % 2 === 0);
    const seen = frame.seenPositions();
    expect(seen.reduce((a, b) => a + b, 0)).toBe(Math.ceil(all.length / 2));
  });
});

describe("rebuildMissingData: Reed–Solomon over each group", () => {
  test("rebuilds exactly the lost data chunks, byte for byte", () => {
    const jpeg = frameBytes(5000, 4);
    const all = packets(jpeg, 50);
    const parity = all.filter((p) => p.parity).length;
    const lost = new Set(all.filter((p) => !p.parity).filter((_, i) => i % 3 === 1).slice(0, parity).map((p) => p.chunkIndex));
    const frame = arrivalsOf(all, (p) => p.parity || !lost.has(p.chunkIndex));
    expect(frame.recoverable).toBe(true);
    expect(rebuildMissingData(frame)).toBe(lost.size);
    expect(Buffer.from(frame.assemble())).toEqual(Buffer.from(jpeg));
    expect(rebuildMissingData(frame)).toBe(0); // nothing left to rebuild
  });
});

describe("StreamFollower: which stream the receiver follows", () => {
  const follower = () => new StreamFollower({ min: 50, max: 500 });

  test("the first stream is new, its own datagrams are current", () => {
    const f = follower();
    expect(f.judge(1, false, 0)).toBe("new");
    expect(f.judge(1, false, 10)).toBe("current");
    expect(f.current).toBe(1);
    expect(f.streams).toBe(1);
  });

  test("a second live stream does not take over; after the current one is silent long enough it does", () => {
    const f = follower();
    f.judge(1, false, 0);
    expect(f.judge(2, false, 100)).toBe("foreign"); // 1 was active 100 ms ago, within 500 ms
    f.judge(1, false, 200);
    expect(f.judge(2, false, 699)).toBe("foreign");
    expect(f.judge(2, false, 700)).toBe("new");
    expect(f.current).toBe(2);
  });

  test("the silence needed follows the stream's frame interval: three frames, clamped to [min, max]", () => {
    const f = follower();
    f.judge(1, false, 0);
    expect(f.silenceBeforeSwitchMs).toBe(500);
    for (let n = 0; n < 5; n++) f.noteFrame(n, n * 33_333);
    expect(f.silenceBeforeSwitchMs).toBeCloseTo(100, 0);
    for (let n = 5; n < 10; n++) f.noteFrame(n, 5 * 33_333 + (n - 5) * 1000);
    expect(f.silenceBeforeSwitchMs).toBe(50);
  });

  test("an ended stream is taken over at once; a retired stream never comes back; a stray end marker starts nothing", () => {
    const f = follower();
    f.judge(1, false, 0);
    expect(f.end()).toBe(true);
    expect(f.end()).toBe(false);
    expect(f.judge(3, true, 1)).toBe("foreign"); // an end marker of a stream never followed
    expect(f.judge(2, false, 1)).toBe("new");
    expect(f.judge(1, false, 10_000)).toBe("foreign"); // 1 was retired
    expect(f.streams).toBe(2);
  });
});
