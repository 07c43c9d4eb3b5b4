import { describe, expect, test } from "bun:test";
import { ReceiverReports } from "../../src/feedback/receiver-reports.ts";
import { receiverReport } from "../helpers/reports.ts";

describe("ReceiverReports: one tracker for every controller that steers by the receivers", () => {
  test("the first report starts a receiver; the next gives what changed, across the counters' wrap", () => {
    const reports = new ReceiverReports<{ n: number }>(1000);
    const first = reports.add(7, receiverReport(0, { chunksExpected: 0xffff_ff00, chunksLost: 0xffff_fff0 }), 100, () => ({ n: 1 }));
    expect(first).toEqual({ state: { n: 1 }, delta: undefined });
    const next = reports.add(7, receiverReport(0, { chunksExpected: 0x100, chunksLost: 0x10 }), 200, () => ({ n: 2 }));
    expect(next.state).toBe(first.state); // the same receiver keeps its state
    expect(next.delta).toEqual({ expected: 0x200, lost: 0x20, intervalMs: 100 });
  });

  test("counts that go backwards, more lost than expected, or no time between: counted, no delta", () => {
    const reports = new ReceiverReports<object>(1000);
    reports.add(1, receiverReport(0, { chunksExpected: 1000, chunksLost: 10 }), 0, () => ({}));
    expect(reports.add(1, receiverReport(0, { chunksExpected: 900, chunksLost: 10 }), 100, () => ({})).delta).toBeUndefined();
    expect(reports.add(1, receiverReport(0, { chunksExpected: 1000, chunksLost: 500 }), 200, () => ({})).delta).toBeUndefined();
    expect(reports.add(1, receiverReport(0, { chunksExpected: 1100, chunksLost: 500 }), 200, () => ({})).delta).toBeUndefined();
    expect(reports.ignored).toBe(3);
    expect(reports.add(1, receiverReport(0, { chunksExpected: 1200, chunksLost: 510 }), 300, () => ({})).delta).toEqual({ expected: 100, lost: 10, intervalMs: 100 });
  });

  test("a receiver not heard from within staleAfterMs no longer counts as fresh", () => {
    const reports = new ReceiverReports<{ id: number }>(1000);
    reports.add(1, receiverReport(0, {}), 0, () => ({ id: 1 }));
    reports.add(2, receiverReport(0, {}), 800, () => ({ id: 2 }));
    expect([...reports.fresh(1000)].map((s) => s.id)).toEqual([1, 2]);
    expect([...reports.fresh(1001)].map((s) => s.id)).toEqual([2]);
    expect([...reports.all()]).toHaveLength(2);
  });

  test("ids come from the network: a flood of them is capped, the stalest going first", () => {
    const reports = new ReceiverReports<{ id: number }>(1000, 4);
    for (let id = 0; id < 100; id++) reports.add(id, receiverReport(0, {}), id, () => ({ id }));
    expect(reports.size).toBe(4);
    expect([...reports.all()].map((r) => r.state.id)).toEqual([96, 97, 98, 99]);
    expect(reports.get(0)).toBeUndefined();
  });
});
