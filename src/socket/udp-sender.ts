import type { udp } from "bun";
import { growSocketBuffer, socketFd } from "./socket-buffer.ts";

export interface UdpSenderStats {
  datagramsSent: number;
  bytesSent: number;
  /** Datagrams the OS would not take even after retrying. */
  sendErrors: number;
  /** Errors reported back for earlier datagrams, e.g. ICMP port unreachable: nobody is listening there. */
  errorReports: number;
  lastError: string | undefined;
}

/** What came back to a sending socket, and from where. */
export type DatagramHandler = (datagram: Uint8Array, address: string, port: number) => void;

const DRAIN_WAIT_MS = 20;
/** Room for a whole 1080p frame sent as one burst (--low-latency), so it need not wait for drain. */
const SEND_BUFFER_BYTES = 1024 * 1024;
const ATTEMPTS = 3;

/**
 * The sending edge: a thin shell over Bun.udpSocket that batches with
 * sendMany, waits for drain when the OS buffer is full, and survives
 * errors (a refused port makes later sends fail) by counting them.
 */
export class UdpSender {
  readonly stats: UdpSenderStats = { datagramsSent: 0, bytesSent: 0, sendErrors: 0, errorReports: 0, lastError: undefined };
  private drainWaiters: (() => void)[] = [];
  private lastSendThrew = false;
  private onDatagram: DatagramHandler | undefined;

  private constructor(
    private readonly socket: udp.Socket<"uint8array">,
    private readonly port: number,
    private readonly address: string,
  ) {}

  /** Opens a socket for sending to address:port; what comes back to it (feedback) goes to `onDatagram`, or to listen()'s handler. */
  static async open(address: string, port: number, family: 4 | 6, onDatagram?: DatagramHandler): Promise<UdpSender> {
    let sender: UdpSender | undefined;
    const socket = await Bun.udpSocket({
      hostname: family === 6 ? "::" : "0.0.0.0",
      binaryType: "uint8array",
      socket: {
        data: (_socket, datagram, remotePort, remoteAddress) => sender?.onDatagram?.(datagram, remoteAddress, remotePort),
        drain: () => sender?.wakeDrainWaiters(),
        error: (...args: unknown[]) => {
          // Bun passes the Error last; ICMP errors land here asynchronously.
          const error = args.at(-1);
          if (!sender) return;
          sender.stats.errorReports++;
          sender.stats.lastError = error instanceof Error ? error.message : String(error);
        },
      },
    });
    growSocketBuffer(socketFd(socket), "send", SEND_BUFFER_BYTES);
    sender = new UdpSender(socket, port, address);
    sender.onDatagram = onDatagram;
    return sender;
  }

  /** What comes back to this socket from now on goes to `handler` (until then it is dropped). */
  listen(handler: DatagramHandler): void {
    this.onDatagram = handler;
  }

  /** Sends datagrams[from, to); resolves when the OS has taken them or they were counted as errors. */
  async send(datagrams: readonly Uint8Array[], from = 0, to = datagrams.length): Promise<void> {
    let next = from;
    for (let attempt = 0; next < to && attempt < ATTEMPTS; attempt++) {
      const reportsBefore = this.stats.errorReports;
      const sent = this.sendNow(datagrams, next, to);
      next += sent;
      if (next === to) break;
      // A short send after an error report is that report being consumed (e.g. ICMP port
      // unreachable): retry at once. Otherwise the socket buffer is full: wait for it to drain.
      if (this.stats.errorReports === reportsBefore && !this.lastSendThrew) await this.waitForDrain();
    }
    if (next < to) {
      this.stats.sendErrors += to - next;
    }
  }

  /** Hops the datagrams may travel: the multicast TTL for a group (the OS default is 1: this network only), else the unicast TTL. */
  setTtl(ttl: number, multicast: boolean): void {
    if (multicast) this.socket.setMulticastTTL(ttl);
    else this.socket.setTTL(ttl);
  }

  close(): void {
    this.socket.close();
    this.wakeDrainWaiters();
  }

  /**
   * A control message (the sender state) beside the stream: sent once, never
   * waited for, and not counted with the stream's datagrams.
   */
  sendControl(datagram: Uint8Array): void {
    try {
      this.socket.send(datagram, this.port, this.address);
    } catch {
      // A control message is repeated every half second: one lost to a full buffer is no loss.
    }
  }

  private sendNow(datagrams: readonly Uint8Array[], from: number, to: number): number {
    const packets: (Uint8Array | number | string)[] = [];
    for (let i = from; i < to; i++) packets.push(datagrams[i]!, this.port, this.address);
    let sent = 0;
    this.lastSendThrew = false;
    try {
      sent = this.socket.sendMany(packets as Parameters<typeof this.socket.sendMany>[0]);
    } catch (error) {
      this.lastSendThrew = true;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
    }
    for (let i = from; i < from + sent; i++) this.stats.bytesSent += datagrams[i]!.length;
    this.stats.datagramsSent += sent;
    return sent;
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, DRAIN_WAIT_MS);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}
