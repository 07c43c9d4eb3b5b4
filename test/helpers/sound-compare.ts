// What a listener got, against the source's sound: both as 48 kHz stereo
// float samples, interleaved. Used by the sound tests.

const RATE = 48_000;
/** 1 ms of samples. */
const BLOCK = RATE / 1000;

export interface SoundComparison {
  /** Where the source's first sample lies in the output (samples). */
  lagSamples: number;
  /** Of the source's sounding 10 ms stretches, the share that sounds in the output too. */
  presentShare: number;
  /** Longest run (ms) where the source sounds and the output is silent. */
  longestGapMs: number;
  /** Each second's correlation of source and output: its 100 ms windows' (each where it best matches near the last confident match), weighted by the source's energy. */
  perSecond: number[];
}

/** Left channel of interleaved stereo float samples. */
export function leftChannel(interleaved: Float32Array): Float32Array {
  const out = new Float32Array(interleaved.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = interleaved[2 * i]!;
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

/**
 * Where the source's start lies in the output (samples): its first loud
 * moment (a third of its peak) against the output's, then to the sample.
 * (Matching whole envelopes was fooled by sound that repeats every second:
 * a second late matched about as well.)
 */
function findLag(source: Float32Array, output: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < source.length; i++) peak = Math.max(peak, Math.abs(source[i]!));
  const firstLoud = (x: Float32Array) => x.findIndex((v) => Math.abs(v) > peak / 3);
  const s = firstLoud(source);
  const o = firstLoud(output);
  if (s < 0 || o < 0) return 0;
  return refine(source, output, Math.max(0, s - BLOCK), o - s, RATE / 10, 2 * BLOCK).lag;
}

/** As refine, trying every `step`th lag and comparing every `step`th sample: a quick first look. */
function refineStepped(source: Float32Array, output: Float32Array, from: number, around: number, length: number, range: number, step: number): { lag: number; score: number } {
  let best = { lag: around, score: -Infinity };
  for (let lag = around - range; lag <= around + range; lag += step) {
    let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
    for (let i = 0; i < length; i += step) {
      const x = source[from + i] ?? 0;
      const j = from + lag + i;
      const y = j < 0 ? 0 : (output[j] ?? 0);
      sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y; n++;
    }
    const cov = sab / n - (sa / n) * (sb / n);
    const va = saa / n - (sa / n) ** 2;
    const vb = sbb / n - (sb / n) ** 2;
    const score = va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
    if (score > best.score) best = { lag, score };
  }
  return best;
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
  const rawOutput = leftChannel(outputInterleaved);
  // The receiver keeps a device whose clock is off in time by adding or leaving out a few ms at quiet moments (it
  // resamples only for drifts too small to matter here): the recording is the source shifted in places, never
  // stretched. So it is not warped; each window below finds its own offset.
  const lag = findLag(source, rawOutput);
  // From the source's start on, all of it: sound added at quiet moments makes it longer than the source.
  const output = rawOutput.subarray(Math.max(0, lag));
  // Each second as ten 100 ms windows, each matched where it lies, weighted by the source's energy in it. The receiver
  // adds or leaves out a few ms at a time, so windows are searched near the last confident match: one with a tenth
  // of the loudest window's energy or more (a steady tone alone, being periodic, matches a period off as well).
  const WINDOW = RATE / 10;
  const energies: number[] = [];
  for (let from = 0; from + WINDOW <= source.length; from += WINDOW) {
    let e = 0;
    for (let i = from; i < from + WINDOW; i++) e += source[i]! * source[i]!;
    energies.push(e);
  }
  const loudest = Math.max(...energies);
  const perSecond: number[] = [];
  const windowOffsets: number[] = [];
  let offset = 0;
  for (let second = 0; (second + 1) * RATE <= source.length; second++) {
    let weighted = 0;
    let energy = 0;
    for (let from = second * RATE; from < (second + 1) * RATE; from += WINDOW) {
      const e = energies[from / WINDOW]!;
      const confident = e >= loudest / 10;
      const coarse = refineStepped(source, output, from, offset, WINDOW, (confident ? 80 : 25) * BLOCK, 4);
      const best = refine(source, output, from, coarse.lag, WINDOW, 4);
      weighted += Math.max(0, best.score) * e;
      energy += e;
      if (confident) offset = best.lag;
      // Presence is judged where the confident match puts the window: a quiet window's own best match may slide over a hole.
      windowOffsets.push(confident ? best.lag : offset);
    }
    perSecond.push(energy > 0 ? weighted / energy : 0);
  }
  // Presence and gaps, in 10 ms stretches, each where its window lies: sounding means an RMS above -40 dBFS.
  const stretch = RATE / 100;
  const rms = (x: Float32Array, from: number) => {
    let sum = 0;
    for (let i = from; i < from + stretch; i++) sum += (i < 0 ? 0 : (x[i] ?? 0)) ** 2;
    return Math.sqrt(sum / stretch);
  };
  let sounding = 0, present = 0, run = 0, longest = 0;
  for (let from = 0; from + stretch <= source.length; from += stretch) {
    if (rms(source, from) < 0.01) continue;
    sounding++;
    if (rms(output, from + (windowOffsets[Math.floor(from / WINDOW)] ?? offset)) >= 0.005) {
      present++;
      run = 0;
    } else longest = Math.max(longest, ++run);
  }
  return { lagSamples: lag, presentShare: sounding ? present / sounding : 0, longestGapMs: longest * 10, perSecond };
}
