// A namespace import: Bun's bundler, given the package's named import, drops
// its web-worker class but keeps a reference to it, and the compiled binary
// failed at start ("OpusDecoderWebWorker is not defined").
import * as opus from "opus-decoder";
import { AUDIO_SAMPLE_RATE } from "../source/ffmpeg-audio-source.ts";

/** The device's layout: stereo, whatever the stream has (mono is played on both sides). */
export const OUTPUT_CHANNELS = 2;

/**
 * Opus packets to 48 kHz stereo float samples, interleaved, through the
 * libopus WebAssembly build of the `opus-decoder` package (it runs inside
 * the compiled binary on every target: nothing native to load). Never
 * throws on a packet: one the decoder refuses (hostile, or cut) is
 * concealed instead.
 */
export class OpusPacketDecoder {
  readonly stats = { decoded: 0, concealed: 0, refused: 0 };

  private constructor(private readonly decoder: opus.OpusDecoder<typeof AUDIO_SAMPLE_RATE>) {}

  /** libopus decodes mono and stereo packets alike to the stereo it was opened for. */
  static async open(): Promise<OpusPacketDecoder> {
    const decoder = new opus.OpusDecoder({ channels: OUTPUT_CHANNELS, sampleRate: AUDIO_SAMPLE_RATE, preSkip: 0 });
    await decoder.ready;
    return new OpusPacketDecoder(decoder);
  }

  /** One packet's samples, interleaved stereo; `durationSamples` of concealment if the decoder refuses it. */
  decode(packet: Uint8Array, durationSamples: number): Float32Array {
    try {
      const { channelData, samplesDecoded, errors } = this.decoder.decodeFrame(packet);
      if (errors.length === 0 && samplesDecoded > 0) {
        this.stats.decoded++;
        return this.interleave(channelData, samplesDecoded);
      }
    } catch {
      // Refused below, like a packet the decoder reported errors for.
    }
    this.stats.refused++;
    return this.conceal(durationSamples);
  }

  /**
   * `samples` of libopus's packet-loss concealment: what the decoder
   * predicts from the sound before the gap (it fades to silence over a long
   * gap). The decoder conceals a whole 120 ms for a missing packet; the
   * first `samples` of it are used.
   */
  conceal(samples: number): Float32Array {
    this.stats.concealed++;
    try {
      const { channelData, samplesDecoded } = this.decoder.decodeFrame(new Uint8Array(0));
      if (samplesDecoded >= samples) return this.interleave(channelData, samples);
    } catch {
      // Silence below.
    }
    return new Float32Array(samples * OUTPUT_CHANNELS);
  }

  close(): void {
    this.decoder.free();
  }

  private interleave(channelData: Float32Array[], samples: number): Float32Array {
    const out = new Float32Array(samples * OUTPUT_CHANNELS);
    const left = channelData[0]!;
    const right = channelData[1] ?? left;
    for (let i = 0; i < samples; i++) {
      out[2 * i] = left[i]!;
      out[2 * i + 1] = right[i]!;
    }
    return out;
  }
}
