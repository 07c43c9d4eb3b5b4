/**
 * A token bucket: bytes may go out at `rate` on average, with at most
 * `burst` bytes at once. Pure: the caller passes the clock (ms).
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private rateBytesPerMs: number,
    private burstBytes: number,
    nowMs: number,
  ) {
    checkPositive(rateBytesPerMs, "rate");
    checkPositive(burstBytes, "burst");
    this.tokens = burstBytes;
    this.updatedMs = nowMs;
  }

  /** Changes rate and burst from now on; tokens already earned are kept up to the new burst. */
  configure(rateBytesPerMs: number, burstBytes: number, nowMs: number): void {
    checkPositive(rateBytesPerMs, "rate");
    checkPositive(burstBytes, "burst");
    this.refill(nowMs);
    this.rateBytesPerMs = rateBytesPerMs;
    this.burstBytes = burstBytes;
    this.tokens = Math.min(this.tokens, burstBytes);
  }

  /** Milliseconds until `bytes` may be sent (0: now). More than the burst can never go at once. */
  delayMs(bytes: number, nowMs: number): number {
    if (bytes > this.burstBytes) throw new RangeError(`${bytes} bytes exceed the ${this.burstBytes}-byte burst`);
    this.refill(nowMs);
    return this.tokens >= bytes ? 0 : (bytes - this.tokens) / this.rateBytesPerMs;
  }

  /** Spends tokens for `bytes` just sent. */
  take(bytes: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= bytes;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.updatedMs) {
      this.tokens = Math.min(this.burstBytes, this.tokens + (nowMs - this.updatedMs) * this.rateBytesPerMs);
      this.updatedMs = nowMs;
    }
  }
}

function checkPositive(value: number, name: string): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`token bucket ${name} must be a positive number, got ${value}`);
}
