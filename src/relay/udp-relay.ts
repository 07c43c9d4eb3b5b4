import { UdpReceiver } from "../socket/udp-receiver.ts";
import { UdpSender } from "../socket/udp-sender.ts";
import type { Impairment } from "./impairment.ts";

interface Scheduled {
  atMs: number;
  datagram: Uint8Array;
}

/**
 * One direction of the relay: each datagram goes through the impairment
 * model and leaves at the times it returns. One timer serves a queue kept
 * in departure order.
 */
class RelayLane {
  private readonly queue: Scheduled[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs = Infinity;

  constructor(
    private readonly impairment: Impairment,
    private readonly send: (datagrams: Uint8Array[]) => void,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  arrive(datagram: Uint8Array): void {
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
    if (due > 0) this.send(this.queue.splice(0, due).map((s) => s.datagram));
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
  }
}

/**
 * The relay's sockets: datagrams arriving on the listening port go forward
 * to the destination through one impairment; what the destination sends back
 * (a receiver's feedback) goes through another to whoever sent last.
 */
export class UdpRelay {
  private constructor(
    private readonly forward: RelayLane,
    private readonly reverse: RelayLane,
    private readonly sender: UdpSender,
  ) {}

  static async open(impairments: { forward: Impairment; reverse: Impairment }, listen: { bind: string; port: number }, to: { address: string; port: number; family: 4 | 6 }) {
    let source: { address: string; port: number } | undefined;
    let receiver: UdpReceiver | undefined;
    const reverse = new RelayLane(impairments.reverse, (datagrams) => {
      if (source && receiver) for (const d of datagrams) receiver.reply(d, source.address, source.port);
    });
    const sender = await UdpSender.open(to.address, to.port, to.family, (datagram) => reverse.arrive(datagram));
    const forward = new RelayLane(impairments.forward, (datagrams) => void sender.send(datagrams));
    receiver = await UdpReceiver.open(listen.bind, listen.port, {}, (datagram, address, port) => {
      source = { address, port };
      forward.arrive(datagram);
    }).catch((error) => {
      sender.close();
      throw error;
    });
    return { relay: new UdpRelay(forward, reverse, sender), receiver, sender };
  }

  get queued(): number {
    return this.forward.queued + this.reverse.queued;
  }

  close(): void {
    this.forward.close();
    this.reverse.close();
    this.sender.close();
  }
}
