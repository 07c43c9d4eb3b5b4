// A namespace import: Bun's bundler, given the package's named import, drops
// its web-worker class but keeps a reference to it, and the compiled binary
// failed at start ("OpusDecoderWebWorker is not defined").
import * as opus from "opus-decoder";
import { AUDIO_SAMPLE_RATE } from "../source/ffmpeg-audio-source.ts";
import { NativeOpusDecoder } from "../native/opus.ts";

/** The device's layout: stereo, whatever the stream has (mono is played on both sides). */
export const OUTPUT_CHANNELS = 2;

/** Which decoder is in use, for --json: libopus native (the binary's own or the system's), or its WebAssembly build. */
export interface OpusDecoderInfo {
  name: "libopus" | "libopus-wasm";
  /** "embedded", the library's name, or "opus-decoder" (the npm package); why the native one did not load, if it did not. */
  detail: string;
}

/** What both backends do: a packet to interleaved stereo (throws on one refused), and `samples` of concealment. */
interface OpusBackend {
  decode(packet: Uint8Array): Float32Array;
  conceal(samples: number): Float32Array;
  close(): void;
}

/** libopus's concealment comes in steps of 2.5 ms (120 samples at 48 kHz). */
const CONCEAL_STEP = 120;

/**
 * Opus packets to 48 kHz stereo float samples, interleaved. Native libopus
 * where it loads (the binary carries it; a clone uses the system's): in a
 * live receiver a packet took it 0.10-0.12 ms, against 0.20-0.24 through
 * the WebAssembly build of the `opus-decoder` package, which stays the
 * fallback since it runs everywhere with nothing to load. Never throws on a
 * packet: one the decoder refuses (hostile, or cut) is concealed instead.
 */
export class OpusPacketDecoder {
  readonly stats = { decoded: 0, concealed: 0, refused: 0 };

  private constructor(
    private readonly backend: OpusBackend,
    readonly info: OpusDecoderInfo,
  ) {}

  /** libopus decodes mono and stereo packets alike to the stereo it was opened for. UDPVID_OPUS=wasm forces the WebAssembly build. */
  static async open(): Promise<OpusPacketDecoder> {
    let why = "UDPVID_OPUS=wasm";
    if (process.env.UDPVID_OPUS !== "wasm") {
      try {
        const native = NativeOpusDecoder.load(OUTPUT_CHANNELS);
        return new OpusPacketDecoder(native, { name: "libopus", detail: native.origin });
      } catch (error) {
        why = (error as Error).message;
      }
    }
    return new OpusPacketDecoder(await WasmOpus.open(), { name: "libopus-wasm", detail: `opus-decoder (${why})` });
  }

  /** One packet's samples, interleaved stereo, good until the next decode or conceal (copy them to keep them); `durationSamples` of concealment if the decoder refuses it. */
  decode(packet: Uint8Array, durationSamples: number): Float32Array {
    try {
      const samples = this.backend.decode(packet);
      this.stats.decoded++;
      return samples;
    } catch {
      this.stats.refused++;
      return this.conceal(durationSamples);
    }
  }

  /**
   * `samples` of libopus's packet-loss concealment: what the decoder
   * predicts from the sound before the gap (it fades to silence over a
   * long gap). Silence if the decoder cannot. Good until the next call, as decode's.
   */
  conceal(samples: number): Float32Array {
    this.stats.concealed++;
    try {
      const wanted = Math.ceil(samples / CONCEAL_STEP) * CONCEAL_STEP;
      const concealed = this.backend.conceal(wanted);
      if (concealed.length >= samples * OUTPUT_CHANNELS) return concealed.subarray(0, samples * OUTPUT_CHANNELS);
    } catch {
      // Silence below.
    }
    return new Float32Array(samples * OUTPUT_CHANNELS);
  }

  close(): void {
    this.backend.close();
  }
}

/** The `opus-decoder` package's libopus, compiled to WebAssembly. */
class WasmOpus implements OpusBackend {
  private constructor(private readonly decoder: opus.OpusDecoder<typeof AUDIO_SAMPLE_RATE>) {}

  static async open(): Promise<WasmOpus> {
    const decoder = new opus.OpusDecoder({ channels: OUTPUT_CHANNELS, sampleRate: AUDIO_SAMPLE_RATE, preSkip: 0 });
    await decoder.ready;
    return new WasmOpus(decoder);
  }

  decode(packet: Uint8Array): Float32Array {
    const { channelData, samplesDecoded, errors } = this.decoder.decodeFrame(packet);
    if (errors.length > 0 || samplesDecoded === 0) throw new Error("refused");
    return interleave(channelData, samplesDecoded);
  }

  /** It conceals a whole 120 ms for a missing packet, whatever is asked: the first `samples` of it are used. */
  conceal(samples: number): Float32Array {
    const { channelData, samplesDecoded } = this.decoder.decodeFrame(new Uint8Array(0));
    return interleave(channelData, Math.min(samples, samplesDecoded));
  }

  close(): void {
    this.decoder.free();
  }
}

function interleave(channelData: Float32Array[], samples: number): Float32Array {
  const out = new Float32Array(samples * OUTPUT_CHANNELS);
  const left = channelData[0]!;
  const right = channelData[1] ?? left;
  for (let i = 0; i < samples; i++) {
    out[2 * i] = left[i]!;
    out[2 * i + 1] = right[i]!;
  }
  return out;
}
