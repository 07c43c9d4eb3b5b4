import { expect, test } from "bun:test";
import { opusPacketSamples } from "../../src/protocol/opus-toc.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";

test("durations from the TOC byte: SILK, hybrid and CELT frame sizes, one or two frames", () => {
  const toc = (config: number, code: number) => (config << 3) | code;
  expect(opusPacketSamples(Uint8Array.of(toc(1, 0)))).toBe(960); // SILK 20 ms
  expect(opusPacketSamples(Uint8Array.of(toc(3, 0)))).toBe(2880); // SILK 60 ms
  expect(opusPacketSamples(Uint8Array.of(toc(13, 0)))).toBe(960); // hybrid 20 ms
  expect(opusPacketSamples(Uint8Array.of(toc(16, 0)))).toBe(120); // CELT 2.5 ms
  expect(opusPacketSamples(Uint8Array.of(toc(31, 0)))).toBe(960); // CELT 20 ms: what libopus makes at 96 kbit/s
  expect(opusPacketSamples(Uint8Array.of(toc(31, 1), 0))).toBe(1920); // two frames
  expect(opusPacketSamples(Uint8Array.of(toc(31, 3), 3))).toBe(2880); // a count of 3
});

test("hostile packets are refused: empty, no count, zero frames, past 120 ms", () => {
  expect(() => opusPacketSamples(new Uint8Array(0))).toThrow(ProtocolError);
  expect(() => opusPacketSamples(Uint8Array.of((31 << 3) | 3))).toThrow("frame count");
  expect(() => opusPacketSamples(Uint8Array.of((31 << 3) | 3, 0))).toThrow("0 frames");
  expect(() => opusPacketSamples(Uint8Array.of((31 << 3) | 3, 7))).toThrow("more than 120"); // 7 × 20 ms
  expect(() => opusPacketSamples(Uint8Array.of((3 << 3) | 1, 0))).not.toThrow(); // 2 × 60 ms = 120 ms: the most allowed
});
