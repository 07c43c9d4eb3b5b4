import { createCipheriv, createDecipheriv } from "node:crypto";
import { ProtocolError } from "./protocol-error.ts";
import { V2_FLAG_SEALED, V2_HEADER_SIZE, V2_TAG_SIZE, type V2Packet } from "./v2.ts";

/*
 * A sealed v2 datagram: the plain v2 header with the SEALED flag set, sent
 * in clear as AES-256-GCM associated data (so every header field is
 * authenticated), then the payload encrypted, then the 16-byte tag.
 *
 *    0                       24                      24 + n          40 + n
 *   +-----------------------+-----------------------+---------------+
 *   | v2 header, SEALED set |  ciphertext, n bytes  |  GCM tag (16) |
 *   +-----------------------+-----------------------+---------------+
 *
 * The 96-bit nonce is never sent: both ends build it from the header.
 *
 *    0               4               8       10      11      12
 *   +---------------+---------------+-------+-------+-------+
 *   |   stream id   | frame number  | chunk | kind  |   0   |
 *   +---------------+---------------+-------+-------+-------+
 *
 *   kind  0 data chunk, 1 parity chunk, 2 end of stream.
 *
 * A sender never repeats (stream id, frame number, chunk index, kind) with
 * different bytes: frame numbers only grow within a run, and the repeated
 * end-of-stream datagram is sent byte-identical.
 */
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const KIND = { data: 0, parity: 1, end: 2 } as const;

function nonceFor(packet: Pick<V2Packet, "streamId" | "frameNumber" | "chunkIndex" | "parity" | "endOfStream">): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, packet.streamId >>> 0);
  view.setUint32(4, packet.frameNumber >>> 0);
  view.setUint16(8, packet.chunkIndex);
  view.setUint8(10, packet.endOfStream ? KIND.end : packet.parity ? KIND.parity : KIND.data);
  return nonce;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
}

/**
 * Seals a plain v2 datagram (as the packetizer makes it, SEALED clear) into
 * a new datagram 16 bytes longer. `packet` is the datagram's own header,
 * parsed: the caller has it already and it names the nonce.
 */
export function sealV2(datagram: Uint8Array, packet: Omit<V2Packet, "payload" | "sealed">, key: Uint8Array): Uint8Array {
  checkKey(key);
  const sealed = new Uint8Array(datagram.length + V2_TAG_SIZE);
  sealed.set(datagram.subarray(0, V2_HEADER_SIZE));
  sealed[2]! |= V2_FLAG_SEALED;
  const cipher = createCipheriv("aes-256-gcm", key, nonceFor(packet));
  cipher.setAAD(sealed.subarray(0, V2_HEADER_SIZE));
  const body = cipher.update(datagram.subarray(V2_HEADER_SIZE));
  cipher.final(); // GCM emits all ciphertext from update()
  sealed.set(body, V2_HEADER_SIZE);
  sealed.set(cipher.getAuthTag(), V2_HEADER_SIZE + body.length);
  return sealed;
}

/**
 * Checks and decrypts a sealed packet parsed from `datagram`; returns the
 * packet with its plaintext payload. Anything forged, altered, cut or sealed
 * under another key throws ProtocolError("bad-auth").
 */
export function openV2(datagram: Uint8Array, packet: V2Packet, key: Uint8Array): V2Packet {
  checkKey(key);
  if (!packet.sealed || packet.payload.length < V2_TAG_SIZE) throw new ProtocolError("bad-auth", "datagram is not sealed");
  const bodyLength = packet.payload.length - V2_TAG_SIZE;
  const decipher = createDecipheriv("aes-256-gcm", key, nonceFor(packet));
  decipher.setAAD(datagram.subarray(0, V2_HEADER_SIZE));
  decipher.setAuthTag(packet.payload.subarray(bodyLength));
  const plain = new Uint8Array(bodyLength);
  plain.set(decipher.update(packet.payload.subarray(0, bodyLength)));
  try {
    decipher.final();
  } catch {
    throw new ProtocolError("bad-auth", "datagram failed authentication (wrong key, or forged or altered on the way)");
  }
  return { ...packet, payload: plain };
}
