import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { hex, ProtocolError } from "./protocol-error.ts";
import { V2_SALT_SIZE } from "./v2.ts";
import { joinBytes } from "../util/bytes.ts";

/*
 * Feedback: what a v2 receiver sends back to the address and port its stream
 * comes from (the sender's own socket). One envelope for every message type;
 * the body is the message (feedback-nack.ts, feedback-report.ts).
 * All integers are big-endian.
 *
 *    0       1       2       3       4                               8
 *   +-------+-------+-------+-------+-------------------------------+
 *   | magic |version| type  | flags |           stream id           |
 *   +-------+-------+-------+-------+-------------------------------+
 *    8                               12
 *   +-------------------------------+
 *   |          receiver id          |
 *   +-------------------------------+
 *    12 ...  body (plain), or when SEALED:
 *            nonce (12) | body encrypted | GCM tag (16)
 *
 *   magic        0x52 ('R', return path): never a first byte of a data
 *                datagram (legacy 0x00/0x01, v2 0x56, RTP 0x80–0xBF).
 *   version      1.
 *   type         1 NACK, 2 receiver report, 3 receiver state (beside each
 *                report); 4 sender state, the one message that goes the other
 *                way: from the sender to each destination, receiver id 0;
 *                5 audio NACK (feedback-audio-nack.ts).
 *   flags        bit 0 SEALED. Other bits are 0.
 *   stream id    the v2 stream the feedback is about.
 *   receiver id  32 random bits a receiver picks once per run: tells several
 *                receivers of one stream apart.
 *
 * Sealed feedback uses its own key, never the data's: HKDF-SHA256 of the
 * pre-shared key with the stream's salt and info "udpvid v2 feedback key",
 * and a random 96-bit nonce per message, sent with it. Feedback is a few
 * messages a second, so random nonces stay far from GCM's limit, and two
 * receivers of one stream can never collide on a nonce they both chose
 * (a 2^-96 chance per pair of messages).
 */
export const FEEDBACK_MAGIC = 0x52;
export const FEEDBACK_VERSION = 1;
export const FEEDBACK_HEADER_SIZE = 12;
export const FEEDBACK_FLAG_SEALED = 0x01;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const FEEDBACK_KEY_INFO = "udpvid v2 feedback key";
/** Feedback is small; anything larger is not ours. */
export const MAX_FEEDBACK_SIZE = 1200;

export const FeedbackType = { nack: 1, report: 2, receiverState: 3, senderState: 4, audioNack: 5 } as const;
export type FeedbackTypeCode = (typeof FeedbackType)[keyof typeof FeedbackType];

export interface FeedbackEnvelope {
  type: FeedbackTypeCode;
  streamId: number;
  receiverId: number;
  sealed: boolean;
  /** The message, decrypted if it was sealed. */
  body: Uint8Array;
}

/** The key feedback about a stream is sealed with: from the pre-shared key and the stream's salt (as carried in its datagrams). */
export function feedbackKey(preShared: Uint8Array, streamSalt: Uint8Array): Uint8Array {
  if (streamSalt.length !== V2_SALT_SIZE) throw new RangeError(`a stream salt is ${V2_SALT_SIZE} bytes, got ${streamSalt.length}`);
  return new Uint8Array(hkdfSync("sha256", preShared, streamSalt, FEEDBACK_KEY_INFO, 32));
}

/** Wraps a message body; seals it when given the stream's feedback key. */
export function serializeFeedback(envelope: Omit<FeedbackEnvelope, "sealed">, key?: Uint8Array): Uint8Array {
  const header = new Uint8Array(FEEDBACK_HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint8(0, FEEDBACK_MAGIC);
  view.setUint8(1, FEEDBACK_VERSION);
  view.setUint8(2, envelope.type);
  view.setUint8(3, key ? FEEDBACK_FLAG_SEALED : 0);
  view.setUint32(4, envelope.streamId >>> 0);
  view.setUint32(8, envelope.receiverId >>> 0);
  if (!key) return joinBytes([header, envelope.body]);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(header);
  const body = cipher.update(envelope.body);
  cipher.final();
  return joinBytes([header, nonce, body, cipher.getAuthTag()]);
}

/**
 * Parses a feedback datagram. Lengths are checked before anything is read;
 * a sealed one is opened with `key` (a plain one is returned as it is: the
 * caller decides whether plain feedback may act). Throws ProtocolError.
 */
export function deserializeFeedback(datagram: Uint8Array, key?: Uint8Array): FeedbackEnvelope {
  if (datagram.length < FEEDBACK_HEADER_SIZE) throw new ProtocolError("truncated", `feedback of ${datagram.length} bytes is shorter than its ${FEEDBACK_HEADER_SIZE}-byte header`);
  if (datagram.length > MAX_FEEDBACK_SIZE) throw new ProtocolError("oversized", `feedback of ${datagram.length} bytes exceeds ${MAX_FEEDBACK_SIZE}`);
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  if (view.getUint8(0) !== FEEDBACK_MAGIC) throw new ProtocolError("bad-magic", `feedback starts with 0x${hex(view.getUint8(0))}`);
  if (view.getUint8(1) !== FEEDBACK_VERSION) throw new ProtocolError("unsupported-version", `feedback version ${view.getUint8(1)}`);
  const type = view.getUint8(2);
  if (type < FeedbackType.nack || type > FeedbackType.audioNack) throw new ProtocolError("bad-flags", `unknown feedback type ${type}`);
  const flags = view.getUint8(3);
  if ((flags & ~FEEDBACK_FLAG_SEALED) !== 0) throw new ProtocolError("bad-flags", `unknown feedback flags 0x${hex(flags)}`);
  const sealed = (flags & FEEDBACK_FLAG_SEALED) !== 0;
  const envelope = { type: type as FeedbackTypeCode, streamId: view.getUint32(4), receiverId: view.getUint32(8), sealed };
  if (!sealed) return { ...envelope, body: datagram.subarray(FEEDBACK_HEADER_SIZE) };
  if (!key) throw new ProtocolError("sealed-no-key", "sealed feedback, and no key to open it");
  if (datagram.length < FEEDBACK_HEADER_SIZE + NONCE_SIZE + TAG_SIZE) throw new ProtocolError("truncated", "sealed feedback too short for its nonce and tag");
  const nonce = datagram.subarray(FEEDBACK_HEADER_SIZE, FEEDBACK_HEADER_SIZE + NONCE_SIZE);
  const tagAt = datagram.length - TAG_SIZE;
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(datagram.subarray(0, FEEDBACK_HEADER_SIZE));
  decipher.setAuthTag(datagram.subarray(tagAt));
  const body = new Uint8Array(decipher.update(datagram.subarray(FEEDBACK_HEADER_SIZE + NONCE_SIZE, tagAt)));
  try {
    decipher.final();
  } catch {
    throw new ProtocolError("bad-auth", "feedback failed authentication");
  }
  return { ...envelope, body };
}

