import { describe, expect, test } from "bun:test";
import { deserializeAudio } from "../../src/protocol/v2-audio.ts";
import { AudioTrack } from "../../src/session/audio-track.ts";
import { AudioPacketizer } from "../../src/packetizer/audio-packetizer.ts";

const source = (n: number, preSkip = 312) => ({ data: new Uint8Array(200).fill(n), startSample: n * 960 - preSkip, durationSamples: 960 });

describe("AudioTrack", () => {
  test("each packet is placed on the picture's clock: due at start + its first sample, captured at the same instant", () => {
    const track = new AudioTrack(new AudioPacketizer({ streamId: 3, channels: 2 }));
    const start = { ms: 1000, us: 7_000_000 };
    const first = track.schedule(source(0), start);
    // The encoder's pre-skip: its first samples come 6.5 ms before the source's start.
    expect(first.dueMs).toBeCloseTo(1000 - 6.5, 6);
    expect(deserializeAudio(first.datagrams[0]!).captureTimeUs).toBe(7_000_000 - 6500);
    const fiftieth = track.schedule(source(50), start);
    expect(fiftieth.dueMs).toBeCloseTo(1000 + 1000 - 6.5, 6);
    expect(deserializeAudio(fiftieth.datagrams[0]!)).toMatchObject({ sequence: 1, captureTimeUs: 7_000_000 + 993_500, streamId: 3 });
  });

  test("its rate, parity and headers included, once a second of it has gone: what the rate budget sets aside", () => {
    const track = new AudioTrack(new AudioPacketizer({ streamId: 3, channels: 2 }));
    expect(track.bitsPerSecond).toBeUndefined();
    for (let n = 0; n <= 100; n++) track.schedule(source(n, 0), { ms: 0, us: 0 });
    // 101 packets of 200 bytes + a 20-byte header over 2 s, and 25 groups' 2 parity packets of 20 + 8 + 200 bytes:
    // (101 × 220 + 50 × 228) × 8 / 2 s = 134.48 kbit/s.
    expect(track.bitsPerSecond! / 1000).toBeCloseTo(134.48, 2);
    expect(track.stats().packets).toBe(101);
  });
});
