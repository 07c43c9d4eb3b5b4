import { describe, expect, test } from "bun:test";
import { AudioPacketizer, type EncodedAudio } from "../../src/packetizer/audio-packetizer.ts";
import { deserializeAudio, type AudioPacket } from "../../src/protocol/v2-audio.ts";
import { AudioReassembler, MAX_AUDIO_BYTES } from "../../src/reassembler/audio-reassembler.ts";
import { seededRandom, shuffle } from "../../src/util/random.ts";

const source = (count: number, from = 0): EncodedAudio[] =>
  Array.from({ length: count }, (_, n) => ({ data: Uint8Array.from({ length: 80 + ((n * 37) % 100) }, (_, i) => (n + from + i) & 0xff), captureTimeUs: (from + n) * 20_000, durationSamples: 960 }));

function datagrams(count: number, streamId = 1): AudioPacket[] {
  const packetizer = new AudioPacketizer({ streamId, channels: 2 });
  return source(count).flatMap((a) => packetizer.packetize(a)).map(deserializeAudio);
}

describe("AudioReassembler", () => {
  test("every packet handed on as it arrives, in any order, once; duplicates counted", () => {
    const r = new AudioReassembler();
    const all = datagrams(40);
    const random = seededRandom(2);
    const out = shuffle([...all, ...all.filter(() => random() < 0.2)], random).flatMap((p) => r.push(p, 1));
    expect(out.map((a) => a.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(r.stats.packetsDuplicate).toBeGreaterThan(0);
  });

  test("20% random loss: what parity can rebuild comes back byte-exact with its timing, marked recovered", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      const all = datagrams(200);
      const expected = source(200);
      const r = new AudioReassembler();
      const kept = all.filter(() => random() >= 0.2);
      const out = kept.flatMap((p) => r.push(p, 1));
      const seen = new Set<number>();
      for (const a of out) {
        expect(seen.has(a.sequence)).toBe(false);
        seen.add(a.sequence);
        expect([...a.data]).toEqual([...expected[a.sequence]!.data]);
        expect(a.captureTimeUs).toBe(expected[a.sequence]!.captureTimeUs);
      }
      expect(r.stats.packetsRecovered).toBe(out.filter((a) => a.recovered).length);
      // Exactly what a 4 + 2 group allows: all four when at most 2 of its 6 were lost, else those that came.
      let possible = 0;
      for (let first = 0; first < 200; first += 4) {
        const arrived = kept.filter((p) => (p.parity ? p.sequence : p.sequence - p.index) === first);
        possible += arrived.length >= 4 ? 4 : arrived.filter((p) => !p.parity).length;
      }
      expect(seen.size).toBe(possible);
    }
  });

  test("another stream's sound is refused while the picture's stream is followed; the first sound's stream is taken when none is", () => {
    const r = new AudioReassembler();
    expect(r.push(datagrams(1, 7)[0]!, 1)).toEqual([]);
    expect(r.stats.packetsOtherStream).toBe(1);
    expect(r.push(datagrams(1, 7)[0]!, undefined)).toHaveLength(1);
    expect(r.push(datagrams(1, 8)[0]!, undefined)).toEqual([]);
  });

  test("bounded: a long stream keeps at most 64 groups; a packet older than all of them is late", () => {
    const r = new AudioReassembler();
    const all = datagrams(4 * 200);
    for (const p of all) r.push(p, 1);
    expect(r.groupsHeld).toBe(64);
    expect(r.push(all[0]!, 1)).toEqual([]);
    expect(r.stats.packetsLate).toBe(1);
  });

  test("bounded in bytes: a hostile sender's 15 + 15 groups of 60 KB packets never hold more than the cap; new groups still come through", () => {
    const r = new AudioReassembler();
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 2, groupData: 15, groupParity: 15 });
    const big = Array.from({ length: 15 * 40 }, (_, n) => ({ data: new Uint8Array(60_000).fill(n & 0xff), captureTimeUs: n * 20_000, durationSamples: 960 }));
    let handedOn = 0;
    let peak = 0;
    for (const a of big) {
      for (const d of packetizer.packetize(a)) {
        handedOn += r.push(deserializeAudio(d), 1).length;
        peak = Math.max(peak, r.bufferedBytes);
      }
    }
    expect(peak).toBeLessThanOrEqual(MAX_AUDIO_BYTES);
    expect(peak).toBeGreaterThan(MAX_AUDIO_BYTES / 2);
    // The newest packets are still handed on: the oldest groups made way.
    expect(handedOn).toBe(big.length);
  });

  test("a packet whose group shape disagrees with its group's is refused, never mixed in", () => {
    const r = new AudioReassembler();
    const [first] = datagrams(1);
    r.push(first!, 1);
    const odd = { ...datagrams(2)[1]!, groupParity: 3 };
    expect(r.push(odd, 1)).toEqual([]);
    expect(r.stats.packetsInconsistent).toBe(1);
  });
});

describe("the last, partial group", () => {
  test("its parity goes out when the track ends, and rebuilds a lost packet of it; the packets never sent are not made up", () => {
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 2 });
    const audio = source(10); // two full groups of 4, then 2 of a third
    const datagrams = [...audio.flatMap((a) => packetizer.packetize(a)), ...packetizer.flush()].map(deserializeAudio);
    expect(datagrams.filter((d) => d.parity)).toHaveLength(6);
    const r = new AudioReassembler();
    // Packet 9 (the last) is lost.
    const out = datagrams.filter((d) => d.parity || d.sequence !== 9).flatMap((d) => r.push(d, 1));
    expect(out.map((a) => a.sequence).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...out.find((a) => a.sequence === 9)!.data]).toEqual([...audio[9]!.data]);
    expect(packetizer.flush()).toEqual([]); // nothing left to protect
  });
});
