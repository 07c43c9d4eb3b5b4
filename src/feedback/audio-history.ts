/** Sound packets kept for resending: 5 s of 20 ms packets, far past any sound's deadline. */
const MAX_PACKETS = 256;

/**
 * The sound track's data datagrams sent lately, by sequence number, so a
 * receiver's audio NACK is answered byte for byte (a sealed one resent as
 * it was never reuses a nonce). Bounded: the newest 256.
 */
export class AudioHistory {
  private readonly sent = new Map<number, { datagram: Uint8Array; resends: number }>();

  /** Data packet `sequence` goes out as `datagram`. */
  record(sequence: number, datagram: Uint8Array): void {
    sequence >>>= 0;
    this.sent.delete(sequence);
    this.sent.set(sequence, { datagram, resends: 0 });
    if (this.sent.size > MAX_PACKETS) this.sent.delete(this.sent.keys().next().value!);
  }

  /** The datagram of packet `sequence`, if still held. */
  datagram(sequence: number): Uint8Array | undefined {
    return this.sent.get(sequence >>> 0)?.datagram;
  }

  /** Packet `sequence` went out again. */
  resent(sequence: number): void {
    const entry = this.sent.get(sequence >>> 0);
    if (entry) entry.resends++;
  }

  /** How often packet `sequence` was resent already. */
  timesResent(sequence: number): number {
    return this.sent.get(sequence >>> 0)?.resends ?? 0;
  }

  get size(): number {
    return this.sent.size;
  }
}
