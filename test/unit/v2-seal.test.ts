import { describe, expect, test } from "bun:test";
import { createDecipheriv, hkdfSync } from "node:crypto";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { deserializeV2, V2_FLAG_SEALED, V2_HEADER_SIZE, V2_SALT_SIZE, V2_SEAL_OVERHEAD, V2_TAG_SIZE } from "../../src/protocol/v2.ts";
import { deriveStreamKey, newStreamKey, sealV2, StreamKeyring } from "../../src/protocol/v2-seal.ts";
import { seededRandom } from "../../src/util/random.ts";

const PRE_SHARED = Uint8Array.from({ length: 32 }, (_, i) => i);
const OTHER_PRE_SHARED = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const SALT = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const STREAM_KEY = deriveStreamKey(PRE_SHARED, SALT);

function frame(length: number, seed = 1): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

function sealedPackets(jpeg: Uint8Array, frameNumber = 7, streamKey = STREAM_KEY, streamId = 0xdeadbeef) {
  return packetizeV2(jpeg, { streamId, frameNumber, captureTimeUs: 1234 }, { datagramSize: 1400, fecPercent: 25, key: streamKey });
}

const open = (datagram: Uint8Array, preShared = PRE_SHARED) => new StreamKeyring(preShared).open(datagram, deserializeV2(datagram));

describe("sealed v2 datagrams (AES-256-GCM under a per-stream key)", () => {
  test("the stream key is HKDF-SHA256(pre-shared key, salt, 'udpvid v2 stream key'): golden bytes", () => {
    const expected = new Uint8Array(hkdfSync("sha256", PRE_SHARED, SALT, "udpvid v2 stream key", 32));
    expect(Buffer.from(STREAM_KEY.key).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
    // Pinned (computed once with Node's own HKDF), so a change of derivation, which would break every receiver in the field, cannot pass unnoticed.
    expect(Buffer.from(STREAM_KEY.key).toString("hex")).toBe("9f2c5a6a0366899059d79c83f985ac238bd49ce4e0328f0d60b952a8b7a4da59");
    expect(newStreamKey(PRE_SHARED).salt).toHaveLength(V2_SALT_SIZE);
    expect(Buffer.from(newStreamKey(PRE_SHARED).salt).equals(Buffer.from(newStreamKey(PRE_SHARED).salt))).toBe(false);
  });

  test("golden: header in clear with SEALED set, the salt, ciphertext as GCM with the documented nonce, then the tag", () => {
    const plain = packetizeV2(Uint8Array.of(1, 2, 3, 4, 5), { streamId: 0xdeadbeef, frameNumber: 7, captureTimeUs: 1234 }, { datagramSize: 1400, fecPercent: 0 })[0]!;
    const header = deserializeV2(plain);
    const datagram = sealV2(plain, header, STREAM_KEY);
    expect(datagram.length).toBe(plain.length + V2_SEAL_OVERHEAD);
    expect(datagram[2]).toBe(plain[2]! | V2_FLAG_SEALED);
    expect([...datagram.subarray(3, V2_HEADER_SIZE)]).toEqual([...plain.subarray(3, V2_HEADER_SIZE)]);
    expect([...datagram.subarray(V2_HEADER_SIZE, V2_HEADER_SIZE + V2_SALT_SIZE)]).toEqual([...SALT]);
    // Decrypt independently, with the key derived and the nonce built by hand: stream id | frame number | chunk index | kind 0 | 0.
    const key = new Uint8Array(hkdfSync("sha256", PRE_SHARED, SALT, "udpvid v2 stream key", 32));
    const nonce = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7, 0, 0, 0, 0);
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(datagram.subarray(0, V2_HEADER_SIZE + V2_SALT_SIZE));
    decipher.setAuthTag(datagram.subarray(datagram.length - V2_TAG_SIZE));
    const body = Buffer.concat([decipher.update(datagram.subarray(V2_HEADER_SIZE + V2_SALT_SIZE, datagram.length - V2_TAG_SIZE)), decipher.final()]);
    expect([...body]).toEqual([1, 2, 3, 4, 5]);
  });

  test("every datagram of a frame, parity included, opens to the plain datagram's payload and fits the datagram size", () => {
    const jpeg = frame(50_000);
    const plain = packetizeV2(jpeg, { streamId: 0xdeadbeef, frameNumber: 7, captureTimeUs: 1234 }, { datagramSize: 1400 - V2_SEAL_OVERHEAD, fecPercent: 25 });
    const sealed = sealedPackets(jpeg);
    expect(sealed.length).toBe(plain.length);
    sealed.forEach((datagram, i) => {
      expect(datagram.length).toBeLessThanOrEqual(1400);
      const opened = open(datagram);
      expect(Buffer.from(opened.payload)).toEqual(Buffer.from(plain[i]!.subarray(V2_HEADER_SIZE)));
      expect(opened.chunkIndex).toBe(deserializeV2(plain[i]!).chunkIndex);
    });
  });

  test("nonces never repeat within a run: across chunks, parity, frames and the end datagram, ciphertexts of equal plaintext differ", () => {
    const jpeg = new Uint8Array(30_000); // all zero: equal plaintext everywhere, so equal nonces would show as equal ciphertext
    const seen = new Set<string>();
    const body = (d: Uint8Array) => Buffer.from(d.subarray(V2_HEADER_SIZE + V2_SALT_SIZE, V2_HEADER_SIZE + V2_SALT_SIZE + 16)).toString("hex");
    for (const frameNumber of [0, 1, 0xffffffff]) for (const d of sealedPackets(jpeg, frameNumber)) seen.add(body(d));
    expect(seen.size).toBe(3 * sealedPackets(jpeg).length);
  });

  test("two runs under one pre-shared key that draw the same stream id never share a keystream", () => {
    const zeros = new Uint8Array(20_000);
    const runA = sealedPackets(zeros, 5, newStreamKey(PRE_SHARED), 42);
    const runB = sealedPackets(zeros, 5, newStreamKey(PRE_SHARED), 42);
    // Same stream id, frame and chunk: the same nonce. Equal plaintext (zeros) makes the ciphertext the keystream itself.
    for (let i = 0; i < runA.length; i++) {
      const a = runA[i]!.subarray(V2_HEADER_SIZE + V2_SALT_SIZE, -V2_TAG_SIZE);
      const b = runB[i]!.subarray(V2_HEADER_SIZE + V2_SALT_SIZE, -V2_TAG_SIZE);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
      let equalBytes = 0;
      for (let j = 0; j < a.length; j++) if (a[j] === b[j]) equalBytes++;
      expect(equalBytes / a.length).toBeLessThan(0.02); // independent keystreams agree on ~1/256 of bytes
    }
    // And each still opens, with nothing but the pre-shared key: the salt travels in every datagram.
    expect(open(runA[3]!).frameNumber).toBe(5);
    expect(open(runB[3]!).frameNumber).toBe(5);
  });

  test("the end-of-stream datagram seals and opens, and is the same bytes each time it is made", () => {
    const end = endOfStreamDatagram(9, 300, 55, STREAM_KEY);
    expect(end.length).toBe(V2_HEADER_SIZE + V2_SEAL_OVERHEAD);
    expect(open(end).endOfStream).toBe(true);
    expect([...endOfStreamDatagram(9, 300, 55, STREAM_KEY)]).toEqual([...end]);
  });

  test("a wrong pre-shared key, any flipped bit (salt included), or a moved header field fails authentication", () => {
    const datagram = sealedPackets(frame(5000))[0]!;
    expect(() => open(datagram, OTHER_PRE_SHARED)).toThrow("failed authentication");
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
      expect(() => new StreamKeyring(PRE_SHARED).open(bad, packet)).toThrow(ProtocolError);
    }
  });

  test("forged salts never fill the keyring: only keys that authenticated are kept", () => {
    const keyring = new StreamKeyring(PRE_SHARED);
    const genuine = sealedPackets(frame(3000))[0]!;
    for (let i = 0; i < 1000; i++) {
      const forged = new Uint8Array(genuine);
      forged.set(crypto.getRandomValues(new Uint8Array(V2_SALT_SIZE)), V2_HEADER_SIZE);
      expect(() => keyring.open(forged, deserializeV2(forged))).toThrow("failed authentication");
    }
    expect(keyring.open(genuine, deserializeV2(genuine)).chunkIndex).toBe(deserializeV2(genuine).chunkIndex);
    expect((keyring as unknown as { known: unknown[] }).known).toHaveLength(1);
  });

  test("a key of the wrong size is a programming error, not a silent weak cipher", () => {
    expect(() => new StreamKeyring(new Uint8Array(16))).toThrow("an AES-256 key is 32 bytes, got 16");
    expect(() => deriveStreamKey(PRE_SHARED, new Uint8Array(8))).toThrow("a stream salt is 16 bytes, got 8");
  });
});
