/**
 * Stretches or shrinks a stream of interleaved stereo samples by a ratio
 * close to 1 (output samples per input sample), by linear interpolation
 * with the position carried from one block to the next, so the joins are
 * seamless. What the device's clock needs: one running a little fast or
 * slow against the sender's gets a little more or less sound, and the
 * offset from the picture never grows. Pure.
 */
export class StereoResampler {
  /** Where the next output sample falls, in input samples after `previous` (the last input sample of the last block). */
  private position = 1;
  private previous: [number, number] | undefined;

  /** The block `input` (interleaved L, R) at `ratio` output samples per input sample (0.5 to 2). */
  push(input: Float32Array, ratio: number): Float32Array {
    const frames = input.length >> 1;
    if (frames === 0) return new Float32Array(0);
    if (!(ratio >= 0.5 && ratio <= 2)) throw new RangeError(`a resampling ratio of ${ratio}`);
    if (ratio === 1 && this.position === 1) {
      this.previous = [input[2 * frames - 2]!, input[2 * frames - 1]!];
      return input;
    }
    const step = 1 / ratio;
    // Sample i of the joined signal: i = 0 is the previous block's last sample, i = 1… this block's.
    const at = (i: number, channel: 0 | 1) => (i === 0 ? (this.previous?.[channel] ?? input[channel]!) : input[2 * (i - 1) + channel]!);
    const out: number[] = [];
    let position = this.position;
    while (position <= frames) {
      const i = Math.floor(position);
      const fraction = position - i;
      for (const channel of [0, 1] as const) {
        const a = at(i, channel);
        out.push(fraction === 0 ? a : a + (at(i + 1, channel) - a) * fraction);
      }
      position += step;
    }
    this.position = position - frames;
    this.previous = [input[2 * frames - 2]!, input[2 * frames - 1]!];
    return Float32Array.from(out);
  }
}
