import { expect, test } from "bun:test";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { StreamAssembler, type AssemblerEvent } from "../../src/reassembler/stream-assembler.ts";

const jpegLike = (length: number, seed: number) => {
  const bytes = Uint8Array.from({ length }, (_, i) => (seed + i) % 0xfe);
  bytes.set([0xff, 0xd8, 0xff], 0);
  bytes.set([0xff, 0xd9], length - 2);
  return bytes;
};

test("legacy and v2 datagrams are accepted side by side, garbage is counted by reason", () => {
  const assembler = new StreamAssembler({ maxFrameBytes: 1 << 20 });
  const legacyFrame = jpegLike(100_000, 1);
  const v2Frame = jpegLike(5000, 2);
  const datagrams = [
    ...packetizeLegacy(legacyFrame).slice(0, 1),
    ...packetizeV2(v2Frame, { streamId: 9, frameNumber: 0, captureTimeUs: 1 }, { datagramSize: 1400, fecPercent: 0 }),
    Uint8Array.of(0x47, 1, 2, 3), // unknown first byte
    new Uint8Array(0), // empty
    Uint8Array.of(0x56, 2, 0), // truncated v2
    ...packetizeLegacy(legacyFrame).slice(1),
    endOfStreamDatagram(9, 1, 2),
  ];
  const events: AssemblerEvent[] = datagrams.flatMap((d) => assembler.push(d, 0));
  expect(events.map((e) => (e.kind === "frame" ? `${e.frame.protocol} ${e.frame.jpeg.length}` : e.kind))).toEqual([
    "v2 5000",
    "legacy 100000",
    "end",
  ]);
  expect(assembler.stats.datagramsReceived).toBe(datagrams.length);
  expect(assembler.stats.datagramsRejected).toBe(3);
  expect(assembler.stats.rejectedByReason).toEqual({ "unknown-protocol": 1, empty: 1, truncated: 1 });
  expect(assembler.framesReceived).toBe(2);
});

test("random bytes never produce a frame and are all counted", () => {
  const assembler = new StreamAssembler({ maxFrameBytes: 1 << 20 });
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  let frames = 0;
  for (let i = 0; i < 5000; i++) {
    const datagram = Uint8Array.from({ length: next() * 4 }, next);
    if (i % 3 === 0 && datagram.length > 0) datagram[0] = 0x56; // claim v2 often
    frames += assembler.push(datagram, i).filter((e) => e.kind === "frame").length;
  }
  expect(frames).toBe(0);
  expect(assembler.stats.datagramsReceived).toBe(5000);
  expect(assembler.bufferedBytes).toBeLessThanOrEqual(2 << 20);
});
