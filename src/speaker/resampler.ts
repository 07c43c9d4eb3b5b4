/**
 * Stretches or shrinks a stream of interleaved stereo samples by a ratio
 * close to 1 (output samples per input sample), by linear interpolation
 * with the position carried from one block to the next, so the joins are
 * seamless. What the device's clock needs: one running a little fast or
 * slow against the sender's gets a little more or less sound, and the
 * offset from the picture never grows. Pure. What push returns is good
 * until the next push (the device copies it as it is queued): one buffer,
 * grown as needed, rather than one a packet.
 */
export class StereoResampler {
  /** Where the next output sample falls, in input samples after `previous` (the last input sample of the last block). */
  private position = 1;
  private previous: [number, number] | undefined;
  private out = new Float32Array(0);

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
    // Output samples fall at position, position + step, … up to `frames`: room for them is made first, so the block is
    // written in place (a packet every 20 ms at 48 kHz: no per-sample array growth); one more for rounding.
    const room = 2 * (Math.floor((frames - this.position) / step) + 2);
    if (this.out.length < room) this.out = new Float32Array(room);
    const out = this.out;
    const previous = this.previous ?? [input[0]!, input[1]!];
    let position = this.position;
    let k = 0;
    for (; position <= frames; k++, position += step) {
      // Sample i of the joined signal: i = 0 is the previous block's last sample, i = 1… this block's.
      const i = Math.floor(position);
      const fraction = position - i;
      for (let channel = 0; channel < 2; channel++) {
        const a = i === 0 ? previous[channel]! : input[2 * (i - 1) + channel]!;
        out[2 * k + channel] = fraction === 0 || i >= frames ? a : a + (input[2 * i + channel]! - a) * fraction;
      }
    }
    this.position = position - frames;
    this.previous = [input[2 * frames - 2]!, input[2 * frames - 1]!];
    return out.subarray(0, 2 * k);
  }
}
