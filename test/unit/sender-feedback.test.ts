import { describe, expect, test } from "bun:test";
import { endpoint, FeedbackGate } from "../../src/feedback/feedback-gate.ts";
import { FecController } from "../../src/feedback/fec-controller.ts";
import { RetransmitBudget } from "../../src/feedback/retransmit-budget.ts";
import { RetransmitHistory } from "../../src/feedback/retransmit-history.ts";
import { resendCopies, SenderFeedback } from "../../src/feedback/sender-feedback.ts";
import { feedbackKey, FeedbackType, serializeFeedback } from "../../src/protocol/feedback.ts";
import { serializeNack } from "../../src/protocol/feedback-nack.ts";
import { serializeReport, type ReceiverReport } from "../../src/protocol/feedback-report.ts";
import { newStreamKey } from "../../src/protocol/v2-seal.ts";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const REPORT: ReceiverReport = {
  reportNumber: 0,
  highestFrame: 0,
  chunksExpected: 0,
  chunksLost: 0,
  chunksRebuilt: 0,
  framesComplete: 0,
  framesDropped: 0,
  receiveBytesPerSecond: 0,
  delayTrendUsPerS: 0,
  echoFrameNumber: 0,
  echoPosition: 0,
  echoHoldUs: 0,
  latencyBudgetMs: 120,
};

describe("RetransmitHistory", () => {
  test("gives back a sent datagram byte for byte, with about when it went out; forgets the oldest frames past its cap", () => {
    const history = new RetransmitHistory(3000);
    history.record(1, [bytes(1000, 1), bytes(1000, 2)], 100, 120);
    expect(history.datagram(1, 1)).toEqual(bytes(1000, 2));
    expect(history.sentAtMs(1, 0)).toBe(100);
    expect(history.sentAtMs(1, 1)).toBe(120);
    expect(history.datagram(1, 2)).toBeUndefined();
    history.record(2, [bytes(1000, 3), bytes(1000, 4)], 133, 150);
    expect(history.datagram(1, 0)).toBeUndefined(); // 4000 > 3000: frame 1 went
    expect(history.datagram(2, 0)).toEqual(bytes(1000, 3));
    expect(history.heldBytes).toBe(2000);
  });
});

describe("resends on a lossy link", () => {
  test("one copy per ask on a clean link; a datagram asked for again goes in more copies, and a first ask in two at heavy loss", () => {
    expect(resendCopies(0, 0.01)).toBe(1);
    expect(resendCopies(1, 0.01)).toBe(2);
    expect(resendCopies(0, 0.2)).toBe(2);
    expect(resendCopies(5, 0.2)).toBe(3); // never more than three
  });

  test("answered from the history: the copies are the datagram byte for byte, and only while the budget lasts", () => {
    const sender = new SenderFeedback({ destinations: new Set(["10.0.0.2:9999"]), streamId: 7, historyBytes: 1 << 20, retransmitShare: 0.5, blindFecPercent: 25 });
    const datagrams = Array.from({ length: 10 }, (_, i) => bytes(1000, i));
    sender.frameSent(3, datagrams, 0, 10);
    const nack = serializeFeedback({ type: FeedbackType.nack, streamId: 7, receiverId: 1, body: serializeNack([{ frameNumber: 3, positions: [4] }]) });
    expect(sender.received(nack, "10.0.0.2", 9999, 20)).toEqual([datagrams[4]!]);
    expect(sender.received(nack, "10.0.0.2", 9999, 50)).toEqual([datagrams[4]!, datagrams[4]!]);
    // 5000 bytes of budget (half of the 10 000 sent): three copies went, and of the third ask's three only two fit.
    expect(sender.received(nack, "10.0.0.2", 9999, 80)).toEqual([datagrams[4]!, datagrams[4]!]);
    expect(sender.received(nack, "10.0.0.2", 9999, 90)).toEqual([]);
    expect(sender.stats(100)).toMatchObject({ chunksRequested: 4, chunksResent: 3, chunksNotResent: 1 });
  });
});

describe("RetransmitBudget", () => {
  test("resends are capped at a share of what was sent: a NACK flood cannot amplify", () => {
    const budget = new RetransmitBudget(0.25);
    for (let ms = 0; ms < 1000; ms += 10) budget.sent(10_000, ms); // 1 MB/s
    let resent = 0;
    for (let i = 0; i < 10_000; i++) if (budget.take(1200)) resent += 1200;
    expect(resent).toBeLessThanOrEqual(250_000);
    expect(resent).toBeGreaterThan(200_000);
    expect(budget.refusedBytes).toBeGreaterThan(0);
    // And it refills only as the sender sends.
    expect(budget.take(1200)).toBe(false);
    budget.sent(10_000, 1010);
    expect(budget.take(1200)).toBe(true);
  });
});

describe("FeedbackGate", () => {
  const preShared = Uint8Array.from({ length: 32 }, (_, i) => i);
  const streamKey = newStreamKey(preShared);
  const key = feedbackKey(preShared, streamKey.salt);
  const destinations = new Set([endpoint("10.0.0.2", 9999)]);
  /** A NACK about `streamId`, sealed with `sealWith` (null: plain). */
  const nack = (streamId = 7, sealWith: Uint8Array | null = key) =>
    serializeFeedback({ type: FeedbackType.nack, streamId, receiverId: 1, body: serializeNack([{ frameNumber: 3, positions: [4] }]) }, sealWith ?? undefined);
  const report = (reportNumber: number) => serializeFeedback({ type: FeedbackType.report, streamId: 7, receiverId: 1, body: serializeReport({ ...REPORT, reportNumber }) }, key);

  test("accepts sealed feedback about its stream from a destination", () => {
    const gate = new FeedbackGate(destinations, 7, preShared, streamKey);
    expect(gate.accept(nack(), "10.0.0.2", 9999)).toEqual({ kind: "nack", receiverId: 1, entries: [{ frameNumber: 3, positions: [4] }] });
    expect(gate.accept(nack(), "::ffff:10.0.0.2", 9999)?.kind).toBe("nack");
    expect(gate.stats.accepted).toBe(2);
  });

  test("refuses and counts: strangers, other streams, unsealed, forged, malformed, and old or replayed reports", () => {
    const gate = new FeedbackGate(destinations, 7, preShared, streamKey);
    expect(gate.accept(nack(), "10.0.0.3", 9999)).toBeUndefined();
    expect(gate.accept(nack(), "10.0.0.2", 9998)).toBeUndefined();
    expect(gate.accept(nack(8), "10.0.0.2", 9999)).toBeUndefined();
    expect(gate.accept(nack(7, null), "10.0.0.2", 9999)).toBeUndefined();
    expect(gate.accept(nack(7, feedbackKey(preShared, new Uint8Array(16))), "10.0.0.2", 9999)).toBeUndefined();
    expect(gate.accept(Uint8Array.of(0x52, 1), "10.0.0.2", 9999)).toBeUndefined();
    expect(gate.accept(report(5), "10.0.0.2", 9999)?.kind).toBe("report");
    expect(gate.accept(report(5), "10.0.0.2", 9999)).toBeUndefined(); // replayed
    expect(gate.accept(report(4), "10.0.0.2", 9999)).toBeUndefined(); // older
    expect(gate.accept(report(6), "10.0.0.2", 9999)?.kind).toBe("report");
    expect(gate.stats.refused).toEqual({ stranger: 2, "other-stream": 1, "not-sealed": 1, "bad-auth": 1, malformed: 1, "stale-report": 2 });
    expect(gate.stats.received).toBe(10);
  });

  test("without a key, plain feedback is accepted", () => {
    const gate = new FeedbackGate(destinations, 7);
    expect(gate.accept(nack(7, null), "10.0.0.2", 9999)?.kind).toBe("nack");
  });
});

describe("FecController: parity follows the loss retransmission cannot cover", () => {
  /** Reports every 100 ms at `loss`, `expected` chunks per interval, from `from` ms. */
  function drive(fec: FecController, loss: number, rttMs: number, budgetMs: number, from: number, reports = 30) {
    let expected = 0;
    let lost = 0;
    let number = from / 100;
    for (let i = 0; i < reports; i++) {
      expected += 1000;
      lost += Math.round(1000 * loss);
      fec.report(1, { ...REPORT, reportNumber: number++, chunksExpected: expected, chunksLost: lost, latencyBudgetMs: budgetMs }, { nowMs: from + i * 100, rttMs });
    }
    return from + reports * 100;
  }

  test("blind (no reports, or they stopped): the fixed share", () => {
    const fec = new FecController({ blindPercent: 25 });
    expect(fec.percent(0)).toBe(25);
    const end = drive(fec, 0, 20, 120, 0);
    expect(fec.percent(end)).toBe(0);
    expect(fec.percent(end + 2000)).toBe(25);
  });

  test("none on a clean path, a little with short RTT, more as the RTT eats the budget", () => {
    const clean = new FecController();
    expect(clean.percent(drive(clean, 0, 20, 120, 0))).toBe(0);
    const shortRtt = new FecController();
    const a = shortRtt.percent(drive(shortRtt, 0.05, 20, 120, 0));
    const longRtt = new FecController();
    const b = longRtt.percent(drive(longRtt, 0.05, 80, 120, 0));
    const noRounds = new FecController();
    const c = noRounds.percent(drive(noRounds, 0.05, 150, 120, 0));
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(c);
  });

  test("several receivers of one stream: the parity is what the worst of them needs, and a receiver that stops reporting stops counting", () => {
    const fec = new FecController();
    for (let i = 0; i < 30; i++) {
      fec.report(1, { ...REPORT, reportNumber: i, chunksExpected: 1000 * i, chunksLost: 0 }, { nowMs: i * 100, rttMs: 20 });
      if (i < 20) fec.report(2, { ...REPORT, reportNumber: i, chunksExpected: 1000 * i, chunksLost: 100 * i }, { nowMs: i * 100, rttMs: 20 });
    }
    expect(fec.percent(2000)).toBeGreaterThan(5); // receiver 2 loses 10%
    expect(fec.percent(2900)).toBeGreaterThan(5);
    expect(fec.percent(3100)).toBe(0); // receiver 2 silent for over a second: only the clean one counts
  });

  test("rises at once when loss appears, falls slowly when it goes, and does not twitch on small changes", () => {
    const fec = new FecController();
    let t = drive(fec, 0, 80, 120, 0);
    expect(fec.percent(t)).toBe(0);
    t = drive(fec, 0.1, 80, 120, t, 3);
    const up = fec.percent(t);
    expect(up).toBeGreaterThan(10);
    t = drive(fec, 0, 80, 120, t, 5);
    const after = fec.percent(t);
    expect(after).toBeGreaterThan(0); // still covering: loss may come back
    expect(after).toBeLessThanOrEqual(up);
    const settled = [];
    for (let i = 0; i < 10; i++) settled.push(fec.percent((t = drive(fec, 0.03, 80, 120, t, 1))));
    const steady = settled.slice(5);
    expect(Math.max(...steady) - Math.min(...steady)).toBeLessThanOrEqual(2);
  });
});
