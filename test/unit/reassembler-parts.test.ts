import { describe, expect, test } from "bun:test";
import { deserializeV2 } from "../../src/protocol/v2.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { ArrivalOrder } from "../../src/reassembler/arrival-order.ts";
import { DeliveredFrames } from "../../src/reassembler/delivered-frames.ts";
import { PendingFrames } from "../../src/reassembler/pending-frames.ts";
import { framesInFlightFor, RepairHold } from "../../src/reassembler/repair-hold.ts";

// The reassembler's parts, one job each; wired together in v2-reassembler.test.ts and rtp-jpeg-reassembler.test.ts.

const frame = (key: number) => ({ key, chargedBytes: 0 });

describe("PendingFrames: frames being collected, within a frame cap and a byte cap", () => {
  test("a new frame beyond the cap evicts the oldest, by serial number across the 2^32 wrap; evictions are reported", () => {
    const dropped: number[] = [];
    const pending = new PendingFrames({ maxFrames: 3, maxBytes: 1000 }, (f) => dropped.push(f.key));
    for (const key of [0xffff_fffe, 0xffff_ffff, 0]) pending.add(frame(key));
    expect(pending.full).toBe(true);
    pending.add(frame(1));
    expect(dropped).toEqual([0xffff_fffe]);
    expect([...pending.values()].map((f) => f.key)).toEqual([0xffff_ffff, 0, 1]);
  });

  test("admit(): a new frame older than every frame held at the cap is refused, nothing evicted; a newer one evicts the oldest", () => {
    const dropped: number[] = [];
    const pending = new PendingFrames({ maxFrames: 2, maxBytes: 1000 }, (f) => dropped.push(f.key));
    expect(pending.admit(frame(5))?.key).toBe(5);
    expect(pending.admit(frame(3))?.key).toBe(3); // room left: older is fine
    expect(pending.admit(frame(2))).toBeUndefined(); // full, and older than both
    expect(dropped).toEqual([]);
    expect(pending.admit(frame(6))?.key).toBe(6);
    expect(dropped).toEqual([3]);
  });

  test("charging past the byte cap evicts older frames, never the one charged; alone too big, it is refused", () => {
    const dropped: number[] = [];
    const pending = new PendingFrames({ maxFrames: 10, maxBytes: 100 }, (f) => dropped.push(f.key));
    const [a, b, c] = [pending.add(frame(1)), pending.add(frame(2)), pending.add(frame(3))];
    expect(pending.charge(a, 40)).toBe(true);
    expect(pending.charge(b, 40)).toBe(true);
    expect(pending.charge(c, 40)).toBe(true); // 120 > 100: frame 1 goes
    expect(dropped).toEqual([1]);
    expect(pending.bytes).toBe(80);
    expect(pending.charge(c, 200)).toBe(false); // alone it could not fit: frame 2 went trying, nothing charged
    expect(dropped).toEqual([1, 2]);
    expect(pending.bytes).toBe(40);
    expect(c.chargedBytes).toBe(40);
  });

  test("bytes held elsewhere (frames finished but not yet handed on) count against the cap", () => {
    const pending = new PendingFrames({ maxFrames: 10, maxBytes: 100 }, () => {});
    const a = pending.add(frame(1));
    expect(pending.charge(a, 50, 60)).toBe(false);
    expect(pending.charge(a, 50, 50)).toBe(true);
  });

  test("remove() lets a finished frame go uncounted; drop() counts; the cap may change and applies to the next new frame", () => {
    let drops = 0;
    const pending = new PendingFrames({ maxFrames: 5, maxBytes: 1000 }, () => drops++);
    const frames = [1, 2, 3, 4, 5].map((k) => pending.add(frame(k)));
    pending.charge(frames[0]!, 10);
    pending.remove(frames[0]!);
    pending.remove(frames[0]!); // twice: nothing more
    expect(drops).toBe(0);
    expect(pending.bytes).toBe(0);
    pending.drop(frames[1]!);
    expect(drops).toBe(1);
    pending.maxFrames = 2;
    pending.add(frame(6));
    expect([...pending.values()].map((f) => f.key)).toEqual([5, 6]);
    expect(drops).toBe(3);
  });
});

describe("RepairHold: frames wait in order for repairs", () => {
  const collecting = (...frames: [number, number][]) => () => frames.map(([frameNumber, firstSeenMs]) => ({ frameNumber, firstSeenMs }));
  const held = (n: number) => ({ frameNumber: n });

  test("a held frame goes once no older frame can still be repaired; frames go oldest first whatever order they were held in", () => {
    const hold = new RepairHold(100);
    hold.hold(held(3), 30);
    hold.hold(held(2), 20);
    expect(hold.bytes).toBe(50);
    expect(hold.has(2)).toBe(true);
    expect(hold.release(50, collecting([1, 0]))).toEqual([]); // frame 1 first seen 50 ms ago: it may be repaired
    expect(hold.release(100, collecting([1, 0])).map((f) => f.frameNumber)).toEqual([2, 3]); // its time is up
    expect(hold.bytes).toBe(0);
  });

  test("a frame still collecting that is newer than a held one does not hold it back", () => {
    const hold = new RepairHold(100);
    hold.hold(held(2), 10);
    expect(hold.release(0, collecting([5, 0])).map((f) => f.frameNumber)).toEqual([2]);
  });

  test("the completion policy: every finishable frame while holding, oldest first; only the newest without a hold", () => {
    const frames = [held(7), held(5), held(6)];
    expect(new RepairHold(100).toFinish(frames).map((f) => f.frameNumber)).toEqual([5, 6, 7]);
    expect(new RepairHold(0).toFinish(frames).map((f) => f.frameNumber)).toEqual([7]);
    expect(new RepairHold(0).toFinish([])).toEqual([]);
  });

  test("frames in flight: the floor without a hold; a hold's worth at 60 fps with one", () => {
    expect(framesInFlightFor(0, 4)).toBe(4);
    expect(framesInFlightFor(120, 4)).toBe(10);
    expect(framesInFlightFor(1000, 4)).toBe(65);
    expect(framesInFlightFor(20, 8)).toBe(8);
  });
});

describe("DeliveredFrames: chunks that come after their frame was handed on", () => {
  const packets = packetizeV2(new Uint8Array(3000).fill(7), { streamId: 1, frameNumber: 9, captureTimeUs: 0 }, { datagramSize: 500, fecPercent: 0 }).map(deserializeV2);

  test("a first copy of a chunk that had not come is late (and marked), a second is a duplicate; a frame not remembered is stale", () => {
    const delivered = new DeliveredFrames();
    const seen = new Uint8Array(packets.length).fill(1);
    seen[2] = 0; // it came after the frame was handed on (FEC rebuilt it)
    delivered.remember(9, packets[0]!, seen);
    expect(delivered.classify(packets[2]!, 2)).toBe("late");
    expect(delivered.classify(packets[2]!, 2)).toBe("duplicate");
    expect(delivered.classify(packets[0]!, 0)).toBe("duplicate");
    expect(delivered.classify({ ...packets[0]!, frameNumber: 8 }, 0)).toBe("stale");
    delivered.clear();
    expect(delivered.classify(packets[0]!, 0)).toBe("stale");
  });

  test("only the last 8 frames are remembered", () => {
    const delivered = new DeliveredFrames();
    for (let n = 0; n < 9; n++) delivered.remember(n, packets[0]!, new Uint8Array(packets.length));
    expect(delivered.classify({ ...packets[0]!, frameNumber: 0 }, 0)).toBe("stale");
    expect(delivered.classify({ ...packets[0]!, frameNumber: 1 }, 0)).toBe("late");
  });
});

describe("ArrivalOrder: reordering and missing frames", () => {
  test("a chunk behind one sent after it is reordered; frame numbers jumped over are missing, across the wrap", () => {
    const order = new ArrivalOrder();
    expect(order.framesJumped(0xffff_fffe)).toBe(0);
    expect(order.reordered(0xffff_fffe, 0)).toBe(false);
    expect(order.reordered(0xffff_fffe, 2)).toBe(false);
    expect(order.reordered(0xffff_fffe, 1)).toBe(true);
    expect(order.framesJumped(1)).toBe(2); // 0xffffffff and 0 never came
    expect(order.newestFrame).toBe(1);
    expect(order.reordered(1, 0)).toBe(false);
    expect(order.reordered(0xffff_fffe, 3)).toBe(true);
    expect(order.framesJumped(0xffff_fffe)).toBe(0); // older: nothing jumped
    order.reset();
    expect(order.newestFrame).toBeUndefined();
  });
});
