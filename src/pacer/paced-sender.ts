import type { UdpSender } from "../socket/udp-sender.ts";
import { TokenBucket } from "./token-bucket.ts";

/** Timers are about a millisecond precise: let that much go out per wake-up, so pacing never stalls on the timer. */
const TICK_MS = 2;

/** The time and the waiting, given (a test's clock can run late on purpose). */
export interface PacerClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_TIME: PacerClock = { nowMs: () => performance.now(), sleep: (ms) => Bun.sleep(ms) };

/**
 * Sends each frame's datagrams through a token bucket whose rate is what
 * the frame needs to go out within its window (plus the headroom left in
 * the interval), capped at `maxBytesPerMs`. Bursts are what overflow a
 * receiver's socket buffer or a router's queue, so none are sent. The
 * window's end is a deadline: a timer that wakes late (a busy process)
 * loses the bucket's unspent time, so the rate is raised for what is left
 * to end on time rather than later (the frame's latency is its last
 * datagram's).
 */
export class PacedSender {
  private readonly bucket: TokenBucket;

  constructor(
    private readonly socket: Pick<UdpSender, "send">,
    private readonly maxBytesPerMs: number | undefined,
    private readonly clock: PacerClock = REAL_TIME,
  ) {
    this.bucket = new TokenBucket(1, 1, clock.nowMs());
  }

  /** Sends `datagrams` spread over `windowMs`; resolves when the last one has been handed to the OS. */
  async sendFrame(datagrams: readonly Uint8Array[], windowMs: number): Promise<void> {
    let bytes = 0;
    let largest = 0;
    for (const d of datagrams) {
      bytes += d.length;
      largest = Math.max(largest, d.length);
    }
    const startMs = this.clock.nowMs();
    const deadlineMs = startMs + windowMs;
    let rate = -1;
    let burst = 0;
    // The rate the bytes still to go need to be out by the deadline (never less than the rate already set), capped.
    const pace = (remaining: number, now: number) => {
      const wanted = remaining / Math.max(deadlineMs - now, TICK_MS);
      const next = this.maxBytesPerMs === undefined ? wanted : Math.min(wanted, this.maxBytesPerMs);
      if (next <= rate) return;
      rate = next;
      burst = Math.max(largest, rate * TICK_MS);
      this.bucket.configure(rate, burst, now);
    };
    let remaining = bytes;
    pace(remaining, startMs);
    for (let next = 0; next < datagrams.length; ) {
      const now = this.clock.nowMs();
      let end = next;
      let batch = 0;
      while (end < datagrams.length && batch + datagrams[end]!.length <= burst && this.bucket.delayMs(batch + datagrams[end]!.length, now) === 0) {
        batch += datagrams[end++]!.length;
      }
      if (end === next) {
        // Wake up when a tick's worth can go, not for every datagram: fewer timers, same average rate.
        await this.clock.sleep(Math.max(this.bucket.delayMs(Math.min(burst, remaining), now), 0.5));
        pace(remaining, this.clock.nowMs());
        continue;
      }
      remaining -= batch;
      this.bucket.take(batch, now);
      await this.socket.send(datagrams, next, end);
      next = end;
    }
  }
}
