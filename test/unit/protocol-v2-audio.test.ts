import { describe, expect, test } from "bun:test";
import { codeOf } from "../helpers/protocol-error-code.ts";
import { AUDIO_HEADER_SIZE, deserializeAudio, groupDataSent, looksLikeAudio, serializeAudio, type AudioPacket } from "../../src/protocol/v2-audio.ts";
import { classifyDatagram } from "../../src/protocol/classify.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { MAX_UDP_PAYLOAD } from "../../src/protocol/udp.ts";

const packet: AudioPacket = {
  streamId: 0xdeadbeef,
  sequence: 0x01020305,
  captureTimeUs: 0x0a0b0c0d,
  codec: 1,
  channels: 2,
  groupData: 4,
  groupParity: 2,
  index: 1, // 0x01020305 mod 4
  durationSamples: 960,
  parity: false,
  sealed: false,
  payload: Uint8Array.of(0xfc, 0xff, 0xfe),
};

// 41 01 00 12 | de ad be ef | 01 02 03 05 | 0a 0b 0c 0d | 42 01 03 c0 | fc ff fe
const golden = [0x41, 0x01, 0x00, 0x12, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x05, 0x0a, 0x0b, 0x0c, 0x0d, 0x42, 0x01, 0x03, 0xc0, 0xfc, 0xff, 0xfe];

/** The golden datagram with byte `at` set to `value`. */
const withByte = (at: number, value: number) => Uint8Array.from(golden.map((b, i) => (i === at ? value : b)));

describe("v2 audio datagram codec", () => {
  test("golden bytes", () => {
    expect([...serializeAudio(packet)]).toEqual(golden);
  });

  test("golden bytes parse back to the same packet", () => {
    const parsed = deserializeAudio(Uint8Array.from(golden));
    expect({ ...parsed, payload: [...parsed.payload] }).toEqual({ ...packet, payload: [0xfc, 0xff, 0xfe] });
  });

  test("a parity packet: PARITY flag, its group's first sequence, its row, 0 in the duration (a full group)", () => {
    const parity = serializeAudio({ ...packet, parity: true, sequence: 0x01020304, index: 1, durationSamples: 0, payload: new Uint8Array(12) });
    expect(parity[2]).toBe(0x04);
    expect(deserializeAudio(parity)).toMatchObject({ parity: true, sequence: 0x01020304, index: 1 });
  });

  test("its first byte tells it apart from every other protocol", () => {
    const datagram = serializeAudio(packet);
    expect(looksLikeAudio(datagram)).toBe(true);
    expect(classifyDatagram(datagram)).toBeUndefined(); // not mistaken for video, legacy or RTP
  });

  test("hostile lengths: every truncation is refused, and nothing larger than UDP carries", () => {
    const full = Uint8Array.from(golden);
    for (let length = 0; length < AUDIO_HEADER_SIZE; length++) expect(codeOf(() => deserializeAudio(full.subarray(0, length)))).toBe("truncated");
    expect(codeOf(() => deserializeAudio(full.subarray(0, AUDIO_HEADER_SIZE)))).toBe("empty-payload");
    const huge = new Uint8Array(MAX_UDP_PAYLOAD + 1);
    huge.set(full);
    expect(codeOf(() => deserializeAudio(huge))).toBe("oversized");
    // A parity packet too short to hold even a shard's header, and a sealed one too short for its salt and tag.
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...packet, parity: true, sequence: 0x01020304, index: 0, durationSamples: 0, payload: new Uint8Array(7) })))).toBe(
      "empty-payload",
    );
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...packet, sealed: true, payload: new Uint8Array(32) })))).toBe("empty-payload");
  });

  test("fields that cannot be are refused, each with its reason", () => {
    expect(codeOf(() => deserializeAudio(withByte(0, 0x42)))).toBe("bad-magic");
    expect(codeOf(() => deserializeAudio(withByte(1, 2)))).toBe("unsupported-version");
    expect(codeOf(() => deserializeAudio(withByte(2, 0x01)))).toBe("bad-flags"); // video's LAST bit means nothing here
    expect(codeOf(() => deserializeAudio(withByte(3, 0x22)))).toBe("bad-flags"); // codec 2
    expect(codeOf(() => deserializeAudio(withByte(3, 0x13)))).toBe("bad-flags"); // 3 channels
    expect(codeOf(() => deserializeAudio(withByte(3, 0x10)))).toBe("bad-flags"); // no channels
    expect(codeOf(() => deserializeAudio(withByte(16, 0x02)))).toBe("bad-fec"); // no data packets per group
    expect(codeOf(() => deserializeAudio(withByte(17, 2)))).toBe("bad-chunk-index"); // index disagrees with the sequence
    expect(codeOf(() => deserializeAudio(withByte(18, 0x00).map((b, i) => (i === 19 ? 0x10 : b))))).toBe("bad-length"); // 16 samples
    expect(codeOf(() => deserializeAudio(withByte(18, 0x17).map((b, i) => (i === 19 ? 0x00 : b))))).toBe("bad-length"); // 5888 samples
    const parity = { ...packet, parity: true, sequence: 0x01020304, index: 0, durationSamples: 0, payload: new Uint8Array(12) };
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...parity, index: 2 })))).toBe("bad-chunk-index"); // row beyond m
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...parity, sequence: 0x01020305 })))).toBe("bad-chunk-index"); // not a group's start
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...parity, durationSamples: 960 })))).toBe("bad-length");
    expect(codeOf(() => deserializeAudio(serializeAudio({ ...parity, durationSamples: 4 })))).toBe("bad-length"); // a group of k says 0
  });

  test("a track's last group, ended before it was full: its parity says how many data packets it holds", () => {
    const parity = { ...packet, parity: true, sequence: 0x01020304, index: 0, durationSamples: 0, payload: new Uint8Array(12) };
    expect(groupDataSent(deserializeAudio(serializeAudio(parity)))).toBe(4);
    expect(groupDataSent(deserializeAudio(serializeAudio({ ...parity, durationSamples: 3 })))).toBe(3);
  });

  test("random bytes behind the magic never throw anything but a ProtocolError", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const datagram = Uint8Array.from({ length: random() % 64 }, random);
      if (datagram.length > 0) datagram[0] = 0x41;
      try {
        deserializeAudio(datagram);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
