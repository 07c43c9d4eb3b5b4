import { describe, expect, test } from "bun:test";
import { createDecipheriv, hkdfSync } from "node:crypto";
import { classifyDatagram } from "../../src/protocol/classify.ts";
import { deserializeFeedback, feedbackKey, FeedbackType, MAX_FEEDBACK_SIZE, serializeFeedback } from "../../src/protocol/feedback.ts";
import { deserializeNack, MAX_NACK_ENTRIES, serializeNack } from "../../src/protocol/feedback-nack.ts";
import { deserializeReport, REPORT_SIZE, serializeReport, type ReceiverReport } from "../../src/protocol/feedback-report.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { deserializeReceiverState, serializeReceiverState } from "../../src/protocol/feedback-receiver-state.ts";
import { deserializeSenderState, serializeSenderState, type SenderState } from "../../src/protocol/feedback-sender-state.ts";
import { seededRandom } from "../../src/util/random.ts";

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const PRE_SHARED = Uint8Array.from({ length: 32 }, (_, i) => i);
const SALT = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

const report: ReceiverReport = {
  reportNumber: 7,
  highestFrame: 0x01020304,
  chunksExpected: 1000,
  chunksLost: 30,
  chunksRebuilt: 20,
  framesComplete: 99,
  framesDropped: 1,
  receiveBytesPerSecond: 3_750_000,
  delayTrendUsPerS: -1500,
  echoFrameNumber: 0x01020304,
  echoPosition: 17,
  echoHoldUs: 2500,
  latencyBudgetMs: 120,
};

describe("feedback envelope", () => {
  test("golden bytes of a plain one: magic R, version 1, type, flags, stream id, receiver id, body", () => {
    const datagram = serializeFeedback({ type: FeedbackType.nack, streamId: 0xdeadbeef, receiverId: 0x11223344, body: Uint8Array.of(9, 8) });
    expect(hexOf(datagram)).toBe("52010100" + "deadbeef" + "11223344" + "0908");
    expect(deserializeFeedback(datagram)).toEqual({ type: 1, streamId: 0xdeadbeef, receiverId: 0x11223344, sealed: false, body: Uint8Array.of(9, 8) });
    expect(classifyDatagram(datagram)).toBeUndefined(); // a receiver never mistakes it for a stream
  });

  test("sealed: header in clear, random nonce, body under the feedback key (HKDF info 'udpvid v2 feedback key'), tag", () => {
    const key = feedbackKey(PRE_SHARED, SALT);
    expect(hexOf(key)).toBe(hexOf(new Uint8Array(hkdfSync("sha256", PRE_SHARED, SALT, "udpvid v2 feedback key", 32))));
    const body = serializeReport(report);
    const datagram = serializeFeedback({ type: FeedbackType.report, streamId: 5, receiverId: 6, body }, key);
    expect(datagram.length).toBe(12 + 12 + REPORT_SIZE + 16);
    expect(datagram[3]).toBe(1);
    // Opened independently.
    const decipher = createDecipheriv("aes-256-gcm", key, datagram.subarray(12, 24));
    decipher.setAAD(datagram.subarray(0, 12));
    decipher.setAuthTag(datagram.subarray(datagram.length - 16));
    expect(hexOf(Buffer.concat([decipher.update(datagram.subarray(24, datagram.length - 16)), decipher.final()]))).toBe(hexOf(body));
    expect(deserializeReport(deserializeFeedback(datagram, key).body)).toEqual(report);
    // Two sealings of the same report never share a nonce.
    const again = serializeFeedback({ type: FeedbackType.report, streamId: 5, receiverId: 6, body }, key);
    expect(hexOf(again.subarray(12, 24))).not.toBe(hexOf(datagram.subarray(12, 24)));
  });

  test("sealed feedback: another key, any flipped bit, or no key is refused; a plain one parses as plain (the sender decides)", () => {
    const key = feedbackKey(PRE_SHARED, SALT);
    const datagram = serializeFeedback({ type: FeedbackType.nack, streamId: 1, receiverId: 2, body: serializeNack([{ frameNumber: 3, positions: [4] }]) }, key);
    expect(() => deserializeFeedback(datagram, feedbackKey(PRE_SHARED, new Uint8Array(16)))).toThrow("failed authentication");
    expect(() => deserializeFeedback(datagram)).toThrow("no key");
    const random = seededRandom(5);
    for (let i = 0; i < 300; i++) {
      const bad = new Uint8Array(datagram);
      const bit = Math.floor(random() * bad.length * 8);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      let parsed;
      try {
        parsed = deserializeFeedback(bad, key);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        continue;
      }
      expect(parsed.sealed).toBe(false); // only the SEALED flag itself can flip into something that parses
    }
  });

  test("hostile lengths and fields are refused before anything is read", () => {
    const valid = serializeFeedback({ type: FeedbackType.nack, streamId: 1, receiverId: 2, body: new Uint8Array(0) });
    for (let length = 0; length < 12; length++) expect(() => deserializeFeedback(valid.subarray(0, length))).toThrow(ProtocolError);
    expect(() => deserializeFeedback(new Uint8Array(MAX_FEEDBACK_SIZE + 1).fill(0x52))).toThrow("exceeds");
    const with_ = (at: number, value: number) => Uint8Array.from(valid, (b, i) => (i === at ? value : b));
    expect(() => deserializeFeedback(with_(0, 0x56))).toThrow(ProtocolError);
    expect(() => deserializeFeedback(with_(1, 2))).toThrow("version");
    expect(() => deserializeFeedback(with_(2, 9))).toThrow("type");
    expect(() => deserializeFeedback(with_(3, 0x80))).toThrow("flags");
    const sealedButShort = with_(3, 1);
    expect(() => deserializeFeedback(sealedButShort, new Uint8Array(32))).toThrow("too short");
  });
});

describe("NACK body", () => {
  test("golden bytes: positions within 16 of the first share an entry's bitmask", () => {
    const body = serializeNack([{ frameNumber: 0x0a0b0c0d, positions: [5, 6, 21, 22, 40] }]);
    // entries 3 | 0 | frame 0a0b0c0d pos 5 mask bit0 (6) + bit15 (21) | pos 22 mask 0 | pos 40 mask 0
    expect(hexOf(body)).toBe("00030000" + "0a0b0c0d" + "0005" + "8001" + "0a0b0c0d" + "0016" + "0000" + "0a0b0c0d" + "0028" + "0000");
    expect(deserializeNack(body)).toEqual([{ frameNumber: 0x0a0b0c0d, positions: [5, 6, 21, 22, 40] }]);
  });

  test("round trip over many frames and random losses", () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const frames = 1 + Math.floor(random() * 4);
      const missing = Array.from({ length: frames }, (_, f) => ({
        frameNumber: (1000 + f) >>> 0,
        positions: [...new Set(Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * 300)))].sort((a, b) => a - b),
      }));
      let body: Uint8Array;
      try {
        body = serializeNack(missing);
      } catch {
        continue; // more than 128 entries: the caller splits (tested below)
      }
      expect(deserializeNack(body)).toEqual(missing);
    }
  });

  test("hostile bodies: counts that do not match the length, zero or too many entries", () => {
    const body = serializeNack([{ frameNumber: 1, positions: [1] }]);
    expect(() => deserializeNack(body.subarray(0, 3))).toThrow(ProtocolError);
    expect(() => deserializeNack(body.subarray(0, 11))).toThrow("is 11 bytes");
    expect(() => deserializeNack(Uint8Array.of(0, 0, 0, 0))).toThrow("0 entries");
    const tooMany = new Uint8Array(4 + 129 * 8);
    new DataView(tooMany.buffer).setUint16(0, 129);
    expect(() => deserializeNack(tooMany)).toThrow("129 entries");
    expect(() => serializeNack([{ frameNumber: 1, positions: Array.from({ length: MAX_NACK_ENTRIES + 1 }, (_, i) => i * 20) }])).toThrow(RangeError);
  });
});

describe("receiver report body", () => {
  test("golden bytes and round trip", () => {
    const body = serializeReport(report);
    expect(hexOf(body)).toBe(
      "00000007" + "01020304" + "000003e8" + "0000001e" + "00000014" + "00000063" + "00000001" + "00393870" + "fffffa24" + "01020304" + "0011" + "0078" + "000009c4",
    );
    expect(deserializeReport(body)).toEqual(report);
  });

  test("out-of-range values are clamped, not wrapped into nonsense; a wrong length is refused", () => {
    const body = serializeReport({ ...report, receiveBytesPerSecond: 1e12, delayTrendUsPerS: -1e12, echoHoldUs: -5, latencyBudgetMs: 1e6 });
    const parsed = deserializeReport(body);
    expect(parsed.receiveBytesPerSecond).toBe(0xffff_ffff);
    expect(parsed.delayTrendUsPerS).toBe(-0x8000_0000);
    expect(parsed.echoHoldUs).toBe(0);
    expect(parsed.latencyBudgetMs).toBe(0xffff);
    expect(() => deserializeReport(body.subarray(1))).toThrow(ProtocolError);
  });
});

describe("receiver state body", () => {
  const state = { reportNumber: 7, deliveryBytesPerSecond: 12_500_000, decodeLagMs: 40, framesSkippedForTime: 3 };

  test("golden bytes and round trip", () => {
    const body = serializeReceiverState(state);
    expect(hexOf(body)).toBe("00000007" + "00bebc20" + "0028" + "0000" + "00000003");
    expect(deserializeReceiverState(body)).toEqual(state);
  });

  test("out-of-range values are clamped; every wrong length is refused before anything is read; the reserved field is ignored", () => {
    const parsed = deserializeReceiverState(serializeReceiverState({ ...state, deliveryBytesPerSecond: 1e12, decodeLagMs: -3 }));
    expect(parsed.deliveryBytesPerSecond).toBe(0xffff_ffff);
    expect(parsed.decodeLagMs).toBe(0);
    const body = serializeReceiverState(state);
    for (const length of [0, 1, 15, 17, 64]) expect(() => deserializeReceiverState(new Uint8Array(length))).toThrow(ProtocolError);
    body[10] = 0xff;
    expect(deserializeReceiverState(body)).toEqual(state);
  });
});

describe("sender state body", () => {
  const state: SenderState = { stateNumber: 2, targetBps: 12_345_000, reason: "link limit", quality: 62, width: 960, height: 540, fps: 29.97 };

  test("golden bytes and round trip; no limit is all ones", () => {
    const body = serializeSenderState(state);
    expect(hexOf(body)).toBe("00000002" + "00003039" + "04" + "3e" + "03c0" + "021c" + "0bb5");
    expect(deserializeSenderState(body)).toEqual(state);
    const free = serializeSenderState({ ...state, targetBps: undefined, reason: "full quality" });
    expect(hexOf(free.subarray(4, 9))).toBe("ffffffff02");
    expect(deserializeSenderState(free)).toMatchObject({ targetBps: undefined, reason: "full quality" });
  });

  test("hostile bodies: wrong lengths refused before reading, an unknown reason read as unknown, huge numbers clamped", () => {
    for (const length of [0, 8, 15, 17]) expect(() => deserializeSenderState(new Uint8Array(length))).toThrow(ProtocolError);
    const body = serializeSenderState(state);
    body[8] = 200;
    expect(deserializeSenderState(body).reason).toBe("unknown");
    const huge = deserializeSenderState(serializeSenderState({ ...state, targetBps: 1e15, width: 1e6, quality: 1000 }));
    expect(huge.targetBps).toBe((0xffff_ffff - 1) * 1000);
    expect(huge).toMatchObject({ width: 0xffff, quality: 255 });
  });
});
