import { describe, expect, test } from "bun:test";
import { createDecipheriv } from "node:crypto";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { deserializeV2, V2_FLAG_SEALED, V2_HEADER_SIZE, V2_TAG_SIZE } from "../../src/protocol/v2.ts";
import { openV2, sealV2 } from "../../src/protocol/v2-seal.ts";
import { seededRandom } from "../../src/util/random.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const OTHER_KEY = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

function frame(length: number, seed = 1): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

function sealedPackets(jpeg: Uint8Array, frameNumber = 7, key = KEY) {
  return packetizeV2(jpeg, { streamId: 0xdeadbeef, frameNumber, captureTimeUs: 1234 }, { datagramSize: 1400, fecPercent: 25, key });
}

describe("sealed v2 datagrams (AES-256-GCM)", () => {
  test("golden: header in clear with SEALED set, ciphertext as GCM with the documented nonce, then the tag", () => {
    const plain = packetizeV2(Uint8Array.of(1, 2, 3, 4, 5), { streamId: 0xdeadbeef, frameNumber: 7, captureTimeUs: 1234 }, { datagramSize: 1400, fecPercent: 0 })[0]!;
    const header = deserializeV2(plain);
    const datagram = sealV2(plain, header, KEY);
    expect(datagram.length).toBe(plain.length + V2_TAG_SIZE);
    expect(datagram[2]).toBe(plain[2]! | V2_FLAG_SEALED);
    expect([...datagram.subarray(3, V2_HEADER_SIZE)]).toEqual([...plain.subarray(3, V2_HEADER_SIZE)]);
    // Decrypt independently, with the nonce built by hand: stream id | frame number | chunk index | kind 0 | 0.
    const nonce = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7, 0, 0, 0, 0);
    const decipher = createDecipheriv("aes-256-gcm", KEY, nonce);
    decipher.setAAD(datagram.subarray(0, V2_HEADER_SIZE));
    decipher.setAuthTag(datagram.subarray(datagram.length - V2_TAG_SIZE));
    const body = Buffer.concat([decipher.update(datagram.subarray(V2_HEADER_SIZE, datagram.length - V2_TAG_SIZE)), decipher.final()]);
    expect([...body]).toEqual([1, 2, 3, 4, 5]);
    expect([...datagram.subarray(V2_HEADER_SIZE, V2_HEADER_SIZE + 5)]).not.toEqual([1, 2, 3, 4, 5]);
  });

  test("every datagram of a frame, parity included, opens to the plain datagram's payload and fits the datagram size", () => {
    const jpeg = frame(50_000);
    const plain = packetizeV2(jpeg, { streamId: 0xdeadbeef, frameNumber: 7, captureTimeUs: 1234 }, { datagramSize: 1384, fecPercent: 25 });
    const sealed = sealedPackets(jpeg);
    expect(sealed.length).toBe(plain.length);
    sealed.forEach((datagram, i) => {
      expect(datagram.length).toBeLessThanOrEqual(1400);
      const opened = openV2(datagram, deserializeV2(datagram), KEY);
      expect(Buffer.from(opened.payload).equals(Buffer.from(plain[i]!.subarray(V2_HEADER_SIZE)))).toBe(true);
      expect(opened.chunkIndex).toBe(deserializeV2(plain[i]!).chunkIndex);
    });
  });

  test("nonces never repeat: across chunks, parity, frames and the end datagram, ciphertexts of equal plaintext differ", () => {
    const jpeg = new Uint8Array(30_000); // all zero: equal plaintext everywhere, so equal nonces would show as equal ciphertext
    const seen = new Set<string>();
    for (const frameNumber of [0, 1, 0xffffffff]) {
      for (const d of sealedPackets(jpeg, frameNumber)) seen.add(Buffer.from(d.subarray(V2_HEADER_SIZE, V2_HEADER_SIZE + 16)).toString("hex"));
    }
    const count = 3 * sealedPackets(jpeg).length;
    expect(seen.size).toBe(count);
  });

  test("the end-of-stream datagram seals and opens, and is the same bytes each time it is made", () => {
    const end = endOfStreamDatagram(9, 300, 55, KEY);
    expect(end.length).toBe(V2_HEADER_SIZE + V2_TAG_SIZE);
    expect(openV2(end, deserializeV2(end), KEY).endOfStream).toBe(true);
    expect([...endOfStreamDatagram(9, 300, 55, KEY)]).toEqual([...end]);
  });

  test("a wrong key, any flipped bit, or a moved header field fails authentication", () => {
    const datagram = sealedPackets(frame(5000))[0]!;
    expect(() => openV2(datagram, deserializeV2(datagram), OTHER_KEY)).toThrow("failed authentication");
    const random = seededRandom(3);
    for (let trial = 0; trial < 200; trial++) {
      const bad = new Uint8Array(datagram);
      const bit = Math.floor(random() * bad.length * 8);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      let packet;
      try {
        packet = deserializeV2(bad);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError); // a header flip can already break the layout
        continue;
      }
      // A flipped SEALED flag makes it plain: that is refused by the receiver (tested there), not here.
      if (!packet.sealed) continue;
      expect(() => openV2(bad, packet, KEY)).toThrow(ProtocolError);
    }
  });

  test("a key of the wrong size is a programming error, not a silent weak cipher", () => {
    const datagram = sealedPackets(frame(100))[0]!;
    expect(() => openV2(datagram, deserializeV2(datagram), new Uint8Array(16))).toThrow("an AES-256 key is 32 bytes, got 16");
  });
});
