import { describe, expect, test } from "bun:test";
import { decodePicture, decodeSound, drawnLatencyMs, encodePicture, encodeSound, SOUND_HEADER_BYTES, MAX_REPORT_BYTES, parseViewerMessage, PICTURE_HEADER_BYTES } from "../../src/web/web-messages.ts";

const picture = { frameNumber: 0x01020304, captureUs: 0x0a0b0c0d, ageUs: 30_000, sentAtMs: 1234.5, jpeg: Uint8Array.of(0xff, 0xd8, 0xff, 0xd9) };
// 01 01 00 00 | 01 02 03 04 | 0a 0b 0c 0d | 00 00 75 30 | 40 93 4a 00 00 00 00 00 | ff d8 ff d9
const golden = [0x01, 0x01, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x75, 0x30, 0x40, 0x93, 0x4a, 0, 0, 0, 0, 0, 0xff, 0xd8, 0xff, 0xd9];

describe("the web viewer's picture message", () => {
  test("golden bytes", () => {
    expect([...encodePicture(picture)]).toEqual(golden);
  });

  test("golden bytes read back to the same picture", () => {
    const read = decodePicture(Uint8Array.from(golden))!;
    expect({ ...read, jpeg: [...read.jpeg] }).toEqual({ ...picture, jpeg: [0xff, 0xd8, 0xff, 0xd9] });
  });

  test("an unknown age is all ones, and reads back as unknown", () => {
    const bytes = encodePicture({ ...picture, ageUs: undefined });
    expect([...bytes.subarray(12, 16)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(decodePicture(bytes)!.ageUs).toBeUndefined();
  });

  test("an age past what 32 bits hold is capped below 'unknown', a negative one is 0", () => {
    expect(decodePicture(encodePicture({ ...picture, ageUs: 2 ** 40 }))!.ageUs).toBe(0xffff_fffe);
    expect(decodePicture(encodePicture({ ...picture, ageUs: -5 }))!.ageUs).toBe(0);
  });

  test("short, foreign or other-version bytes are not a picture", () => {
    expect(decodePicture(Uint8Array.from(golden.slice(0, PICTURE_HEADER_BYTES - 1)))).toBeUndefined();
    expect(decodePicture(Uint8Array.from([0x02, ...golden.slice(1)]))).toBeUndefined();
    expect(decodePicture(Uint8Array.from([0x01, 0x02, ...golden.slice(2)]))).toBeUndefined();
  });
});

describe("the web viewer's sound message", () => {
  const sound = { sequence: 0x01020305, channels: 2, captureUs: 0x0a0b0c0d, samples: Float32Array.of(0, 1, -1, 0.5) };
  // 02 01 02 00 | 01 02 03 05 | 0a 0b 0c 0d | 00 02 00 00 | 00 00 ff 7f 01 80 00 40 (int16 LE: 0, 32767, -32767, 16384)
  const goldenSound = [0x02, 0x01, 0x02, 0x00, 0x01, 0x02, 0x03, 0x05, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f, 0x01, 0x80, 0x00, 0x40];

  test("golden bytes, and back (to 16 bits)", () => {
    expect([...encodeSound(sound)]).toEqual(goldenSound);
    const read = decodeSound(Uint8Array.from(goldenSound))!;
    expect({ ...read, samples: [...read.samples].map((v) => Math.round(v * 1000) / 1000) }).toEqual({ ...sound, samples: [0, 1, -1, 0.5] });
  });

  test("samples past full scale are clipped, not wrapped", () => {
    const read = decodeSound(encodeSound({ ...sound, samples: Float32Array.of(1.5, -3) }))!;
    expect([...read.samples]).toEqual([1, -1]);
  });

  test("short, foreign, other-version or cut bytes are not sound", () => {
    expect(decodeSound(Uint8Array.from(goldenSound.slice(0, SOUND_HEADER_BYTES - 1)))).toBeUndefined();
    expect(decodeSound(Uint8Array.from([0x01, ...goldenSound.slice(1)]))).toBeUndefined();
    expect(decodeSound(Uint8Array.from([0x02, 0x09, ...goldenSound.slice(2)]))).toBeUndefined();
    expect(decodeSound(Uint8Array.from(goldenSound.slice(0, -1)))).toBeUndefined();
  });
});

describe("a page's reports", () => {
  const now = 10_000;
  const report = (fields: Record<string, unknown>) => JSON.stringify({ type: "drawn", frame: 7, sentAtMs: 9_950, heldMs: 12, ...fields });

  test("well-formed ones are read", () => {
    expect(parseViewerMessage(report({}), now)).toEqual({ type: "drawn", frameNumber: 7, sentAtMs: 9_950, heldMs: 12 });
    expect(parseViewerMessage(JSON.stringify({ type: "got", frame: 9 }), now)).toEqual({ type: "got", frameNumber: 9 });
  });

  test.each([
    ["not JSON", "{drawn"],
    ["not an object", "42"],
    ["null", "null"],
    ["another type", report({ type: "stats" })],
    ["a fractional frame number", report({ frame: 1.5 })],
    ["a negative frame number", report({ frame: -1 })],
    ["a frame number past 32 bits", report({ frame: 2 ** 32 })],
    ["a frame number as a string", report({ frame: "7" })],
    ["a got without a frame number", JSON.stringify({ type: "got" })],
    ["a got with a fractional one", JSON.stringify({ type: "got", frame: 0.5 })],
    ["sent in the receiver's future", report({ sentAtMs: now + 1 })],
    ["sent over a minute ago", report({ sentAtMs: now - 60_001 })],
    ["NaN held", report({ heldMs: "NaN" })],
    ["held a negative time", report({ heldMs: -1 })],
    ["held longer than the round trip", report({ heldMs: 51 })],
  ])("%s is refused", (_, text) => {
    expect(parseViewerMessage(text, now)).toBeUndefined();
  });

  test("binary or oversized messages are refused before parsing", () => {
    expect(parseViewerMessage(new TextEncoder().encode(report({})), now)).toBeUndefined();
    expect(parseViewerMessage(report({ pad: "x".repeat(MAX_REPORT_BYTES) }), now)).toBeUndefined();
  });

  test("capture → drawn: the age when sent, half the round trip left once the page's holding is out, and the holding", () => {
    // Sent at 9 950 when 30 ms old; the report came at 10 000 after 12 ms held: 38 ms there and back, 19 each way.
    expect(drawnLatencyMs(30_000, { frameNumber: 7, sentAtMs: 9_950, heldMs: 12 }, 10_000)).toBeCloseTo(30 + 19 + 12, 6);
  });
});
