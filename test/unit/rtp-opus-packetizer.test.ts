import { describe, expect, test } from "bun:test";
import { RtpOpusPacketizer } from "../../src/packetizer/rtp-opus-packetizer.ts";
import { deserializeRtp, RTP_OPUS_PAYLOAD_TYPE } from "../../src/protocol/rtp.ts";

describe("RtpOpusPacketizer (RFC 7587)", () => {
  test("golden bytes: a 12-byte header (PT 97, marker on the first packet only) and the Opus packet whole", () => {
    const packetizer = new RtpOpusPacketizer();
    const { ssrc } = packetizer.stream;
    const sequence = packetizer.stream.nextSequence;
    const [first] = packetizer.packetize({ data: Uint8Array.of(0xfc, 0xff, 0xfe), captureTimeUs: 0, durationSamples: 960 });
    const header = Buffer.from(first!.subarray(0, 12)).toString("hex");
    expect(header.slice(0, 4)).toBe("80e1"); // V=2, M=1, PT=97
    expect(Buffer.from(first!).readUInt16BE(2)).toBe(sequence);
    expect(Buffer.from(first!).readUInt32BE(8)).toBe(ssrc);
    expect(Buffer.from(first!.subarray(12)).toString("hex")).toBe("fcfffe");
    const [second] = packetizer.packetize({ data: Uint8Array.of(1), captureTimeUs: 20_000, durationSamples: 960 });
    const a = deserializeRtp(first!);
    const b = deserializeRtp(second!);
    expect(b).toMatchObject({ marker: false, payloadType: RTP_OPUS_PAYLOAD_TYPE, sequence: (a.sequence + 1) & 0xffff, ssrc });
    expect((b.timestamp - a.timestamp) >>> 0).toBe(960); // 48 kHz samples
    expect(packetizer.flush()).toEqual([]);
    expect(packetizer.nextSequence).toBe(2);
  });

  test("an empty Opus packet is a programming error, not a datagram", () => {
    expect(() => new RtpOpusPacketizer().packetize({ data: new Uint8Array(0), captureTimeUs: 0, durationSamples: 960 })).toThrow(RangeError);
  });
});
