import { describe, expect, test } from "bun:test";
import { deserializeV2, type V2Packet } from "../../src/protocol/v2.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { V2Reassembler } from "../../src/reassembler/v2-reassembler.ts";
import type { V2AssembledFrame } from "../../src/reassembler/v2-reassembler-types.ts";
import { seededRandom, shuffle } from "../../src/util/random.ts";

/** A fake "JPEG" whose bytes identify its frame, so a wrong frame or a misplaced chunk is visible. */
function frameBytes(frameNumber: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (frameNumber * 131 + i * 7 + (i >> 8)) & 0xff;
  return out;
}

function packetsOf(frameNumber: number, length: number, streamId = 42, size = 200, fecPercent = 0): V2Packet[] {
  return packetizeV2(frameBytes(frameNumber, length), { streamId, frameNumber, captureTimeUs: frameNumber * 1000 }, { datagramSize: size, fecPercent }).map(
    deserializeV2,
  );
}

function feed(r: V2Reassembler, packets: V2Packet[], now = 0): V2AssembledFrame[] {
  const out: V2AssembledFrame[] = [];
  for (const p of packets) {
    for (const e of r.push(p, now)) if (e.kind === "frame") out.push(e.frame);
  }
  return out;
}

function expectIntact(frames: V2AssembledFrame[]) {
  for (const f of frames) expect(Buffer.from(f.jpeg)).toEqual(Buffer.from(frameBytes(f.frameNumber, f.jpeg.length)));
}

describe("V2Reassembler", () => {
  test("in-order chunks give each frame once, intact", () => {
    const r = new V2Reassembler();
    const frames = feed(r, [0, 1, 2].flatMap((n) => packetsOf(n, 1000 + n)));
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2]);
    expectIntact(frames);
    expect(frames[1]!.captureTimeUs).toBe(1000);
    expect(r.stats.framesCompleted).toBe(3);
    expect(r.bufferedBytes).toBe(0);
  });

  test("shuffled and duplicated chunks within a frame still give the exact bytes", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed);
      const r = new V2Reassembler();
      const packets = packetsOf(seed, 500 + Math.floor(random() * 5000));
      const withDuplicates = [...packets, ...packets.filter(() => random() < 0.3)];
      const frames = feed(r, shuffle(withDuplicates, random));
      expect(frames.length).toBe(1);
      expectIntact(frames);
    }
  });

  test("duplicates after completion are counted as duplicates, never a second copy", () => {
    const r = new V2Reassembler();
    const packets = packetsOf(5, 900);
    expect(feed(r, [...packets, ...packets]).length).toBe(1);
    expect(r.stats.chunksDuplicate).toBe(packets.length);
    expect(r.chunksLost).toBe(0);
  });

  test("a frame with a missing chunk is never yielded, and is dropped when a newer frame completes", () => {
    const r = new V2Reassembler();
    const frame0 = packetsOf(0, 1000);
    const frames = feed(r, [...frame0.slice(0, -2), frame0.at(-1)!, ...packetsOf(1, 1000)]);
    expect(frames.map((f) => f.frameNumber)).toEqual([1]);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
    // The missing chunk arriving late cannot resurrect a frame older than one shown.
    expect(feed(r, [frame0.at(-2)!]).length).toBe(0);
    expect(r.framesInFlight).toBe(0);
  });

  test("random loss, reordering and duplication across frames: only whole frames, in increasing order", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed * 7919);
      const r = new V2Reassembler({ maxFramesInFlight: 3 });
      let packets = Array.from({ length: 40 }, (_, n) => packetsOf(n, 300 + Math.floor(random() * 3000))).flat();
      packets = packets.filter(() => random() > 0.05);
      packets = packets.flatMap((p) => (random() < 0.05 ? [p, p] : [p]));
      // Local reordering: swap neighbours within a small window, as networks do.
      for (let i = 0; i < packets.length - 3; i++) {
        if (random() < 0.2) {
          const j = i + 1 + Math.floor(random() * 3);
          [packets[i], packets[j]] = [packets[j]!, packets[i]!];
        }
      }
      const frames = feed(r, packets);
      expectIntact(frames);
      const numbers = frames.map((f) => f.frameNumber);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(frames.length).toBeGreaterThan(5);
      expect(r.framesInFlight).toBeLessThanOrEqual(3);
    }
  });

  test("frame numbers wrapping around 2^32 keep flowing", () => {
    const r = new V2Reassembler();
    const numbers = [0xfffffffe, 0xffffffff, 0, 1];
    const frames = feed(r, numbers.flatMap((n) => packetsOf(n, 700)));
    expect(frames.map((f) => f.frameNumber)).toEqual(numbers);
    expectIntact(frames);
    // A frame from before the wrap is now old.
    expect(feed(r, packetsOf(0xfffffff0, 700)).length).toBe(0);
  });

  test("frames in flight and buffered bytes stay capped whatever arrives", () => {
    const r = new V2Reassembler({ maxFramesInFlight: 4, maxBufferedBytes: 10_000 });
    // First chunk of 1000 different frames, none ever completing.
    for (let n = 0; n < 1000; n++) r.push(packetsOf(n, 5000)[0]!, 0);
    expect(r.framesInFlight).toBeLessThanOrEqual(4);
    expect(r.bufferedBytes).toBeLessThanOrEqual(10_000);
    expect(r.stats.framesDroppedIncomplete).toBeGreaterThanOrEqual(996);
  });

  test("a layout that disagrees with the frame's first chunk is refused", () => {
    const r = new V2Reassembler();
    const a = packetsOf(3, 1000, 42, 200);
    const b = packetsOf(3, 3000, 42, 200);
    r.push(a[0]!, 0);
    r.push(b[1]!, 0);
    expect(r.stats.chunksInconsistent).toBe(1);
  });

  test("expire() drops incomplete frames past their deadline", () => {
    const r = new V2Reassembler({ frameDeadlineMs: 100 });
    r.push(packetsOf(1, 1000)[0]!, 0);
    r.expire(50);
    expect(r.framesInFlight).toBe(1);
    r.expire(150);
    expect(r.framesInFlight).toBe(0);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
  });

  test("end of stream is reported once; a new stream id then takes over", () => {
    const r = new V2Reassembler();
    feed(r, packetsOf(0, 500, 1));
    const end = deserializeV2(endOfStreamDatagram(1, 1, 0));
    expect(r.push(end, 10)).toEqual([{ kind: "end", streamId: 1 }]);
    expect(r.push(end, 11)).toEqual([]);
    const first = r.push(packetsOf(0, 500, 2, 1000)[0]!, 12);
    expect(first.map((e) => e.kind)).toEqual(["new-stream", "frame"]);
    expect(r.currentStreamId).toBe(2);
  });

  test("a second stream cannot barge in on a live one, but takes over once it falls silent", () => {
    const r = new V2Reassembler({ streamSwitchAfterMs: { min: 50, max: 500 } });
    feed(r, packetsOf(0, 500, 1), 0);
    expect(feed(r, packetsOf(0, 500, 2), 100)).toEqual([]);
    expect(r.stats.chunksForeignStream).toBeGreaterThan(0);
    const frames = feed(r, packetsOf(0, 500, 2), 700);
    expect(frames.map((f) => f.streamId)).toEqual([2]);
  });

  test("a restarted sender is followed after three of the old stream's frame intervals of silence, not 500 ms", () => {
    const r = new V2Reassembler({ streamSwitchAfterMs: { min: 50, max: 500 } });
    const at30fps = (streamId: number, n: number) =>
      packetizeV2(frameBytes(n, 800), { streamId, frameNumber: n, captureTimeUs: n * 33_333 }, { datagramSize: 200, fecPercent: 0 }).map(deserializeV2);
    for (let n = 0; n < 10; n++) feed(r, at30fps(1, n), n * 33.3);
    // 60 ms after the old stream's last datagram: still its turn.
    expect(feed(r, at30fps(2, 0), 300 + 60)).toEqual([]);
    // 110 ms: the new stream's next frame is shown.
    expect(feed(r, at30fps(2, 1), 300 + 110).map((f) => [f.streamId, f.frameNumber])).toEqual([[2, 1]]);
  });

  test("a stream that was taken over never comes back: its stray or replayed datagrams are refused", () => {
    const r = new V2Reassembler({ streamSwitchAfterMs: { min: 50, max: 500 } });
    const old = packetsOf(5, 500, 1);
    feed(r, old, 0);
    feed(r, packetsOf(0, 500, 2), 1000);
    const foreignBefore = r.stats.chunksForeignStream;
    expect(feed(r, packetsOf(6, 500, 1), 5000)).toEqual([]);
    expect(r.stats.chunksForeignStream).toBeGreaterThan(foreignBefore);
    expect(r.currentStreamId).toBe(2);
  });

  test("buffered bytes count a per-chunk overhead, so a flood of 1-byte chunks is capped too", () => {
    const r = new V2Reassembler({ maxFramesInFlight: 4, maxBufferedBytes: 100_000 });
    // Frames of 8000 one-byte chunks (25-byte datagrams), never completing.
    for (let n = 0; n < 4; n++) for (const p of packetsOf(n, 8000, 42, 25).slice(0, -1)) r.push(p, 0);
    expect(r.bufferedBytes).toBeLessThanOrEqual(100_000);
    // 4 × 7999 payload bytes alone would fit; with the overhead each frame overflows the cap and is dropped for the next.
    expect(r.stats.framesDroppedIncomplete).toBeGreaterThanOrEqual(3);
    expect(r.stats.chunksOverLimit).toBeGreaterThan(0);
  });

  test("FEC: any pattern of up to m lost chunks per group is recovered, byte-exact, and counted", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed);
      const r = new V2Reassembler();
      const length = 5000 + Math.floor(random() * 80_000);
      const packets = packetsOf(seed, length, 42, 1400, 25);
      const { groups, parityPerGroup: m } = packets[0]!;
      // Lose up to m chunks of each group, chosen at random.
      const lostPerGroup = new Array(groups).fill(0);
      const kept = shuffle(packets, random).filter((p) => {
        const group = p.chunkIndex % groups;
        if (lostPerGroup[group] < m && random() < 0.5) {
          lostPerGroup[group]++;
          return false;
        }
        return true;
      });
      // If the chunk sent last was among the lost, the frame waits for stragglers until expire().
      const frames = [...feed(r, kept, 0), ...r.expire(60).flatMap((e) => (e.kind === "frame" ? [e.frame] : []))];
      expect(frames.length).toBe(1);
      expectIntact(frames);
      const keptSet = new Set(kept);
      const lostData = packets.filter((p) => !p.parity && !keptSet.has(p)).length;
      expect(r.stats.chunksRecovered).toBe(lostData);
      expect(frames[0]!.recovered).toBe(lostData > 0);
      expect(r.stats.framesRecovered).toBe(lostData > 0 ? 1 : 0);
      expect(r.chunksLost).toBe(packets.length - kept.length);
    }
  });

  test("FEC: one chunk more than a group's parity loses the frame, never a wrong frame", () => {
    const r = new V2Reassembler();
    const packets = packetsOf(1, 23_500, 42, 1400, 25);
    const m = packets[0]!.parityPerGroup;
    const data = packets.filter((p) => !p.parity);
    const lost = new Set(data.slice(0, m + 1));
    expect(feed(r, packets.filter((p) => !lost.has(p)))).toEqual([]);
    expect(r.framesInFlight).toBe(1);
    r.expire(5000);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
    expect(r.chunksLost).toBe(m + 1);
  });

  test("FEC is used only when data is missing; late parity after that is counted late, not lost", () => {
    const r = new V2Reassembler();
    const packets = packetsOf(2, 23_500, 42, 1400, 25);
    const data = packets.filter((p) => !p.parity);
    const parity = packets.filter((p) => p.parity);
    expect(feed(r, data).map((f) => f.recovered)).toEqual([false]);
    feed(r, parity);
    expect(r.stats.chunksRecovered).toBe(0);
    expect(r.stats.chunksLate).toBe(parity.length);
    expect(r.chunksLost).toBe(0);
  });

  test("counts loss, duplication and reordering across frames", () => {
    const r = new V2Reassembler();
    const a = packetsOf(0, 23_500, 42, 1400, 25);
    const b = packetsOf(1, 23_500, 42, 1400, 25);
    const c = packetsOf(3, 23_500, 42, 1400, 25); // frame 2 never sent
    const sent = [...a.slice(0, 10), a[11]!, a[10]!, ...a.slice(12), a[3]!, ...b.filter((_, i) => i % 20 !== 0), ...c];
    expect(feed(r, sent).map((f) => f.frameNumber)).toEqual([0, 1, 3]);
    expect(r.stats.chunksReordered).toBeGreaterThanOrEqual(1);
    expect(r.stats.chunksDuplicate).toBe(1);
    expect(r.chunksLost).toBe(b.filter((_, i) => i % 20 === 0).length);
    expect(r.stats.framesMissing).toBe(1);
    expect(r.stats.framesRecovered).toBe(1);
  });

  test("a data chunk FEC rebuilt that turns up afterwards is late, not a duplicate, and no longer lost", () => {
    const r = new V2Reassembler();
    const packets = packetsOf(4, 23_500, 42, 1400, 25);
    const straggler = packets.find((p) => !p.parity)!;
    const frames = feed(r, packets.filter((p) => p !== straggler));
    expect(frames.map((f) => f.recovered)).toEqual([true]);
    expect(r.chunksLost).toBe(1);
    feed(r, [straggler]);
    expect(r.stats.chunksLate).toBe(1);
    expect(r.stats.chunksDuplicate).toBe(0);
    expect(r.chunksLost).toBe(0);
  });
});

describe("holding for repairs (repairHoldMs: a return path can fetch what is missing)", () => {
  const events = (r: V2Reassembler, packets: V2Packet[], now: number) => packets.flatMap((p) => r.push(p, now)).filter((e) => e.kind === "frame").map((e) => (e as { frame: V2AssembledFrame }).frame);

  test("a complete frame waits behind an older incomplete one; the repair releases both, in order", () => {
    const r = new V2Reassembler({ repairHoldMs: 100 });
    const first = packetsOf(0, 2000);
    const lost = first.splice(3, 1);
    expect(events(r, first, 0)).toEqual([]);
    expect(events(r, packetsOf(1, 2000), 33)).toEqual([]); // held: frame 0 may still be repaired
    expect(r.expire(60).filter((e) => e.kind === "frame")).toEqual([]);
    const out = events(r, lost, 70); // the retransmission arrives
    expect(out.map((f) => f.frameNumber)).toEqual([0, 1]);
    expectIntact(out);
    expect(r.stats.framesDroppedIncomplete).toBe(0);
  });

  test("past the hold, the incomplete frame is dropped and the newer ones go out", () => {
    const r = new V2Reassembler({ repairHoldMs: 100 });
    events(r, packetsOf(0, 2000).slice(1), 0);
    events(r, packetsOf(1, 2000), 33);
    events(r, packetsOf(2, 2000), 66);
    expect(r.expire(99).filter((e) => e.kind === "frame")).toEqual([]);
    const released = r.expire(100).flatMap((e) => (e.kind === "frame" ? [e.frame.frameNumber] : []));
    expect(released).toEqual([1, 2]);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
    // A straggler of the dropped frame is late now, never a frame of its own.
    expect(events(r, packetsOf(0, 2000).slice(0, 1), 120)).toEqual([]);
    expect(r.stats.chunksLate).toBeGreaterThan(0);
  });

  test("a chunk of a held frame that comes again is a duplicate, not a new frame; the end of stream lets everything held out", () => {
    const r = new V2Reassembler({ repairHoldMs: 100 });
    events(r, packetsOf(0, 2000).slice(1), 0);
    const second = packetsOf(1, 2000);
    events(r, second, 10);
    expect(events(r, second.slice(0, 1), 20)).toEqual([]);
    expect(r.stats.chunksDuplicate + r.stats.chunksLate).toBeGreaterThan(0);
    const end = r.push(deserializeV2(endOfStreamDatagram(42, 2, 0)), 30);
    expect(end.map((e) => (e.kind === "frame" ? `frame ${e.frame.frameNumber}` : e.kind))).toEqual(["frame 1", "end"]);
    expect(r.bufferedBytes).toBe(0);
  });

  test("without a hold nothing changes: the complete frame goes out at once and the older one is dropped", () => {
    const r = new V2Reassembler();
    events(r, packetsOf(0, 2000).slice(1), 0);
    expect(events(r, packetsOf(1, 2000), 33).map((f) => f.frameNumber)).toEqual([1]);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
  });
  test("the frames-in-flight cap follows the hold as it grows: frames waiting for repair are not evicted by the newer ones", () => {
    const r = new V2Reassembler({ repairHoldMs: 0, maxFramesInFlight: 4 });
    r.repairHoldMs = 400; // the return path measured a long round trip
    // Twenty frames each missing a chunk, 16 ms apart: all still within the 400 ms hold.
    for (let n = 0; n < 20; n++) events(r, packetsOf(n, 2000).slice(1), n * 16);
    expect(r.framesInFlight).toBe(20);
    expect(r.stats.framesDroppedIncomplete).toBe(0);
    // Back to no hold: the cap falls back to 4, and the next new frame evicts down to it.
    r.repairHoldMs = 0;
    events(r, packetsOf(20, 2000).slice(1), 330);
    expect(r.framesInFlight).toBe(4);
    expect(r.stats.framesDroppedIncomplete).toBe(17);
  });
});
