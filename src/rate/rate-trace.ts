/** Trace points kept for --json: a quarter second apart, the last 10 minutes. */
const TRACE_EVERY_MS = 250;
const TRACE_POINTS = 2400;

export interface RateTracePoint {
  /** ms since the first frame. */
  t: number;
  targetMbps: number | null;
  quality: number;
  scale: number;
  fps: number;
}

/**
 * The sender's target, quality, scale and frame rate over time, for
 * --json and the benches' charts: at most one point a quarter second,
 * the oldest dropped past ten minutes (so a long stream stays bounded).
 */
export class RateTrace {
  private readonly points: RateTracePoint[] = [];
  private firstMs: number | undefined;
  private nextMs = 0;

  constructor(private readonly capacity = TRACE_POINTS) {}

  /** The state at `nowMs`; kept when a quarter second has passed since the last point kept. */
  record(nowMs: number, point: Omit<RateTracePoint, "t">): void {
    this.firstMs ??= nowMs;
    if (nowMs < this.nextMs) return;
    this.nextMs = nowMs + TRACE_EVERY_MS;
    if (this.points.length >= this.capacity) this.points.shift();
    this.points.push({ t: Math.round(nowMs - this.firstMs), ...point });
  }

  /** The points kept, oldest first (a copy). */
  traced(): RateTracePoint[] {
    return [...this.points];
  }
}
