import { describe, expect, test } from "bun:test";
import { AudioPacketizer, type EncodedAudio } from "../../src/packetizer/audio-packetizer.ts";
import { deserializeAudio, type AudioPacket } from "../../src/protocol/v2-audio.ts";
import { recoverAudioGroup, readAudioShard } from "../../src/reassembler/audio-group-recovery.ts";
import { seededRandom } from "../../src/util/random.ts";
import { newStreamKey, StreamKeyring } from "../../src/protocol/v2-seal.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";

/** 20 ms Opus-sized packets of varying length, each's bytes naming it. */
function packets(count: number, random = seededRandom(1)): EncodedAudio[] {
  return Array.from({ length: count }, (_, n) => ({
    data: Uint8Array.from({ length: 60 + Math.floor(random() * 200) }, (_, i) => (n * 31 + i) & 0xff),
    captureTimeUs: 1_000_000 + n * 20_000,
    durationSamples: 960,
  }));
}

/** Every group's data and parity as a receiver would gather them, from the datagrams not in `lost` (by send order). */
function gather(datagrams: AudioPacket[], lost: Set<number>) {
  const groups = new Map<number, { data: (EncodedAudio | undefined)[]; parity: (Uint8Array | undefined)[] }>();
  datagrams.forEach((p, i) => {
    if (lost.has(i)) return;
    const first = p.parity ? p.sequence : p.sequence - p.index;
    const group = groups.get(first) ?? { data: new Array(p.groupData), parity: new Array(p.groupParity) };
    groups.set(first, group);
    if (p.parity) group.parity[p.index] = p.payload;
    else group.data[p.index] = { data: p.payload, captureTimeUs: p.captureTimeUs, durationSamples: p.durationSamples };
  });
  return groups;
}

describe("AudioPacketizer and audio group recovery", () => {
  test("each packet goes out at once, numbered; a group's two parity packets follow its fourth", () => {
    const packetizer = new AudioPacketizer({ streamId: 9, channels: 2 });
    const out = packets(8).map((a) => packetizer.packetize(a).map(deserializeAudio));
    expect(out.map((d) => d.length)).toEqual([1, 1, 1, 3, 1, 1, 1, 3]);
    const flat = out.flat();
    expect(flat.filter((p) => !p.parity).map((p) => p.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(flat.filter((p) => p.parity).map((p) => [p.sequence, p.index])).toEqual([
      [0, 0],
      [0, 1],
      [4, 0],
      [4, 1],
    ]);
    expect(flat.every((p) => p.streamId === 9 && p.channels === 2)).toBe(true);
    expect(packetizer.nextSequence).toBe(8);
  });

  test("any two of a group's six lost: the lost packets come back byte-exact, with their timing", () => {
    const source = packets(4);
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 1 });
    const datagrams = source.flatMap((a) => packetizer.packetize(a)).map(deserializeAudio);
    for (let a = 0; a < 6; a++) {
      for (let b = a + 1; b < 6; b++) {
        const group = gather(datagrams, new Set([a, b])).get(0)!;
        const rebuilt = recoverAudioGroup({ groupData: 4, groupParity: 2, sent: 4, ...group });
        for (let i = 0; i < 4; i++) {
          const got = group.data[i] ?? rebuilt.get(i);
          expect(got).toBeDefined();
          expect([...got!.data]).toEqual([...source[i]!.data]);
          expect(got!.captureTimeUs).toBe(source[i]!.captureTimeUs);
        }
      }
    }
  });

  test("three of six lost: nothing is guessed", () => {
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 1 });
    const datagrams = packets(4).flatMap((a) => packetizer.packetize(a)).map(deserializeAudio);
    const group = gather(datagrams, new Set([0, 1, 4])).get(0)!;
    expect(recoverAudioGroup({ groupData: 4, groupParity: 2, sent: 4, ...group }).size).toBe(0);
  });

  test("hostile parity (wrong length, or bytes that rebuild nonsense) never yields a packet that could not be", () => {
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 1 });
    const datagrams = packets(4).flatMap((a) => packetizer.packetize(a)).map(deserializeAudio);
    const group = gather(datagrams, new Set([0]))!.get(0)!;
    const random = seededRandom(3);
    for (let trial = 0; trial < 200; trial++) {
      const forged = group.parity.map((p) => Uint8Array.from({ length: trial % 2 ? p!.length : 5 + (trial % 40) }, () => Math.floor(random() * 256)));
      const rebuilt = recoverAudioGroup({ groupData: 4, groupParity: 2, sent: 4, data: group.data, parity: forged });
      for (const audio of rebuilt.values()) {
        expect(audio.durationSamples).toBeGreaterThanOrEqual(120);
        expect(audio.durationSamples).toBeLessThanOrEqual(5760);
        expect(audio.data.length).toBeGreaterThan(0);
      }
    }
    expect(readAudioShard(new Uint8Array(3))).toBeUndefined();
  });

  test("groups without parity: packets only; shapes that do not fit the header are refused", () => {
    const packetizer = new AudioPacketizer({ streamId: 1, channels: 1, groupParity: 0 });
    expect(packets(8).flatMap((a) => packetizer.packetize(a))).toHaveLength(8);
    expect(() => new AudioPacketizer({ streamId: 1, channels: 1, groupData: 16 })).toThrow(RangeError);
    expect(() => new AudioPacketizer({ streamId: 1, channels: 1, groupData: 0 })).toThrow(RangeError);
  });

  test("sealed under --key: every packet authenticates and opens to the same bytes; a flipped bit or another key fails", () => {
    const preShared = new Uint8Array(32).fill(7);
    const key = newStreamKey(preShared);
    const source = packets(4);
    const plain = new AudioPacketizer({ streamId: 5, channels: 2 });
    const sealed = new AudioPacketizer({ streamId: 5, channels: 2, key });
    const plainDatagrams = source.flatMap((a) => plain.packetize(a));
    const sealedDatagrams = source.flatMap((a) => sealed.packetize(a));
    const keyring = new StreamKeyring(preShared);
    sealedDatagrams.forEach((datagram, i) => {
      const packet = deserializeAudio(datagram);
      expect(packet.sealed).toBe(true);
      expect([...keyring.openAudio(datagram, packet).payload]).toEqual([...deserializeAudio(plainDatagrams[i]!).payload]);
    });
    const datagram = Uint8Array.from(sealedDatagrams[0]!);
    datagram[datagram.length - 20]! ^= 1;
    expect(() => keyring.openAudio(datagram, deserializeAudio(datagram))).toThrow(ProtocolError);
    const moved = Uint8Array.from(sealedDatagrams[0]!);
    moved[15]! ^= 1; // the capture time: header fields are authenticated too
    expect(() => keyring.openAudio(moved, deserializeAudio(moved))).toThrow(ProtocolError);
    const stranger = new StreamKeyring(new Uint8Array(32).fill(8));
    expect(() => stranger.openAudio(sealedDatagrams[0]!, deserializeAudio(sealedDatagrams[0]!))).toThrow(ProtocolError);
  });
});
