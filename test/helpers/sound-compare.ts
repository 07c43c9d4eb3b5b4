// What a listener got, against the source's sound: both as 48 kHz stereo
// float samples, interleaved. Used by the sound tests and `bun run bench:av`.

const RATE = 48_000;
/** Envelope blocks of 1 ms: fine enough to find gaps, coarse enough to search seconds of lag quickly. */
const BLOCK = RATE / 1000;

export interface SoundComparison {
  /** Where the source's first sample lies in the output (samples). */
  lagSamples: number;
  /** Of the source's sounding 10 ms stretches, the share that sounds in the output too. */
  presentShare: number;
  /** Longest run (ms) where the source sounds and the output is silent. */
  longestGapMs: number;
  /** Pearson correlation of each second of the source with the output at the same place (best within ±25 ms). */
  perSecond: number[];
}

/** Left channel of interleaved stereo float samples. */
export function leftChannel(interleaved: Float32Array): Float32Array {
  const out = new Float32Array(interleaved.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = interleaved[2 * i]!;
  return out;
}

function envelope(samples: Float32Array): Float32Array {
  const out = new Float32Array(Math.floor(samples.length / BLOCK));
  for (let b = 0; b < out.length; b++) {
    let sum = 0;
    for (let i = b * BLOCK; i < (b + 1) * BLOCK; i++) sum += samples[i]! * samples[i]!;
    out[b] = Math.sqrt(sum / BLOCK);
  }
  return out;
}

/** Pearson correlation of `length` values from each; what lies beyond `b`'s ends counts as silence (a cut-off output must not match better). */
function correlation(a: Float32Array, aFrom: number, b: Float32Array, bFrom: number, length: number): number {
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (let i = 0; i < length; i++) {
    const x = a[aFrom + i];
    if (x === undefined) continue;
    const y = bFrom + i < 0 ? 0 : (b[bFrom + i] ?? 0);
    sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y; n++;
  }
  if (n === 0) return 0;
  const cov = sab / n - (sa / n) * (sb / n);
  const va = saa / n - (sa / n) ** 2;
  const vb = sbb / n - (sb / n) ** 2;
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}

/** The lag (samples) at which `output` best matches `source`: by the envelopes, then to the sample. */
function findLag(source: Float32Array, output: Float32Array): number {
  const s = envelope(source);
  const o = envelope(output);
  let best = 0;
  let bestScore = -Infinity;
  // The whole source at each lag: the clip's sound repeats every second, so a part of it would match a second off as well.
  for (let lag = 0; lag < o.length; lag++) {
    const score = correlation(s, 0, o, lag, s.length);
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return refine(source, output, 0, best * BLOCK, RATE, 2 * BLOCK).lag;
}

/** Best sample lag within ±`range` of `around` for `length` samples from `from` in the source. */
function refine(source: Float32Array, output: Float32Array, from: number, around: number, length: number, range: number): { lag: number; score: number } {
  let best = { lag: around, score: -Infinity };
  for (let lag = around - range; lag <= around + range; lag++) {
    const score = correlation(source, from, output, from + lag, length);
    if (score > best.score) best = { lag, score };
  }
  return best;
}

/** Compares the left channels of the source's sound and the output's. */
export function compareSound(sourceInterleaved: Float32Array, outputInterleaved: Float32Array): SoundComparison {
  const source = leftChannel(sourceInterleaved);
  const output = leftChannel(outputInterleaved);
  const lag = findLag(source, output);
  // Presence and gaps, in 10 ms stretches: sounding means an RMS above -40 dBFS.
  const stretch = RATE / 100;
  const rms = (x: Float32Array, from: number) => {
    let sum = 0;
    for (let i = from; i < from + stretch; i++) sum += (x[i] ?? 0) ** 2;
    return Math.sqrt(sum / stretch);
  };
  let sounding = 0, present = 0, run = 0, longest = 0;
  for (let from = 0; from + stretch <= source.length; from += stretch) {
    if (rms(source, from) < 0.01) continue;
    sounding++;
    if (rms(output, from + lag) >= 0.005) {
      present++;
      run = 0;
    } else longest = Math.max(longest, ++run);
  }
  const perSecond: number[] = [];
  for (let second = 0; (second + 1) * RATE <= source.length; second++) {
    perSecond.push(refine(source, output, second * RATE, lag, RATE, 25 * BLOCK).score);
  }
  return { lagSamples: lag, presentShare: sounding ? present / sounding : 0, longestGapMs: longest * 10, perSecond };
}
