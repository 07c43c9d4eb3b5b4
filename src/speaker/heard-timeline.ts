/** Kept this long after it was queued: longer than anything waits in the device's queue. */
const KEEP_MS = 2000;

interface Queued {
  /** Capture time (sender's clock, µs mod 2^32) of the first sample queued. */
  captureUs: number;
  /** Where that sample sits in the device's stream: samples written before it. */
  position: number;
  /** Capture µs covered. */
  durationUs: number;
  /** Device samples per capture µs (the resampler's stretch at the time). */
  samplesPerUs: number;
  queuedAtMs: number;
}

/**
 * When the sound captured at a given instant is heard, as queued: each
 * packet's place in the device's stream (after any silence put before it
 * or sound left out of it) against where the device is now. The picture
 * follows this rather than the playout clock: the sound is queued ahead
 * and put right only at quiet moments, so when the clock's delay moves,
 * what is already queued is heard at the old one; a frame shown by the
 * clock would be that far from its sound. Pure: given the device's position.
 */
export class HeardTimeline {
  private readonly queued: Queued[] = [];

  /** `durationUs` of sound captured from `captureUs` was written at device position `position` (samples), `samplesPerUs` device samples a capture µs. */
  add(captureUs: number, durationUs: number, position: number, samplesPerUs: number, nowMs: number): void {
    this.queued.push({ captureUs, position, durationUs, samplesPerUs, queuedAtMs: nowMs });
    while (this.queued.length > 1 && this.queued[0]!.queuedAtMs < nowMs - KEEP_MS) this.queued.shift();
  }

  /**
   * Local ms at which the sample captured at `captureUs` is heard, given the
   * device's position now (`consumed` samples taken), its speed (samples a
   * ms) and the time from taking a sample to playing it; undefined when that
   * sound is not queued (not yet, or long gone).
   */
  heardAtMs(captureUs: number, nowMs: number, consumed: number, samplesPerMs: number, latencyMs: number): number | undefined {
    for (let i = this.queued.length - 1; i >= 0; i--) {
      const q = this.queued[i]!;
      // Signed 32-bit distance: capture times wrap every 71.6 min.
      const intoUs = (captureUs - q.captureUs) | 0;
      if (intoUs < 0) continue;
      if (intoUs >= q.durationUs) return undefined;
      const position = q.position + intoUs * q.samplesPerUs;
      return nowMs + (position - consumed) / samplesPerMs + latencyMs;
    }
    return undefined;
  }
}
