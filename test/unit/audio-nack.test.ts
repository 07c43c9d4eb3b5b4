import { describe, expect, test } from "bun:test";
import { AudioNackPlanner } from "../../src/feedback/audio-nack-planner.ts";
import { AudioHistory } from "../../src/feedback/audio-history.ts";
import { SenderFeedback } from "../../src/feedback/sender-feedback.ts";
import { ReceiverFeedback } from "../../src/feedback/receiver-feedback.ts";
import { deserializeAudioNack, MAX_AUDIO_NACK_ENTRIES, serializeAudioNack } from "../../src/protocol/feedback-audio-nack.ts";
import { deserializeFeedback, FeedbackType, serializeFeedback } from "../../src/protocol/feedback.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { AudioPacketizer } from "../../src/packetizer/audio-packetizer.ts";
import { StreamAssembler } from "../../src/reassembler/stream-assembler.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("audio NACK body", () => {
  test("golden bytes: a run packs into one entry's bitmask, a far one gets its own", () => {
    const body = serializeAudioNack([0x01020304, 0x01020305, 0x01020307, 0x01020314, 9]);
    // 2 entries: 9 alone; 0x01020304 with +1 (bit 0), +3 (bit 2), +16 (bit 15).
    expect(hex(body)).toBe("0002" + "0000" + "00000009" + "0000" + "01020304" + "8005");
    expect(deserializeAudioNack(body).sort((a, b) => a - b)).toEqual([9, 0x01020304, 0x01020305, 0x01020307, 0x01020314]);
  });

  test("a run across the wrap of 2^32 stays one entry", () => {
    const body = serializeAudioNack([0xffff_ffff, 0, 1]);
    expect(hex(body)).toBe("0001" + "0000" + "ffffffff" + "0003");
    expect(deserializeAudioNack(body)).toEqual([0xffff_ffff, 0, 1]);
  });

  test("hostile lengths and counts are refused before anything is read", () => {
    const body = serializeAudioNack([5]);
    expect(() => deserializeAudioNack(body.subarray(0, 3))).toThrow(ProtocolError);
    expect(() => deserializeAudioNack(body.subarray(0, 9))).toThrow("is 9 bytes");
    expect(() => deserializeAudioNack(Uint8Array.of(0, 0, 0, 0))).toThrow("0 entries");
    const tooMany = new Uint8Array(4 + 65 * 6);
    tooMany[1] = 65;
    expect(() => deserializeAudioNack(tooMany)).toThrow("65 entries");
    const reserved = Uint8Array.from(body);
    reserved[3] = 1;
    expect(() => deserializeAudioNack(reserved)).toThrow("reserved");
    expect(() => serializeAudioNack([])).toThrow(RangeError);
    expect(() => serializeAudioNack(Array.from({ length: MAX_AUDIO_NACK_ENTRIES + 1 }, (_, i) => i * 100))).toThrow(RangeError);
  });

  test("travels as feedback type 5", () => {
    const datagram = serializeFeedback({ type: FeedbackType.audioNack, streamId: 3, receiverId: 4, body: serializeAudioNack([7]) });
    const envelope = deserializeFeedback(datagram);
    expect(envelope.type).toBe(FeedbackType.audioNack);
    expect(deserializeAudioNack(envelope.body)).toEqual([7]);
  });
});

describe("AudioNackPlanner", () => {
  test("a gap is asked for at once, again after about a round trip, and not once an answer would come too late", () => {
    const planner = new AudioNackPlanner();
    planner.sentUpTo(10, 0);
    expect(planner.plan(0, 20, 120)).toEqual([]);
    planner.sentUpTo(13, 100); // 11 and 12 never came
    expect(planner.plan(100, 20, 120).sort()).toEqual([11, 12]);
    expect(planner.plan(110, 20, 120)).toEqual([]); // just asked
    expect(planner.arrived(12, 115)).toEqual({ answered: true, rttMs: 15 });
    expect(planner.plan(126, 20, 120)).toEqual([11]); // 1.25 round trips later
    expect(planner.arrived(11, 130)).toEqual({ answered: true, rttMs: undefined }); // asked twice: no round-trip sample (Karn)
    planner.sentUpTo(15, 300);
    expect(planner.plan(401, 20, 120)).toEqual([]); // 401 + 20 > 300 + 120: given up, concealed
    expect(planner.missingCount).toBe(0);
    expect(planner.stats).toEqual({ packetsAsked: 2, packetsAskedAgain: 1, packetsAnswered: 2 }); // 14 was never worth asking for
  });

  test("a packet that arrives on its own before being asked for is not asked for, and not counted as answered", () => {
    const planner = new AudioNackPlanner();
    planner.sentUpTo(1, 0);
    planner.sentUpTo(3, 1);
    expect(planner.arrived(2, 2)).toEqual({ answered: false });
    expect(planner.plan(3, 20, 120)).toEqual([]);
  });

  test("an old or repeated number changes nothing; a forged jump of millions remembers at most 256", () => {
    const planner = new AudioNackPlanner();
    planner.sentUpTo(1000, 0);
    planner.sentUpTo(900, 1);
    planner.sentUpTo(1000, 2);
    expect(planner.missingCount).toBe(0);
    planner.sentUpTo(1000 + 5_000_000, 3);
    expect(planner.missingCount).toBe(255);
    expect(planner.plan(3, 1, 120).length).toBe(255);
  });

  test("across the wrap of 2^32", () => {
    const planner = new AudioNackPlanner();
    planner.sentUpTo(0xffff_fffe, 0);
    planner.sentUpTo(1, 1);
    expect(planner.plan(1, 10, 120).sort((a, b) => a - b)).toEqual([0, 0xffff_ffff]);
  });
});

describe("AudioHistory", () => {
  test("byte for byte, the newest 256", () => {
    const history = new AudioHistory();
    for (let s = 0; s < 300; s++) history.record(s, Uint8Array.of(s & 0xff));
    expect(history.size).toBe(256);
    expect(history.datagram(43)).toBeUndefined();
    expect(history.datagram(44)).toEqual(Uint8Array.of(44));
    expect(history.timesResent(44)).toBe(0);
    history.resent(44);
    expect(history.timesResent(44)).toBe(1);
    history.resent(44);
    expect(history.timesResent(44)).toBe(2);
  });
});

describe("audio NACKs over the return path, wired together in memory", () => {
  test("the receiver asks for the lost packet, the sender resends it byte for byte, and it arrives marked as resent", () => {
    const packetizer = new AudioPacketizer({ streamId: 7, channels: 2 });
    const sender = new SenderFeedback({ destinations: new Set(["10.0.0.2:5000"]), streamId: 7, historyBytes: 1 << 20, retransmitShare: 0.5, blindFecPercent: 0 });
    const feedback = new ReceiverFeedback();
    const assembler = new StreamAssembler({ maxMemoryBytes: 64 << 20, feedback });
    // A picture datagram first, so the receiver follows stream 7 and knows where it comes from.
    for (const d of packetizeV2(new Uint8Array([0xff, 0xd8, 1, 2, 0xff, 0xd9]), { streamId: 7, frameNumber: 0, captureTimeUs: 0 }, { datagramSize: 1200, fecPercent: 0 })) {
      assembler.push(d, 0, "10.0.0.1", 6000);
    }
    const sent: Uint8Array[] = [];
    for (let n = 0; n < 3; n++) {
      const sequence = packetizer.nextSequence;
      const [own] = packetizer.packetize({ data: Uint8Array.of(0xf8, n + 1, n + 2), captureTimeUs: n * 20_000, durationSamples: 960 });
      sender.audioSent(sequence, own!, n * 20);
      sent.push(own!);
    }
    assembler.push(sent[0]!, 0, "10.0.0.1", 6000);
    assembler.push(sent[2]!, 40, "10.0.0.1", 6000); // packet 1 lost
    const replies = assembler.replies(41).filter((r) => deserializeFeedback(r.datagram).type === FeedbackType.audioNack);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ address: "10.0.0.1", port: 6000 });
    const resend = sender.received(replies[0]!.datagram, "10.0.0.2", 5000, 42);
    expect(resend).toEqual([sent[1]!]);
    const events = assembler.push(resend[0]!, 43, "10.0.0.1", 6000);
    expect(events).toEqual([expect.objectContaining({ kind: "audio", audio: expect.objectContaining({ sequence: 1, resent: true }) })]);
    expect(feedback.audioCounts).toEqual({ asked: 1, answered: 1 });
    expect(sender.stats(50)).toMatchObject({ audioRequested: 1, audioResent: 1, audioNotResent: 0 });
    // Asked for again, a packet gone from the history is counted, not sent.
    const forged = serializeFeedback({ type: FeedbackType.audioNack, streamId: 7, receiverId: 1, body: serializeAudioNack([999]) });
    expect(sender.received(forged, "10.0.0.2", 5000, 60)).toEqual([]);
    expect(sender.stats(60)).toMatchObject({ audioRequested: 2, audioNotResent: 1 });
    // From a stranger: refused by the gate.
    expect(sender.received(replies[0]!.datagram, "10.9.9.9", 5000, 61)).toEqual([]);
  });
});
