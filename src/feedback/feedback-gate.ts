import { deserializeFeedback, feedbackKey, FeedbackType } from "../protocol/feedback.ts";
import { deserializeNack, type NackEntry } from "../protocol/feedback-nack.ts";
import { deserializeReport, type ReceiverReport } from "../protocol/feedback-report.ts";
import { isNewer32 } from "../protocol/serial-number.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";
import type { StreamKey } from "../protocol/v2-seal.ts";
import { normalizeAddress } from "../socket/address.ts";

export type FeedbackMessage = { kind: "nack"; receiverId: number; entries: NackEntry[] } | { kind: "report"; receiverId: number; report: ReceiverReport };

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
      const report = deserializeReport(envelope.body);
      const last = this.lastReport.get(envelope.receiverId);
      if (last !== undefined && !isNewer32(report.reportNumber, last)) return this.refuse("stale-report");
      this.lastReport.delete(envelope.receiverId);
      this.lastReport.set(envelope.receiverId, report.reportNumber);
      if (this.lastReport.size > REMEMBERED_RECEIVERS) this.lastReport.delete(this.lastReport.keys().next().value!);
      this.stats.accepted++;
      return { kind: "report", receiverId: envelope.receiverId, report };
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

/** How a destination is named for the gate: "address:port", IPv4-mapped IPv6 as plain IPv4. */
export function endpoint(address: string, port: number): string {
  return `${normalizeAddress(address)}:${port}`;
}
