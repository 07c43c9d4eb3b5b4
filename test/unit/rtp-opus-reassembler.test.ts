import { describe, expect, test } from "bun:test";
import { RtpOpusPacketizer } from "../../src/packetizer/rtp-opus-packetizer.ts";
import { deserializeRtp, serializeRtp } from "../../src/protocol/rtp.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { RtpCaptureClock } from "../../src/reassembler/rtp-capture-clock.ts";
import { RtpOpusReassembler } from "../../src/reassembler/rtp-opus-reassembler.ts";
import type { ReceivedAudio } from "../../src/reassembler/audio-reassembler.ts";

const OPUS_20MS_STEREO = Uint8Array.of((31 << 3) | 0x04, 1, 2, 3); // CELT 20 ms, stereo, one frame

describe("RtpCaptureClock", () => {
  test("each stream anchored where its first packet arrived and counted on at its rate: a picture and a sound that start together line up", () => {
    const clock = new RtpCaptureClock();
    const startUs = 1_000_000_000;
    expect(clock.captureUs(1, 4_000_000_000, 90_000, startUs)).toBe(startUs);
    expect(clock.captureUs(2, 7, 48_000, startUs + 300)).toBe(startUs + 300);
    // One second on: 90 000 ticks of the picture, 48 000 of the sound, wherever they arrive.
    expect(clock.captureUs(1, (4_000_000_000 + 90_000) >>> 0, 90_000, startUs + 5_000_000)).toBe(startUs + 1_000_000);
    expect(clock.captureUs(2, 7 + 48_000, 48_000, 0)).toBe(startUs + 300 + 1_000_000);
    // Before the anchor too (a reordered packet).
    expect(clock.captureUs(2, 7 - 480, 48_000, 0)).toBe(startUs + 300 - 10_000);
  });

  test("runs for hours: timestamps wrap, capture times wrap at 2^32 µs, and spacing is kept", () => {
    const clock = new RtpCaptureClock();
    let previous = clock.captureUs(5, 0xffff_0000, 48_000, 0xffff_ff00);
    for (let n = 1; n < 200_000; n++) {
      const us = clock.captureUs(5, (0xffff_0000 + n * 48_000) >>> 0, 48_000, 0);
      expect((us - previous) >>> 0).toBe(1_000_000);
      previous = us;
    }
  });
});

describe("RtpOpusReassembler", () => {
  test("udpvid's own RTP Opus packets come back whole, numbered on, timed at 20 ms apart, their duration from the TOC", () => {
    const packetizer = new RtpOpusPacketizer();
    const reassembler = new RtpOpusReassembler(new RtpCaptureClock());
    const out: ReceivedAudio[] = [];
    for (let n = 0; n < 5; n++) {
      const [datagram] = packetizer.packetize({ data: OPUS_20MS_STEREO, captureTimeUs: 0, durationSamples: 960 });
      out.push(...reassembler.push(deserializeRtp(datagram!), n * 20, 1_000_000 + n * 20_000 + (n === 2 ? 7000 : 0)));
    }
    expect(out.map((a) => a.durationSamples)).toEqual([960, 960, 960, 960, 960]);
    expect(out.map((a) => a.channels)).toEqual([2, 2, 2, 2, 2]);
    expect(out.map((a) => (a.sequence - out[0]!.sequence) >>> 0)).toEqual([0, 1, 2, 3, 4]);
    // Timed by the timestamps, not by when each arrived (the third came 7 ms late).
    expect(out.map((a) => a.captureTimeUs - out[0]!.captureTimeUs)).toEqual([0, 20_000, 40_000, 60_000, 80_000]);
    expect(out[0]!.data).toEqual(OPUS_20MS_STEREO);
  });

  test("sequence numbers extend past 65535; duplicates are dropped and counted", () => {
    const reassembler = new RtpOpusReassembler(new RtpCaptureClock());
    const packet = (sequence: number) => deserializeRtp(serializeRtp({ marker: false, payloadType: 111, sequence, timestamp: sequence * 960, ssrc: 9, payload: OPUS_20MS_STEREO }));
    const numbers = [65534, 65535, 0, 1, 1, 65535].flatMap((s, i) => reassembler.push(packet(s), i, i * 1000).map((a) => a.sequence));
    expect(numbers).toEqual([65534, 65535, 65536, 65537]);
    expect(reassembler.stats).toMatchObject({ packetsReceived: 4, packetsDuplicate: 2 });
  });

  test("a second stream is refused while the followed one plays, and followed once that has been silent 2 s", () => {
    const reassembler = new RtpOpusReassembler(new RtpCaptureClock());
    const from = (ssrc: number, sequence: number) => deserializeRtp(serializeRtp({ marker: false, payloadType: 97, sequence, timestamp: 0, ssrc, payload: OPUS_20MS_STEREO }));
    expect(reassembler.push(from(1, 0), 0, 0)).toHaveLength(1);
    expect(reassembler.push(from(2, 0), 100, 0)).toHaveLength(0);
    expect(reassembler.stats.packetsOtherStream).toBe(1);
    expect(reassembler.push(from(2, 1), 2200, 0)).toHaveLength(1);
  });

  test("a hostile payload (empty, or past 120 ms by its TOC) is a ProtocolError, never a packet", () => {
    const reassembler = new RtpOpusReassembler(new RtpCaptureClock());
    const bad = (payload: Uint8Array) => deserializeRtp(serializeRtp({ marker: false, payloadType: 97, sequence: 1, timestamp: 0, ssrc: 1, payload }));
    expect(() => reassembler.push(bad(new Uint8Array(0)), 0, 0)).toThrow(ProtocolError);
    expect(() => reassembler.push(bad(Uint8Array.of((31 << 3) | 3, 48)), 0, 0)).toThrow(ProtocolError);
    expect(reassembler.stats.packetsReceived).toBe(0);
  });
});

describe("RTCP sender reports", () => {
  test("golden bytes: the SSRC, the NTP time as µs since 1970 (mod 2^32), the RTP timestamp; other RTCP types are not reports", async () => {
    const { parseSenderReport, looksLikeRtcp } = await import("../../src/protocol/rtcp-sender-report.ts");
    // V=2, RC=0, PT=200, length 6 (28 bytes); SSRC 0x01020304; NTP 2208988801.5 s (1970 + 1.5 s); RTP 0xAABBCCDD; counts.
    const sr = Buffer.from("80c80006" + "01020304" + "83aa7e81" + "80000000" + "aabbccdd" + "00000001" + "00000064", "hex");
    expect(looksLikeRtcp(sr)).toBe(true);
    expect(parseSenderReport(sr)).toEqual({ ssrc: 0x01020304, wallClockUs: 1_500_000, rtpTimestamp: 0xaabbccdd });
    const receiverReport = Uint8Array.from(sr);
    receiverReport[1] = 201;
    expect(parseSenderReport(receiverReport)).toBeUndefined();
    // RTP/JPEG (26, with or without the marker) and Opus (97 + marker = 225) are never taken for RTCP.
    for (const second of [26, 26 | 0x80, 97, 97 | 0x80]) expect(looksLikeRtcp(Uint8Array.of(0x80, second))).toBe(false);
    expect(() => parseSenderReport(sr.subarray(0, 20))).toThrow(ProtocolError);
    const lying = Buffer.from(sr);
    lying.writeUInt16BE(1, 2); // says 8 bytes: shorter than a sender report
    expect(() => parseSenderReport(lying)).toThrow(ProtocolError);
  });

  test("a sender report puts its stream on the sender's clock: two streams whose first packets came 100 ms apart line up", () => {
    const clock = new RtpCaptureClock();
    clock.senderReport(1, 1000, 5_000_000); // picture: 90 kHz ts 1000 at wall 5 s
    clock.senderReport(2, 48_000, 5_000_000); // sound: 48 kHz ts 48000 at the same instant
    expect(clock.onSenderClock(1)).toBe(true);
    expect(clock.captureUs(1, 1000 + 90_000, 90_000, 1)).toBe(6_000_000);
    expect(clock.captureUs(2, 96_000, 48_000, 100_000_000)).toBe(6_000_000); // whenever it arrived
    expect(clock.onSenderClock(3)).toBe(false);
  });
});
