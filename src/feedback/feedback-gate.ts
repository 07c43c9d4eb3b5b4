import { deserializeFeedback, feedbackKey, FeedbackType } from "../protocol/feedback.ts";
import { deserializeNack, type NackEntry } from "../protocol/feedback-nack.ts";
import { deserializeAudioNack } from "../protocol/feedback-audio-nack.ts";
import { deserializeReport, type ReceiverReport } from "../protocol/feedback-report.ts";
import { deserializeReceiverState, type ReceiverState } from "../protocol/feedback-receiver-state.ts";
import { isNewer32 } from "../protocol/serial-number.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";
import type { StreamKey } from "../protocol/v2-seal.ts";
import { normalizeAddress } from "../socket/address.ts";

export type FeedbackMessage =
  | { kind: "nack"; receiverId: number; entries: NackEntry[] }
  | { kind: "audio-nack"; receiverId: number; sequences: number[] }
  | { kind: "report"; receiverId: number; report: ReceiverReport }
  | { kind: "state"; receiverId: number; state: ReceiverState };

export type FeedbackRefusal = "stranger" | "other-stream" | "not-sealed" | "bad-auth" | "malformed" | "stale-report";

/** Receivers whose latest report number is remembered (to drop old and replayed reports). */
const REMEMBERED_RECEIVERS = 64;

/**
 * What a sender accepts as feedback: only from a destination it sends to,
 * only about its current stream, only sealed when it has a key, well formed,
 * and for reports only newer than the last from that receiver. Everything
 * else is counted by reason and dropped. Pure: no sockets.
 */
export class FeedbackGate {
  private readonly key: Uint8Array | undefined;
  private readonly lastReport = new Map<number, number>();
  private readonly lastState = new Map<number, number>();
  readonly stats = { received: 0, accepted: 0, refused: {} as Partial<Record<FeedbackRefusal, number>> };

  constructor(
    /** "address:port" of each destination, as the socket reports a sender (IPv4-mapped IPv6 normalised). */
    private readonly destinations: ReadonlySet<string>,
    private readonly streamId: number,
    preSharedKey?: Uint8Array,
    streamKey?: StreamKey,
  ) {
    this.key = preSharedKey && streamKey ? feedbackKey(preSharedKey, streamKey.salt) : undefined;
  }

  accept(datagram: Uint8Array, address: string, port: number): FeedbackMessage | undefined {
    this.stats.received++;
    if (!this.destinations.has(endpoint(address, port))) return this.refuse("stranger");
    let envelope;
    try {
      envelope = deserializeFeedback(datagram, this.key);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return this.refuse(error.code === "bad-auth" ? "bad-auth" : "malformed");
    }
    if (this.key && !envelope.sealed) return this.refuse("not-sealed");
    if (envelope.streamId !== this.streamId) return this.refuse("other-stream");
    try {
      if (envelope.type === FeedbackType.nack) {
        this.stats.accepted++;
        return { kind: "nack", receiverId: envelope.receiverId, entries: deserializeNack(envelope.body) };
      }
      if (envelope.type === FeedbackType.audioNack) {
        this.stats.accepted++;
        return { kind: "audio-nack", receiverId: envelope.receiverId, sequences: deserializeAudioNack(envelope.body) };
      }
      if (envelope.type === FeedbackType.report) {
        const report = deserializeReport(envelope.body);
        if (!newerThanLast(this.lastReport, envelope.receiverId, report.reportNumber)) return this.refuse("stale-report");
        this.stats.accepted++;
        return { kind: "report", receiverId: envelope.receiverId, report };
      }
      if (envelope.type === FeedbackType.receiverState) {
        const state = deserializeReceiverState(envelope.body);
        if (!newerThanLast(this.lastState, envelope.receiverId, state.reportNumber)) return this.refuse("stale-report");
        this.stats.accepted++;
        return { kind: "state", receiverId: envelope.receiverId, state };
      }
      // A sender's own state, sent back at it: nothing a sender takes.
      return this.refuse("malformed");
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return this.refuse("malformed");
    }
  }

  private refuse(reason: FeedbackRefusal): undefined {
    this.stats.refused[reason] = (this.stats.refused[reason] ?? 0) + 1;
    return undefined;
  }
}

/**
 * Whether `number` is newer than the last one remembered for `receiverId`
 * (then remembered); the map keeps the latest REMEMBERED_RECEIVERS receivers.
 */
function newerThanLast(last: Map<number, number>, receiverId: number, number: number): boolean {
  const previous = last.get(receiverId);
  if (previous !== undefined && !isNewer32(number, previous)) return false;
  last.delete(receiverId);
  last.set(receiverId, number);
  if (last.size > REMEMBERED_RECEIVERS) last.delete(last.keys().next().value!);
  return true;
}

/** How a destination is named for the gate: "address:port", IPv4-mapped IPv6 as plain IPv4. */
export function endpoint(address: string, port: number): string {
  return `${normalizeAddress(address)}:${port}`;
}
