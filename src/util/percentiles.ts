/** Keeps the most recent `capacity` samples and reports percentiles over them (bounded memory). */
export class RecentSamples {
  private readonly samples: number[] = [];
  private next = 0;
  count = 0;

  constructor(private readonly capacity = 10_000) {}

  add(value: number): void {
    if (this.samples.length < this.capacity) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
  }

  /** Nearest-rank percentile, p in [0, 100]; undefined when there are no samples. */
  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
}
