/**
 * Rates of growing counters over the last few seconds, for live readouts:
 * a cumulative average hides a stall, a rate over one 500 ms tick jumps
 * about. Pure: the caller passes the clock.
 */
export class RateWindow<Name extends string> {
  private readonly samples: { atMs: number; counters: Record<Name, number> }[] = [];

  constructor(private readonly windowMs = 2000) {}

  /** Records the counters' values now and returns how fast each grew (per second) over the window. */
  push(atMs: number, counters: Record<Name, number>): Record<Name, number> {
    this.samples.push({ atMs, counters: { ...counters } });
    // Keep one sample at or beyond the window's far edge as the baseline.
    while (this.samples.length > 2 && atMs - this.samples[1]!.atMs >= this.windowMs) this.samples.shift();
    const base = this.samples[0]!;
    const seconds = (atMs - base.atMs) / 1000;
    const rates = {} as Record<Name, number>;
    for (const name of Object.keys(counters) as Name[]) {
      rates[name] = seconds > 0 ? (counters[name] - base.counters[name]) / seconds : 0;
    }
    return rates;
  }

  /** How much each counter grew over the window (not per second): for ratios such as loss %. */
  growth(name: Name): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    return first && last ? last.counters[name] - first.counters[name] : 0;
  }
}
