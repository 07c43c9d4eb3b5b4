import { describe, expect, test } from "bun:test";
import { ReceiverFeedback } from "../../src/feedback/receiver-feedback.ts";
import { SenderFeedback } from "../../src/feedback/sender-feedback.ts";
import { RetransmitHistory } from "../../src/feedback/retransmit-history.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { newStreamKey } from "../../src/protocol/v2-seal.ts";

// The sender's state goes from SenderFeedback.announce to a receiver's
// ReceiverFeedback.senderState, in memory: only the followed stream's own
// sender is believed, sealed when the stream is, and only newer states.

const SOURCE = { address: "10.0.0.1", port: 5000 };
const STATE = { targetBps: 6_000_000, reason: "link limit" as const, quality: 55, width: 960, height: 540, fps: 30 };

function pair(streamId: number, key?: Uint8Array) {
  const streamKey = key ? newStreamKey(key) : undefined;
  const sender = new SenderFeedback({ destinations: new Set(["10.0.0.2:9999"]), streamId, preSharedKey: key, streamKey, historyBytes: 1 << 20, retransmitShare: 0.3, blindFecPercent: 25 });
  const receiver = new ReceiverFeedback({ preSharedKey: key });
  const follow = () => receiver.arrived({ streamId, frameNumber: 0, position: 0, captureTimeUs: 0, bytes: 1200, salt: streamKey?.salt }, SOURCE, 0);
  return { sender, receiver, follow };
}

const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return "accepted";
};

describe("sender state, sender to receiver", () => {
  test("the followed stream's sender is believed: its target, reason and encoding reach the receiver; older states do not", () => {
    const { sender, receiver, follow } = pair(7);
    const early = sender.announce(STATE);
    expect(refusal(() => receiver.senderState(early, SOURCE))).toBe("stale"); // no stream followed yet
    follow();
    const first = sender.announce(STATE);
    expect(refusal(() => receiver.senderState(first, SOURCE))).toBe("accepted");
    expect(receiver.sender).toEqual({ ...STATE, stateNumber: 1 });
    expect(refusal(() => receiver.senderState(first, SOURCE))).toBe("stale"); // a replay
    expect(refusal(() => receiver.senderState(sender.announce({ ...STATE, targetBps: undefined, reason: "full quality" }), SOURCE))).toBe("accepted");
    expect(receiver.sender).toMatchObject({ targetBps: undefined, reason: "full quality" });
    expect(sender.stats(0).senderStatesSent).toBe(3);
  });

  test("from anywhere else, about another stream, or garbled: refused with a reason", () => {
    const { sender, receiver, follow } = pair(7);
    follow();
    expect(refusal(() => receiver.senderState(sender.announce(STATE), { address: "10.0.0.9", port: 5000 }))).toBe("stranger");
    expect(refusal(() => receiver.senderState(sender.announce(STATE), { ...SOURCE, port: 5001 }))).toBe("stranger");
    expect(refusal(() => receiver.senderState(sender.announce(STATE), undefined))).toBe("stranger");
    const other = pair(8).sender.announce(STATE);
    expect(refusal(() => receiver.senderState(other, SOURCE))).toBe("stale");
    const good = sender.announce(STATE);
    expect(refusal(() => receiver.senderState(good.subarray(0, 20), SOURCE))).toBe("bad-length");
    expect(refusal(() => receiver.senderState(good.subarray(0, 5), SOURCE))).toBe("truncated");
    expect(receiver.sender).toBeUndefined();
  });

  test("a sealed stream's state is sealed: the receiver with the key opens it; a plain or forged one is refused", () => {
    const key = new Uint8Array(32).fill(5);
    const { sender, receiver, follow } = pair(9, key);
    follow();
    const sealed = sender.announce(STATE);
    expect(refusal(() => receiver.senderState(sealed, SOURCE))).toBe("accepted");
    const forged = Uint8Array.from(sender.announce(STATE));
    forged[forged.length - 1]! ^= 1;
    expect(refusal(() => receiver.senderState(forged, SOURCE))).toBe("bad-auth");
    const plain = pair(9).sender.announce(STATE);
    expect(refusal(() => receiver.senderState(plain, SOURCE))).toBe("not-sealed");
  });
});

describe("RetransmitHistory after a resend", () => {
  test("an echo of a resent datagram times the round trip from the resend, not the first send", () => {
    const history = new RetransmitHistory(1 << 20);
    history.record(1, [new Uint8Array(100), new Uint8Array(100)], 100, 120);
    history.resent(1, 1, 300);
    expect(history.sentAtMs(1, 0)).toBe(100);
    expect(history.sentAtMs(1, 1)).toBe(300);
    history.resent(1, 9, 300); // no such position: nothing recorded
    expect(history.sentAtMs(1, 9)).toBeUndefined();
  });
});
