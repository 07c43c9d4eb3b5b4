import { UdpReceiver } from "../socket/udp-receiver.ts";
import { UdpSender } from "../socket/udp-sender.ts";
import type { Impairment } from "./impairment.ts";

interface Scheduled {
  atMs: number;
  datagram: Uint8Array;
}

/**
 * The relay's sockets: every datagram arriving on the listening port goes
 * through the impairment model and leaves for the destination at the
 * times it returns. One timer serves a queue kept in departure order.
 */
export class UdpRelay {
  private readonly queue: Scheduled[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs = Infinity;

  private constructor(
    private readonly impairment: Impairment,
    private readonly sender: UdpSender,
  ) {}

  static async open(impairment: Impairment, listen: { bind: string; port: number }, to: { address: string; port: number; family: 4 | 6 }) {
    const sender = await UdpSender.open(to.address, to.port, to.family);
    const relay = new UdpRelay(impairment, sender);
    const receiver = await UdpReceiver.open(listen.bind, listen.port, {}, (datagram) => relay.arrive(datagram)).catch((error) => {
      sender.close();
      throw error;
    });
    return { relay, receiver, sender };
  }

  get queued(): number {
    return this.queue.length;
  }

  private arrive(datagram: Uint8Array): void {
    const now = performance.now();
    for (const atMs of this.impairment.process(datagram.length, now)) {
      // Binary search from the end: departures are mostly in arrival order.
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1]!.atMs > atMs) i--;
      this.queue.splice(i, 0, { atMs, datagram });
    }
    this.flush();
  }

  private flush(): void {
    const now = performance.now();
    let due = 0;
    while (due < this.queue.length && this.queue[due]!.atMs <= now + 0.25) due++;
    if (due > 0) void this.sender.send(this.queue.splice(0, due).map((s) => s.datagram));
    const next = this.queue[0]?.atMs;
    if (next === undefined || next >= this.timerAtMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = next;
    this.timer = setTimeout(() => {
      this.timerAtMs = Infinity;
      this.flush();
    }, Math.max(0, next - now));
  }

  close(): void {
    clearTimeout(this.timer);
    this.sender.close();
  }
}
