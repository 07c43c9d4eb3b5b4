import { describe, expect, test } from "bun:test";
import { NackPlanner } from "../../src/feedback/nack-planner.ts";
import { RttEstimator } from "../../src/feedback/rtt-estimator.ts";
import { sendPosition } from "../../src/packetizer/send-order.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { deserializeV2, type V2Packet } from "../../src/protocol/v2.ts";
import { FrameArrivals } from "../../src/reassembler/v2-frame-arrivals.ts";

// The planner against real frames' arrivals, with a fake clock.

function packets(frameNumber: number, length: number, fecPercent: number): V2Packet[] {
  const jpeg = Uint8Array.from({ length }, (_, i) => i & 0xff);
  return packetizeV2(jpeg, { streamId: 1, frameNumber, captureTimeUs: 0 }, { datagramSize: 200, fecPercent }).map(deserializeV2);
}

const position = (p: V2Packet) => sendPosition(p.dataChunks, p.groups * p.parityPerGroup, p.parity, p.chunkIndex);

/** A frame whose chunks at the given send positions were lost; the rest arrived at `atMs`. */
function arrivals(all: V2Packet[], lost: number[], atMs = 0): FrameArrivals {
  const frame = new FrameArrivals(all[0]!.frameNumber, 0, all[0]!, atMs);
  for (const p of all) if (!lost.includes(position(p))) frame.add(p, atMs);
  return frame;
}

describe("NackPlanner", () => {
  test("asks for a lost chunk once a later one arrived; again after about one RTT; never when an answer would come too late", () => {
    const planner = new NackPlanner();
    const frame = arrivals(packets(7, 2000, 0), [3]);
    expect(planner.plan([frame], 7, 1, 20, 120)).toEqual([{ frameNumber: 7, positions: [3] }]);
    expect(planner.plan([frame], 7, 2, 20, 120)).toEqual([]); // just asked
    expect(planner.plan([frame], 7, 26, 20, 120)).toEqual([{ frameNumber: 7, positions: [3] }]); // 1.25 RTT later
    expect(planner.stats).toMatchObject({ chunksAsked: 1, chunksAskedAgain: 1 });
    expect(planner.plan([frame], 7, 101, 20, 120)).toEqual([]); // 101 + 20 > 0 + 120: too late
  });

  test("asks only for what parity cannot rebuild, data chunks first", () => {
    const all = packets(3, 6000, 25);
    const groups = all[0]!.groups;
    const parityPerGroup = all[0]!.parityPerGroup;
    expect(parityPerGroup).toBeGreaterThan(0);
    const dataOfGroup0 = all.filter((p) => !p.parity && p.chunkIndex % groups === 0).map(position);
    // As many lost as parity covers: nothing to ask.
    expect(new NackPlanner().plan([arrivals(all, dataOfGroup0.slice(0, parityPerGroup))], 4, 10, 20, 120)).toEqual([]);
    // Two more than parity covers, and a parity chunk of the group lost too: ask for exactly the shortfall, data first.
    const parityOfGroup0 = all.filter((p) => p.parity && p.chunkIndex % groups === 0).map(position);
    const lost = [...dataOfGroup0.slice(0, parityPerGroup + 2), parityOfGroup0[0]!];
    const asked = new NackPlanner().plan([arrivals(all, lost)], 4, 10, 20, 120);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.positions).toHaveLength(3); // shortfall: 2 beyond parity, and one parity chunk gone
    expect(asked[0]!.positions.every((p) => dataOfGroup0.includes(p))).toBe(true);
  });

  test("a lost tail is asked for once the frame has gone quiet or a newer frame began, not while it may still be arriving", () => {
    const all = packets(9, 2000, 0);
    const last = all.map(position).at(-1)!;
    const frame = arrivals(all, [last], 100);
    const planner = new NackPlanner({ tailGraceMs: 30 });
    expect(planner.plan([frame], 9, 120, 20, 200)).toEqual([]); // 20 ms after its latest arrival: the pacer may still be sending it
    expect(planner.plan([frame], 9, 130, 20, 200)).toEqual([{ frameNumber: 9, positions: [last] }]);
    const fresh = new NackPlanner({ tailGraceMs: 30 });
    expect(fresh.plan([frame], 10, 101, 20, 200)).toEqual([{ frameNumber: 9, positions: [last] }]); // frame 10 started
  });

  test("an answered ask gives a round-trip sample, unless it was asked twice (Karn); forgotten frames are dropped", () => {
    const planner = new NackPlanner();
    const frame = arrivals(packets(1, 3000, 0), [2, 5]);
    planner.plan([frame], 1, 0, 20, 500);
    planner.plan([frame], 1, 30, 20, 500); // both asked again
    const once = arrivals(packets(2, 3000, 0), [4]);
    planner.plan([once], 2, 40, 20, 500);
    expect(planner.arrived(2, 4, 63)).toEqual({ rttMs: 23 });
    expect(planner.arrived(1, 2, 70)).toEqual({ rttMs: undefined }); // asked twice: answered, but no sample
    expect(planner.arrived(1, 99, 70)).toBeUndefined(); // never asked
    planner.forgetAllBut(new Set([2]));
    expect(planner.arrived(1, 5, 80)).toBeUndefined();
    expect(planner.stats.chunksAnswered).toBe(2);
  });
});

describe("RttEstimator", () => {
  test("starts from its guess, then follows samples smoothly (RFC 6298); junk samples are ignored", () => {
    const rtt = new RttEstimator(50);
    expect(rtt.rttMs).toBe(50);
    expect(rtt.known).toBe(false);
    rtt.add(20);
    expect(rtt.rttMs).toBe(20);
    for (let i = 0; i < 50; i++) rtt.add(80);
    expect(rtt.rttMs).toBeGreaterThan(79);
    rtt.add(-5);
    rtt.add(Number.NaN);
    rtt.add(1e9);
    expect(rtt.samples).toBe(51);
    rtt.add(400); // one outlier moves it by an eighth
    expect(rtt.rttMs).toBeLessThan(125);
    expect(rtt.timeoutMs).toBeGreaterThan(rtt.rttMs);
  });

  test("the least round trip is the path's own: a queue that forms raises the smoothed RTT, not the least of the latest samples", () => {
    const rtt = new RttEstimator(50);
    for (let i = 0; i < 20; i++) rtt.add(20 + (i % 3));
    for (let i = 0; i < 40; i++) rtt.add(120);
    expect(rtt.rttMs).toBeGreaterThan(100);
    expect(rtt.leastMs).toBe(20);
    expect(rtt.jitterMs).toBeGreaterThan(0);
    // Once the path itself is longer (64 samples later), the least follows it.
    for (let i = 0; i < 64; i++) rtt.add(90);
    expect(rtt.leastMs).toBe(90);
  });
});

test("a group whose parity is still to come is not asked for: the parity may cover the loss", () => {
  const all = packets(5, 6000, 25);
  const groups = all[0]!.groups;
  const firstData = all.find((p) => !p.parity && p.chunkIndex % groups === 0)!;
  const parityOfGroup = all.filter((p) => p.parity && p.chunkIndex % groups === 0).map(position);
  // The frame arrived up to just before the group's first parity chunk, with one of its data chunks lost.
  const cut = parityOfGroup[0]!;
  const arrivedSoFar = all.filter((p) => position(p) < cut);
  const frame = arrivals(arrivedSoFar, [position(firstData)], 0);
  expect(new NackPlanner().plan([frame], 5, 1, 20, 200)).toEqual([]);
});
