import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { openNativeLibrary } from "./native-parts.ts";

/*
 * libopus's decoder through bun:ffi: packets to interleaved float samples,
 * and its packet-loss concealment. A thin shell: it loads the library and
 * makes the calls; decoder/opus-decoder.ts decides what to do with them and
 * falls back to the WebAssembly build where this cannot load. A compiled
 * binary carries its own build (scripts/build-opus.ts); a clone uses the
 * system's libopus (Debian's libopus0, which its ffmpeg needs anyway).
 */

/** OPUS_OK; errors are negative (OPUS_BAD_ARG -1 … OPUS_ALLOC_FAIL -7). */
const OPUS_OK = 0;
/** The longest packet libopus decodes: 120 ms at 48 kHz, samples a channel. */
const OPUS_MAX_PACKET_SAMPLES = 5760;
/** RFC 6716 §3.4 [R2]: no packet is longer (longer ones are refused unread). */
const OPUS_MAX_PACKET_BYTES = 1275 * 3 + 7;

const SYMBOLS = {
  opus_decoder_create: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.ptr },
  // (decoder, data or NULL for concealment, length, pcm out, frame size a channel, decode FEC) → samples a channel or an error
  opus_decode_float: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  opus_decoder_destroy: { args: [FFIType.ptr], returns: FFIType.void },
  opus_get_version_string: { args: [], returns: FFIType.cstring },
} as const;

type Library = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export class NativeOpusError extends Error {}

/** Where a clone looks for the system's library: Debian's soname, then Homebrew's, then a DLL beside the program. */
function systemCandidates(): string[] {
  if (process.platform === "darwin") return ["/opt/homebrew/opt/opus/lib/libopus.0.dylib", "/usr/local/opt/opus/lib/libopus.0.dylib", "libopus.0.dylib"];
  if (process.platform === "win32") return ["opus.dll", "libopus-0.dll"];
  return ["libopus.so.0", "libopus.so"];
}

/**
 * One libopus decoder at 48 kHz for a fixed number of output channels
 * (libopus turns a mono packet into stereo and back by itself). Synchronous:
 * a packet decodes on the calling thread in some 0.05 ms.
 */
export class NativeOpusDecoder {
  private decoder: Pointer | null;
  /** libopus writes here; what decode and conceal return is a view of it. */
  private readonly pcm: Float32Array;
  private readonly error = new Int32Array(1);

  private constructor(
    private readonly lib: Library,
    private readonly channels: number,
    /** Where the library came from: "embedded" or the name it was loaded by. */
    readonly origin: string,
  ) {
    this.pcm = new Float32Array(OPUS_MAX_PACKET_SAMPLES * channels);
    this.decoder = lib.opus_decoder_create(48_000, channels, ptr(this.error)) as Pointer | null;
    if (!this.decoder || this.error[0] !== OPUS_OK) throw new NativeOpusError(`libopus could not make a decoder (error ${this.error[0]})`);
  }

  /** Loads the binary's own libopus, or in a clone the system's; throws with the reason when there is none. */
  static load(channels: number): NativeOpusDecoder {
    const opened = openNativeLibrary("opus", systemCandidates(), (path) => dlopen(path, SYMBOLS).symbols, (why) => new NativeOpusError(`no libopus (${why})`));
    return new NativeOpusDecoder(opened.library, channels, opened.origin);
  }

  get version(): string {
    return String(this.lib.opus_get_version_string());
  }

  /** A packet's samples, interleaved: a view of the decoder's own buffer, good until the next call; throws on a packet libopus refuses. */
  decode(packet: Uint8Array): Float32Array {
    if (packet.length === 0 || packet.length > OPUS_MAX_PACKET_BYTES) throw new NativeOpusError(`an Opus packet of ${packet.length} bytes`);
    // ptr() points at the view's own first byte (its offset in a larger buffer included): no copy needed.
    return this.run(ptr(packet), packet.length, OPUS_MAX_PACKET_SAMPLES);
  }

  /** `samples` (a multiple of 2.5 ms: 120 at 48 kHz) of concealment, predicted from the sound before the gap. */
  conceal(samples: number): Float32Array {
    return this.run(null, 0, samples);
  }

  close(): void {
    if (this.decoder) this.lib.opus_decoder_destroy(this.decoder);
    this.decoder = null;
  }

  private run(data: Pointer | null, length: number, frameSize: number): Float32Array {
    if (!this.decoder) throw new NativeOpusError("the decoder is closed");
    const decoded = this.lib.opus_decode_float(this.decoder, data, length, ptr(this.pcm), Math.min(frameSize, OPUS_MAX_PACKET_SAMPLES), 0);
    if (decoded < 0) throw new NativeOpusError(`libopus refused the packet (error ${decoded})`);
    // A view, not a copy: the receiver queues a packet's samples before the next is decoded (a copy a packet showed in its profile).
    return this.pcm.subarray(0, decoded * this.channels);
  }
}
