import type { UdpSender, UdpSenderStats } from "./udp-sender.ts";

/**
 * Sends the same datagrams to several destinations (`send --to A,B`), one
 * socket each, so a slow or refusing destination only costs its own
 * socket's retries. Stats are summed over all of them.
 */
export class FanOutSender {
  constructor(private readonly senders: readonly UdpSender[]) {
    if (senders.length === 0) throw new RangeError("no destinations");
  }

  async send(datagrams: readonly Uint8Array[], from = 0, to = datagrams.length): Promise<void> {
    if (this.senders.length === 1) return this.senders[0]!.send(datagrams, from, to);
    await Promise.all(this.senders.map((sender) => sender.send(datagrams, from, to)));
  }

  /** A control message to every destination (UdpSender.sendControl). */
  sendControl(datagram: Uint8Array): void {
    for (const sender of this.senders) sender.sendControl(datagram);
  }

  /** The socket of destination `index` (in --to order): a resend goes to the one receiver that asked. */
  destination(index: number): UdpSender {
    const sender = this.senders[index];
    if (!sender) throw new RangeError(`no destination ${index}`);
    return sender;
  }

  get stats(): UdpSenderStats {
    const total: UdpSenderStats = { datagramsSent: 0, bytesSent: 0, sendErrors: 0, errorReports: 0, lastError: undefined };
    for (const { stats } of this.senders) {
      total.datagramsSent += stats.datagramsSent;
      total.bytesSent += stats.bytesSent;
      total.sendErrors += stats.sendErrors;
      total.errorReports += stats.errorReports;
      total.lastError = stats.lastError ?? total.lastError;
    }
    return total;
  }

  close(): void {
    for (const sender of this.senders) sender.close();
  }
}
