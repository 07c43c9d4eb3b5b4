import { describe, expect, test } from "bun:test";
import { AudioJitterBuffer, type AudioSlot } from "../../src/session/audio-jitter-buffer.ts";
import type { ReceivedAudio } from "../../src/reassembler/audio-reassembler.ts";
import { seededRandom, shuffle } from "../../src/util/random.ts";

const packet = (sequence: number): ReceivedAudio => ({ sequence, captureTimeUs: (sequence * 20_000) >>> 0, durationSamples: 960, data: Uint8Array.of(sequence & 0xff), channels: 2, recovered: false });
/** Plays 50 ms after capture. */
const playout = (captureUs: number) => captureUs / 1000 + 50;

function drain(buffer: AudioJitterBuffer, nowMs: number): AudioSlot[] {
  const out: AudioSlot[] = [];
  for (let slot = buffer.take(nowMs, playout); slot; slot = buffer.take(nowMs, playout)) out.push(slot);
  return out;
}

describe("AudioJitterBuffer", () => {
  test("packets arriving out of order play in order, each at its playout time", () => {
    const buffer = new AudioJitterBuffer();
    const random = seededRandom(1);
    buffer.add(packet(0));
    for (const p of shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9].map(packet), random)) buffer.add(p);
    expect(drain(buffer, 49)).toEqual([]);
    expect(drain(buffer, 50).map((s) => s.kind === "play" && s.packet.sequence)).toEqual([0]);
    expect(drain(buffer, 110).map((s) => s.kind === "play" && s.packet.sequence)).toEqual([1, 2, 3]);
    expect(drain(buffer, 230).map((s) => s.kind === "play" && s.packet.sequence)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(buffer.stats).toMatchObject({ played: 10, concealed: 0 });
  });

  test("a packet that never comes is concealed when its time has passed; arriving after that, it is late and dropped", () => {
    const buffer = new AudioJitterBuffer();
    for (const n of [0, 1, 3, 4]) buffer.add(packet(n));
    const slots = drain(buffer, 140);
    expect(slots.map((s) => (s.kind === "play" ? s.packet.sequence : `conceal ${s.sequence} (${s.durationSamples})`))).toEqual([0, 1, "conceal 2 (960)", 3, 4]);
    buffer.add(packet(2));
    expect(buffer.stats).toMatchObject({ played: 4, concealed: 1, late: 1 });
    expect(buffer.size).toBe(0);
  });

  test("with nothing later held, 3 packets (60 ms) at most are concealed; the rest of a gap waits for a later packet", () => {
    const buffer = new AudioJitterBuffer();
    buffer.add(packet(0));
    expect(drain(buffer, 50)).toHaveLength(1);
    expect(drain(buffer, 10_000).map((s) => s.kind)).toEqual(["conceal", "conceal", "conceal"]); // the stream may be over
    buffer.add(packet(6));
    expect(drain(buffer, 170).map((s) => s.kind)).toEqual(["conceal", "conceal", "play"]);
  });

  test("once the stream has ended, nothing past its last packet is concealed; a gap before it still is", () => {
    const buffer = new AudioJitterBuffer();
    for (const n of [0, 2]) buffer.add(packet(n));
    buffer.end();
    expect(drain(buffer, 10_000).map((s) => s.kind)).toEqual(["play", "conceal", "play"]);
  });

  test("a missing packet is given up by its deadline (concealBy), not by how far ahead packets are taken", () => {
    const buffer = new AudioJitterBuffer();
    buffer.add(packet(0));
    expect(buffer.take(90, playout, 50)?.kind).toBe("play");
    expect(buffer.take(90, playout, 65)).toBeUndefined(); // packet 1 is due at 70: it may still come
    expect(buffer.take(90, playout, 70)).toMatchObject({ kind: "conceal", sequence: 1, captureTimeUs: 20_000 });
  });

  test("bounded: packets numbered far ahead are refused; duplicates are held once", () => {
    const buffer = new AudioJitterBuffer();
    buffer.add(packet(0));
    buffer.add(packet(1));
    buffer.add(packet(1));
    buffer.add(packet(100_000));
    expect(buffer.size).toBe(2);
    expect(buffer.stats.tooFarAhead).toBe(1);
  });

  test("sequence numbers wrapping past 2^32 keep their order", () => {
    const buffer = new AudioJitterBuffer();
    const sequences = [0xffff_fffe, 0xffff_ffff, 0, 1];
    const packets = sequences.map((sequence, i) => ({ ...packet(sequence), captureTimeUs: i * 20_000 }));
    for (const p of [packets[0]!, packets[2]!, packets[3]!, packets[1]!]) buffer.add(p);
    expect(drain(buffer, 1000).filter((s) => s.kind === "play").map((s) => s.kind === "play" && s.packet.sequence)).toEqual(sequences);
  });
});
