/**
 * A smoothed round-trip time from samples, as TCP keeps one (RFC 6298):
 * srtt follows samples with gain 1/8, rttvar their spread with gain 1/4.
 * Before the first sample it answers with the initial guess.
 */
/** The least round trip is taken over this many of the latest samples: the path's own, without a queue that has since formed or drained. */
const LEAST_OF_SAMPLES = 64;

export class RttEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private readonly recent: number[] = [];
  samples = 0;

  constructor(private readonly initialMs = 50) {}

  add(sampleMs: number): void {
    if (!(sampleMs >= 0 && sampleMs < 60_000)) return; // a clock jump or a wrapped counter: not a sample
    this.samples++;
    this.recent.push(sampleMs);
    if (this.recent.length > LEAST_OF_SAMPLES) this.recent.shift();
    if (this.srtt === undefined) {
      this.srtt = sampleMs;
      this.rttvar = sampleMs / 2;
      return;
    }
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sampleMs);
    this.srtt = 0.875 * this.srtt + 0.125 * sampleMs;
  }

  /** The smoothed round-trip time, or the initial guess before any sample. */
  get rttMs(): number {
    return this.srtt ?? this.initialMs;
  }

  /** The least of the latest samples: the round trip without queueing (the initial guess before any sample). */
  get leastMs(): number {
    return this.recent.length === 0 ? this.initialMs : Math.min(...this.recent);
  }

  /** How much samples vary (RFC 6298's rttvar: their mean deviation from the smoothed RTT). */
  get jitterMs(): number {
    return this.rttvar;
  }

  get known(): boolean {
    return this.srtt !== undefined;
  }

  /** How long to wait before deciding an answer is not coming: srtt + 4·rttvar (at least the smoothed RTT). */
  get timeoutMs(): number {
    return this.srtt === undefined ? 2 * this.initialMs : this.srtt + 4 * this.rttvar;
  }
}
