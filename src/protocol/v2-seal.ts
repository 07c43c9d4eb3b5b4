import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { ProtocolError } from "./protocol-error.ts";
import { V2_FLAG_SEALED, V2_HEADER_SIZE, V2_SALT_SIZE, V2_TAG_SIZE, type V2Packet } from "./v2.ts";
import { AUDIO_HEADER_SIZE, type AudioPacket } from "./v2-audio.ts";
import { bytesEqual } from "../util/bytes.ts";

/*
 * A sealed v2 datagram: the plain v2 header with the SEALED flag set, then
 * the stream's 16-byte salt, both sent in clear as AES-256-GCM associated
 * data (so every header field is authenticated), then the payload
 * encrypted, then the 16-byte tag.
 *
 *    0                       24                      40                      40 + n          56 + n
 *   +-----------------------+-----------------------+-----------------------+---------------+
 *   | v2 header, SEALED set |  stream salt (16)     |  ciphertext, n bytes  |  GCM tag (16) |
 *   +-----------------------+-----------------------+-----------------------+---------------+
 *
 * Each run seals under its own key, derived from the pre-shared key:
 *   stream key = HKDF-SHA256(ikm = pre-shared key, salt = stream salt,
 *                            info = "udpvid v2 stream key", 32 bytes)
 * with a salt of 128 random bits chosen per run. Every datagram carries it,
 * so a receiver that joins mid-stream can derive the key from any of them.
 *
 * The 96-bit nonce is never sent: both ends build it from the header.
 *
 *    0               4               8       10      11      12
 *   +---------------+---------------+-------+-------+-------+
 *   |   stream id   | frame number  | chunk | kind  |   0   |
 *   +---------------+---------------+-------+-------+-------+
 *
 *   kind  0 data chunk, 1 parity chunk, 2 end of stream; for v2 audio
 *         datagrams (20-byte header, sealed the same way), 3 audio packet
 *         and 4 audio parity, with the sequence and index in place of the
 *         frame number and chunk.
 *
 * Within a run a sender never repeats (stream id, frame number, chunk index,
 * kind) with different bytes: frame numbers only grow, and the repeated
 * end-of-stream datagram is sent byte-identical. Two runs never share a key
 * unless they draw the same 128-bit salt, so two runs that happen to draw the
 * same 32-bit stream id still never share a keystream.
 */
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const KIND = { data: 0, parity: 1, end: 2, audio: 3, audioParity: 4 } as const;
const STREAM_KEY_INFO = "udpvid v2 stream key";
/** Salts (streams) whose keys a receiver keeps derived: a few streams taking turns on one port. */
const REMEMBERED_STREAM_KEYS = 8;

/** The key one run seals with, and the salt that names it. */
export interface StreamKey {
  salt: Uint8Array;
  key: Uint8Array;
}

/** The stream key for `salt` under the pre-shared key. */
export function deriveStreamKey(preShared: Uint8Array, salt: Uint8Array): StreamKey {
  checkKey(preShared);
  if (salt.length !== V2_SALT_SIZE) throw new RangeError(`a stream salt is ${V2_SALT_SIZE} bytes, got ${salt.length}`);
  return { salt: Uint8Array.from(salt), key: new Uint8Array(hkdfSync("sha256", preShared, salt, STREAM_KEY_INFO, KEY_BYTES)) };
}

/** A fresh stream key for one sender run: a random 128-bit salt. */
export function newStreamKey(preShared: Uint8Array): StreamKey {
  return deriveStreamKey(preShared, crypto.getRandomValues(new Uint8Array(V2_SALT_SIZE)));
}

function nonceFor(packet: Pick<V2Packet, "streamId" | "frameNumber" | "chunkIndex" | "parity" | "endOfStream">): Uint8Array {
  return nonceOf(packet.streamId, packet.frameNumber, packet.chunkIndex, packet.endOfStream ? KIND.end : packet.parity ? KIND.parity : KIND.data);
}

/** An audio packet's nonce: (stream id, sequence, index, kind audio or audio parity), never a picture's. */
function audioNonceFor(packet: Pick<AudioPacket, "streamId" | "sequence" | "index" | "parity">): Uint8Array {
  return nonceOf(packet.streamId, packet.sequence, packet.index, packet.parity ? KIND.audioParity : KIND.audio);
}

function nonceOf(streamId: number, number: number, index: number, kind: number): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, streamId >>> 0);
  view.setUint32(4, number >>> 0);
  view.setUint16(8, index);
  view.setUint8(10, kind);
  return nonce;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
}

/**
 * Seals a plain v2 datagram (as the packetizer makes it, SEALED clear) into
 * a new datagram 32 bytes longer (salt and tag). `packet` is the datagram's
 * own header, parsed: the caller has it already and it names the nonce.
 */
export function sealV2(datagram: Uint8Array, packet: Omit<V2Packet, "payload" | "sealed">, streamKey: StreamKey): Uint8Array {
  return seal(datagram, V2_HEADER_SIZE, nonceFor(packet), streamKey);
}

/** Seals a plain audio datagram the same way (its flags byte is at the same place, with the same SEALED bit). */
export function sealAudio(datagram: Uint8Array, packet: Omit<AudioPacket, "payload" | "sealed">, streamKey: StreamKey): Uint8Array {
  return seal(datagram, AUDIO_HEADER_SIZE, audioNonceFor(packet), streamKey);
}

function seal(datagram: Uint8Array, headerSize: number, nonce: Uint8Array, streamKey: StreamKey): Uint8Array {
  checkKey(streamKey.key);
  const clear = headerSize + V2_SALT_SIZE;
  const sealed = new Uint8Array(datagram.length + V2_SALT_SIZE + V2_TAG_SIZE);
  sealed.set(datagram.subarray(0, headerSize));
  sealed[2]! |= V2_FLAG_SEALED;
  sealed.set(streamKey.salt, headerSize);
  const cipher = createCipheriv("aes-256-gcm", streamKey.key, nonce);
  cipher.setAAD(sealed.subarray(0, clear));
  const body = cipher.update(datagram.subarray(headerSize));
  cipher.final(); // GCM emits all ciphertext from update()
  sealed.set(body, clear);
  sealed.set(cipher.getAuthTag(), clear + body.length);
  return sealed;
}

/**
 * A receiver's pre-shared key and the stream keys derived from it, one per
 * salt. A key is kept only once a datagram authenticated under it, so
 * forged salts cost a derivation each but never fill the memory.
 */
export class StreamKeyring {
  private readonly known: StreamKey[] = [];

  constructor(private readonly preShared: Uint8Array) {
    checkKey(preShared);
  }

  /**
   * Checks and decrypts a sealed packet parsed from `datagram`; returns the
   * packet with its plaintext payload. Anything forged, altered, cut or
   * sealed under another pre-shared key throws ProtocolError("bad-auth").
   */
  open(datagram: Uint8Array, packet: V2Packet): V2Packet {
    return this.openSealed(datagram, packet, V2_HEADER_SIZE, nonceFor(packet));
  }

  /** The same for an audio packet. */
  openAudio(datagram: Uint8Array, packet: AudioPacket): AudioPacket {
    return this.openSealed(datagram, packet, AUDIO_HEADER_SIZE, audioNonceFor(packet));
  }

  private openSealed<P extends { sealed: boolean; payload: Uint8Array }>(datagram: Uint8Array, packet: P, headerSize: number, nonce: Uint8Array): P {
    if (!packet.sealed || packet.payload.length < V2_SALT_SIZE + V2_TAG_SIZE) throw new ProtocolError("bad-auth", "datagram is not sealed");
    const salt = packet.payload.subarray(0, V2_SALT_SIZE);
    const remembered = this.known.find((k) => bytesEqual(k.salt, salt));
    const streamKey = remembered ?? deriveStreamKey(this.preShared, salt);
    const opened = openWith(datagram, packet, headerSize, nonce, streamKey.key);
    if (!remembered) {
      this.known.push(streamKey);
      if (this.known.length > REMEMBERED_STREAM_KEYS) this.known.shift();
    }
    return opened;
  }
}

function openWith<P extends { payload: Uint8Array }>(datagram: Uint8Array, packet: P, headerSize: number, nonce: Uint8Array, key: Uint8Array): P {
  const clear = headerSize + V2_SALT_SIZE;
  const bodyLength = packet.payload.length - V2_SALT_SIZE - V2_TAG_SIZE;
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(datagram.subarray(0, clear));
  decipher.setAuthTag(packet.payload.subarray(V2_SALT_SIZE + bodyLength));
  const plain = new Uint8Array(bodyLength);
  plain.set(decipher.update(packet.payload.subarray(V2_SALT_SIZE, V2_SALT_SIZE + bodyLength)));
  try {
    decipher.final();
  } catch {
    throw new ProtocolError("bad-auth", "datagram failed authentication (wrong key, or forged or altered on the way)");
  }
  return { ...packet, payload: plain };
}
