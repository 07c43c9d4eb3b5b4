/**
 * How much a sender may resend: a share of what it sends, as a token bucket
 * filled by every first transmission and emptied by resends, holding at most
 * about a second's share. A flood of NACKs, forged or not, can then never make
 * the sender send more than (1 + share) times its own rate.
 */
export class RetransmitBudget {
  private tokens = 0;
  private windowStartMs: number | undefined;
  private windowBytes = 0;
  private previousWindowBytes = 0;
  refusedBytes = 0;

  constructor(private readonly share: number) {}

  /** A first transmission of `bytes` at `nowMs`. */
  sent(bytes: number, nowMs: number): void {
    if (this.windowStartMs === undefined || nowMs - this.windowStartMs >= 1000) {
      this.previousWindowBytes = this.windowStartMs === undefined ? 0 : this.windowBytes;
      this.windowStartMs = nowMs;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    const capacity = Math.max(this.windowBytes, this.previousWindowBytes) * this.share;
    this.tokens = Math.min(this.tokens + bytes * this.share, capacity);
  }

  /** Takes `bytes` of budget for a resend if there is that much; false (and counted) if not. */
  take(bytes: number): boolean {
    if (bytes > this.tokens) {
      this.refusedBytes += bytes;
      return false;
    }
    this.tokens -= bytes;
    return true;
  }
}
