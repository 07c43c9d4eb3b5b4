/** Measured over the last this long: long enough to average out the device's buffer-sized steps. */
const WINDOW_MS = 10_000;
/** Believed only after this long: before, the device is taken at its word (48 kHz). */
const SETTLE_MS = 3000;
/** The smoothed position needs this much history. */
const SMOOTH_AFTER_MS = 200;
/**
 * The position is smoothed over this much: enough ticks to see through a
 * buffer's steps, short enough to follow a device whose speed wanders (SDL's
 * disk driver sleeps longer under load: ±3% over seconds). A line over the
 * rate's 10 s put the sound up to 20 ms from where it was heard.
 */
const POSITION_WINDOW_MS = 400;
/** Devices are never this far off; a measurement beyond it is a stall, not a clock. */
const MAX_DEVIATION = 0.1;
/** The rate over 10 s moves slowly: refitted at most this often (a fit over a thousand points on every tick was 3% of a CPU profile's samples). */
const REFIT_MS = 500;

/**
 * How fast the sound device really plays against the local clock, as a
 * ratio to its nominal rate: the samples it took (written minus still
 * queued) over time, by least squares over a sliding window. Moments when
 * its queue ran dry are left out (it played silence of its own then). Pure.
 */
export class DeviceRate {
  private readonly points: { atMs: number; consumed: number }[] = [];
  private fitted: { atMs: number; ratio: number } | undefined;

  constructor(private readonly nominalPerSecond: number) {}

  /** At `nowMs`, `written` samples had been queued in all and `queued` were still waiting. */
  observe(nowMs: number, written: number, queued: number): void {
    if (queued <= 0) {
      // It ran dry: what it played next was its own silence; measure afresh from here.
      this.points.length = 0;
      this.fitted = undefined;
      return;
    }
    this.points.push({ atMs: nowMs, consumed: written - queued });
    while (this.points.length > 2 && this.points[0]!.atMs < nowMs - WINDOW_MS) this.points.shift();
  }

  /** Device samples per nominal sample (1.01: it plays 1% fast); 1 until measured long enough. */
  get ratio(): number {
    const n = this.points.length;
    if (n < 2 || this.points[n - 1]!.atMs - this.points[0]!.atMs < SETTLE_MS) return 1;
    const lastMs = this.points[n - 1]!.atMs;
    if (this.fitted === undefined || lastMs - this.fitted.atMs >= REFIT_MS || lastMs < this.fitted.atMs) {
      const ratio = (this.fit().slopePerMs * 1000) / this.nominalPerSecond;
      this.fitted = { atMs: lastMs, ratio: Math.abs(ratio - 1) <= MAX_DEVIATION ? ratio : 1 };
    }
    return this.fitted.ratio;
  }

  /**
   * Samples the device has taken by `nowMs`, smoothed: a device takes its
   * buffer at a time, so what it reports jumps; the line through the last
   * POSITION_WINDOW_MS does not. Undefined until
   * there is a line (a fifth of a second of it).
   */
  consumedAt(nowMs: number): number | undefined {
    const n = this.points.length;
    if (n < 3 || this.points[n - 1]!.atMs - this.points[0]!.atMs < SMOOTH_AFTER_MS) return undefined;
    let first = n - 1;
    while (first > 0 && this.points[first - 1]!.atMs >= this.points[n - 1]!.atMs - POSITION_WINDOW_MS) first--;
    const { slopePerMs, intercept, t0 } = this.fit(first);
    return intercept + slopePerMs * (nowMs - t0);
  }

  /** Least squares through the points from `first` on. */
  private fit(first = 0): { slopePerMs: number; intercept: number; t0: number } {
    const n = this.points.length - first;
    let st = 0, sc = 0, stt = 0, stc = 0;
    const t0 = this.points[first]!.atMs;
    for (let i = first; i < this.points.length; i++) {
      const { atMs, consumed } = this.points[i]!;
      const t = atMs - t0;
      st += t; sc += consumed; stt += t * t; stc += t * consumed;
    }
    const slopePerMs = (n * stc - st * sc) / (n * stt - st * st);
    return { slopePerMs, intercept: (sc - slopePerMs * st) / n, t0 };
  }
}
