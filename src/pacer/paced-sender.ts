import type { UdpSender } from "../socket/udp-sender.ts";
import type { SoundRideAlong } from "./sound-ride-along.ts";
import { TokenBucket } from "./token-bucket.ts";

/** Timers are about a millisecond precise: let that much go out per wake-up, so pacing never stalls on the timer. */
const TICK_MS = 2;

/**
 * Sends each frame's datagrams through a token bucket whose rate is what
 * the frame needs to go out within its window (plus the headroom left in
 * the interval), capped at `maxBytesPerMs`. Bursts are what overflow a
 * receiver's socket buffer or a router's queue, so none are sent.
 */
export class PacedSender {
  private readonly bucket: TokenBucket;

  constructor(
    private readonly socket: Pick<UdpSender, "send">,
    private readonly maxBytesPerMs: number | undefined,
    nowMs = performance.now(),
    /** Sound due shortly goes first in a batch, in the same socket call (see SoundRideAlong); only where it goes to the same socket. */
    private readonly sound?: SoundRideAlong,
  ) {
    this.bucket = new TokenBucket(1, 1, nowMs);
  }

  /** Sends `datagrams` spread over `windowMs`; resolves when the last one has been handed to the OS. */
  async sendFrame(datagrams: readonly Uint8Array[], windowMs: number): Promise<void> {
    let bytes = 0;
    let largest = 0;
    for (const d of datagrams) {
      bytes += d.length;
      largest = Math.max(largest, d.length);
    }
    const wanted = bytes / Math.max(windowMs, TICK_MS);
    const rate = this.maxBytesPerMs === undefined ? wanted : Math.min(wanted, this.maxBytesPerMs);
    const burst = Math.max(largest, rate * TICK_MS);
    this.bucket.configure(rate, burst, performance.now());

    let remaining = bytes;
    for (let next = 0; next < datagrams.length; ) {
      const now = performance.now();
      let end = next;
      let batch = 0;
      while (end < datagrams.length && batch + datagrams[end]!.length <= burst && this.bucket.delayMs(batch + datagrams[end]!.length, now) === 0) {
        batch += datagrams[end++]!.length;
      }
      if (end === next) {
        // Wake up when a tick's worth can go, not for every datagram: fewer timers, same average rate.
        await Bun.sleep(Math.max(this.bucket.delayMs(Math.min(burst, remaining), now), 0.5));
        continue;
      }
      remaining -= batch;
      this.bucket.take(batch, now);
      // The sound is outside the picture's bucket, as it is when it goes on its own (its rate is reserved apart).
      const sound = this.sound?.take(now);
      if (sound) await this.socket.send(sound.concat(datagrams.slice(next, end)));
      else await this.socket.send(datagrams, next, end);
      next = end;
    }
  }
}
