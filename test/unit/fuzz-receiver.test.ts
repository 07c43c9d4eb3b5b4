import { expect, test } from "bun:test";
import { CorruptFrameError, decodeJpeg, OversizedFrameError } from "../../src/decoder/jpeg-decoder.ts";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { StreamAssembler, type AssembledFrame } from "../../src/reassembler/stream-assembler.ts";
import { HOSTILE_KINDS, hostileDatagrams, type HostileKind } from "../helpers/hostile-datagrams.ts";

const CAP = 8 * 1024 * 1024;
const VOLUME = 20_000;

async function sampleJpeg(): Promise<Uint8Array> {
  const rgb = new Uint8Array(160 * 120 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + (i >> 9)) & 0xff;
  return encodeJpeg(rgb, 160, 120, 80);
}

test.each([1, 2, 3])(`fuzz (seed %d): ${VOLUME} hostile datagrams never throw, stay under the memory cap, are all counted, and a real stream still plays`, async (seed) => {
  const jpeg = await sampleJpeg();
  const assembler = new StreamAssembler({ maxMemoryBytes: CAP });
  const byKind = new Map<HostileKind, number>();
  let expectedUnknown = 0;
  let expectedOversized = 0;
  let peak = 0;
  const frames: AssembledFrame[] = [];
  let now = 0;
  let sent = 0;
  for (const { kind, bytes } of hostileDatagrams(seed, jpeg)) {
    if (sent++ >= VOLUME) break;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    // 0x80–0xBF open RTP packets, refused (when hostile) with RTP's own reasons; 0x41 ('A') sound, with the audio parser's.
    if (bytes.length === 0 || (![0x00, 0x01, 0x41, 0x56].includes(bytes[0]!) && bytes[0]! >> 6 !== 2)) expectedUnknown++;
    else if (bytes[0] === 0x56 && bytes.length > 65507) expectedOversized++;
    now += 1;
    for (const event of [...assembler.push(bytes, now), ...(sent % 100 === 0 ? assembler.expire(now) : [])]) {
      if (event.kind === "frame") frames.push(event.frame);
    }
    peak = Math.max(peak, assembler.bufferedBytes);
  }
  expect(byKind.size).toBe(HOSTILE_KINDS.length); // every kind was exercised
  expect(peak).toBeLessThanOrEqual(CAP);
  expect(assembler.stats().datagramsReceived).toBe(VOLUME);
  const reasons = assembler.stats().rejectedByReason;
  expect(Object.values(reasons).reduce((a, b) => a + (b ?? 0), 0)).toBe(assembler.stats().datagramsRejected);
  expect((reasons["unknown-protocol"] ?? 0) + (reasons.empty ?? 0)).toBe(expectedUnknown);
  expect(reasons.oversized ?? 0).toBeGreaterThanOrEqual(expectedOversized);
  expect(assembler.stats().datagramsRejected).toBeGreaterThan(VOLUME / 8);

  // Whatever frames got through go to the strict decoder: decoded, or refused as corrupt, never anything else.
  let decoded = 0;
  let refused = 0;
  let oversized = 0;
  for (const frame of frames) {
    try {
      await decodeJpeg(frame.jpeg);
      decoded++;
    } catch (error) {
      expect(error).toBeInstanceOf(CorruptFrameError);
      if (error instanceof OversizedFrameError) oversized++;
      refused++;
    }
  }
  expect(decoded).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);
  expect(oversized).toBeGreaterThan(0);

  // After the storm, a sender's real stream is followed and arrives byte-exact.
  now += 1000;
  const real: Uint8Array[] = [];
  for (let n = 0; n < 5; n++) {
    const datagrams = packetizeV2(jpeg, { streamId: 0xabcdef, frameNumber: n, captureTimeUs: n * 33_333 }, { datagramSize: 1400, fecPercent: 25 });
    for (const d of datagrams) for (const e of assembler.push(d, now)) if (e.kind === "frame") real.push(e.frame.jpeg);
    now += 33;
  }
  expect(real.length).toBe(5);
  for (const r of real) expect(Buffer.from(r)).toEqual(Buffer.from(jpeg));
}, 60_000);
