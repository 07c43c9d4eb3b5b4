import { describe, expect, test } from "bun:test";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { StreamAssembler, type AssemblerEvent } from "../../src/reassembler/stream-assembler.ts";
import { newStreamKey, type StreamKey } from "../../src/protocol/v2-seal.ts";

const jpegLike = (length: number, seed: number) => {
  const bytes = Uint8Array.from({ length }, (_, i) => (seed + i) % 0xfe);
  bytes.set([0xff, 0xd8, 0xff], 0);
  bytes.set([0xff, 0xd9], length - 2);
  return bytes;
};

test("legacy and v2 datagrams are accepted side by side, garbage is counted by reason", () => {
  const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20 });
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
  expect(assembler.stats().datagramsReceived).toBe(datagrams.length);
  expect(assembler.stats().datagramsRejected).toBe(3);
  expect(assembler.stats().rejectedByReason).toEqual({ "unknown-protocol": 1, empty: 1, truncated: 1 });
  expect(assembler.stats().framesCompleted).toBe(2);
});

test("random bytes never produce a frame and are all counted", () => {
  const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20 });
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  let frames = 0;
  for (let i = 0; i < 5000; i++) {
    const datagram = Uint8Array.from({ length: next() * 4 }, next);
    if (i % 3 === 0 && datagram.length > 0) datagram[0] = 0x56; // claim v2 often
    frames += assembler.push(datagram, i).filter((e) => e.kind === "frame").length;
  }
  expect(frames).toBe(0);
  expect(assembler.stats().datagramsReceived).toBe(5000);
  expect(assembler.bufferedBytes).toBeLessThanOrEqual(2 << 20);
});

describe("a receiver with a key, or limited to one source", () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
  const otherKey = Uint8Array.from({ length: 32 }, (_, i) => i * 5);
  const v2 = (frameNumber: number, withKey?: Uint8Array, streamId = 9) =>
    packetizeV2(jpegLike(5000, frameNumber), { streamId, frameNumber, captureTimeUs: frameNumber * 33_000 }, { datagramSize: 1400, fecPercent: 25, key: withKey && streamKeyFor(withKey) });
  const frames = (events: AssemblerEvent[]) => events.filter((e) => e.kind === "frame").length;
  // One run's stream key per pre-shared key, as a sender makes it once per run.
  const streamKeys = new Map<Uint8Array, StreamKey>();
  const streamKeyFor = (preShared: Uint8Array) => streamKeys.get(preShared) ?? streamKeys.set(preShared, newStreamKey(preShared)).get(preShared)!;

  test("sealed frames open, byte-exact; plain v2, legacy and other keys are refused and counted", () => {
    const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20, key });
    const shown = v2(0, key).flatMap((d) => assembler.push(d, 0));
    expect(frames(shown)).toBe(1);
    expect(shown[0]!.kind).toBe("frame");
    if (shown[0]!.kind === "frame") expect(Buffer.from(shown[0]!.frame.jpeg)).toEqual(Buffer.from(jpegLike(5000, 0)));
    const refused = [...v2(1), ...packetizeLegacy(jpegLike(5000, 1)), ...v2(2, otherKey)].flatMap((d) => assembler.push(d, 1));
    expect(frames(refused)).toBe(0);
    expect(assembler.stats().rejectedByReason["not-sealed"]).toBe(v2(1).length + 1);
    expect(assembler.stats().rejectedByReason["bad-auth"]).toBe(v2(2, otherKey).length);
  });

  test("replayed datagrams of a frame already shown are refused as stale, and never shown again", () => {
    const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20, key });
    const recorded = [...v2(0, key), ...v2(1, key)];
    expect(frames(recorded.flatMap((d) => assembler.push(d, 0)))).toBe(2);
    const before = assembler.stats().datagramsRejected;
    expect(frames(recorded.flatMap((d) => assembler.push(d, 10_000)))).toBe(0);
    expect(assembler.stats().rejectedByReason.stale).toBe(recorded.length);
    expect(assembler.stats().datagramsRejected - before).toBe(recorded.length);
  });

  test("a receiver with no key meets a sealed stream: refused as sealed-no-key, nothing shown", () => {
    const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20 });
    expect(frames(v2(0, key).flatMap((d) => assembler.push(d, 0)))).toBe(0);
    expect(assembler.stats().rejectedByReason["sealed-no-key"]).toBe(v2(0, key).length);
  });

  test("--from: datagrams from other addresses are strangers; IPv4-mapped IPv6 is the same address", () => {
    const assembler = new StreamAssembler({ maxMemoryBytes: 4 << 20, allowFrom: "10.0.0.7" });
    expect(frames(v2(0).flatMap((d) => assembler.push(d, 0, "10.0.0.8")))).toBe(0);
    expect(assembler.stats().rejectedByReason.stranger).toBe(v2(0).length);
    expect(frames(v2(1).flatMap((d) => assembler.push(d, 0, "::ffff:10.0.0.7")))).toBe(1);
  });

  test("memory stays under the cap whatever the mix: legacy frame plus v2 frames in flight", () => {
    const cap = 1 << 20;
    const assembler = new StreamAssembler({ maxMemoryBytes: cap });
    for (let n = 0; n < 50; n++) {
      for (const d of v2(n).slice(0, -2)) assembler.push(d, n);
      for (const d of packetizeLegacy(jpegLike(200_000, n)).slice(0, 3)) assembler.push(d, n);
      expect(assembler.bufferedBytes).toBeLessThanOrEqual(cap);
    }
  });
});
