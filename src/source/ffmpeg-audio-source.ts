import { isOpusTags, OggFormatError, OggPacketReader, opusPacketSamples, parseOpusHead, type OpusHead } from "./ogg-opus.ts";
import { SourceError } from "./ffmpeg-source.ts";

/** Opus at about 96 kbit/s in 20 ms packets: transparent for speech and music, one packet a datagram. */
export const AUDIO_BITRATE = "96k";
export const AUDIO_FRAME_MS = 20;
/**
 * libopus's encoder complexity (0-10, 10 by default). 5 encoded the bench's
 * 30 s clip in 0.20 s of CPU against 10's 0.30 s (a third of a point of a
 * core, of the 2 the sound may cost), within 0.1 dB of 10's SNR on that
 * clip and on pink noise with a tone (96 kbit/s, CELT only: lowdelay).
 */
const OPUS_COMPLEXITY = "5";
export const AUDIO_SAMPLE_RATE = 48_000;

export interface AudioSourceOptions {
  ffmpeg: string;
  input: string;
  inputFormat?: string;
  inputOptions?: [string, string][];
  loop?: boolean;
  /** Which of the input's audio streams (0: the first). */
  audioStream: number;
  /** ffmpeg's libopus, or its own Opus encoder where libopus is missing. */
  encoder: "libopus" | "opus";
}

/** One Opus packet from the source, placed on the source's own timeline. */
export interface SourceAudioPacket {
  data: Uint8Array;
  /** Its first sample, in 48 kHz samples from the start of the source (negative for the encoder's pre-skip). */
  startSample: number;
  durationSamples: number;
}

/** ffmpeg's arguments: the chosen audio stream, 48 kHz, mono kept mono and more than two channels folded to stereo, Opus in Ogg. */
export function audioArgs(options: AudioSourceOptions): string[] {
  return [
    options.ffmpeg,
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "error",
    ...(options.loop ? ["-stream_loop", "-1"] : []),
    ...(options.inputOptions ?? []).flatMap(([key, value]) => [`-${key}`, value]),
    ...(options.inputFormat ? ["-f", options.inputFormat] : []),
    "-i",
    options.input,
    "-map",
    `0:a:${options.audioStream}`,
    "-af",
    `aresample=${AUDIO_SAMPLE_RATE},aformat=sample_rates=${AUDIO_SAMPLE_RATE}:channel_layouts=mono|stereo`,
    "-c:a",
    options.encoder,
    ...(options.encoder === "opus" ? ["-strict", "-2"] : ["-application", "lowdelay", "-compression_level", OPUS_COMPLEXITY]),
    "-b:a",
    AUDIO_BITRATE,
    "-frame_duration",
    String(AUDIO_FRAME_MS),
    "-f",
    "ogg",
    "pipe:1",
  ];
}

/**
 * A source's sound, decoded and encoded to Opus by an ffmpeg child: packets
 * as ffmpeg makes them (faster than real time for a file; the sender paces
 * them on the picture's clock).
 */
export class FfmpegAudioSource {
  private constructor(
    readonly head: OpusHead,
    private readonly process: Bun.Subprocess<"ignore", "pipe", "pipe">,
    private readonly reader: OggPacketReader,
    private readonly waiting: Uint8Array[],
    private readonly stderr: Promise<string>,
  ) {}

  /** Starts ffmpeg and reads as far as the Opus header; refuses, with ffmpeg's reason, a source without that audio stream. */
  static async open(options: AudioSourceOptions): Promise<FfmpegAudioSource> {
    const child = Bun.spawn(audioArgs(options), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const stderr = new Response(child.stderr).text();
    const stdout = child.stdout.getReader();
    const reader = new OggPacketReader();
    const waiting: Uint8Array[] = [];
    for (;;) {
      const { value, done } = await stdout.read();
      if (done) {
        await child.exited;
        const log = (await stderr).trim();
        if (/matches no streams/.test(log)) throw new SourceError(`${options.input} has no audio stream ${options.audioStream}`);
        throw new SourceError(`cannot encode the sound of ${options.input}: ${log.split("\n").slice(-2).join(" ") || `ffmpeg exited with code ${child.exitCode}`}`);
      }
      waiting.push(...readPackets(reader, value));
      const head = waiting.length > 0 ? parseOpusHead(waiting[0]!) : undefined;
      if (waiting.length > 0 && !head) throw new SourceError("ffmpeg's Opus stream does not start with an OpusHead");
      if (head) {
        stdout.releaseLock();
        return new FfmpegAudioSource(head, child, reader, waiting.slice(1), stderr);
      }
    }
  }

  /** The packets with their place on the source's timeline, until the source ends; throws if ffmpeg fails. Leaving early stops ffmpeg. */
  async *packets(): AsyncGenerator<SourceAudioPacket> {
    let sample = -this.head.preSkip;
    const place = function* (packets: Uint8Array[]): Generator<SourceAudioPacket> {
      for (const data of packets) {
        if (isOpusTags(data)) continue;
        const durationSamples = opusPacketSamples(data);
        if (durationSamples === undefined) throw new SourceError("ffmpeg produced a packet that is not Opus");
        yield { data, startSample: sample, durationSamples };
        sample += durationSamples;
      }
    };
    const stdout = this.process.stdout.getReader();
    try {
      yield* place(this.waiting.splice(0));
      for (let read = await stdout.read(); !read.done; read = await stdout.read()) yield* place(readPackets(this.reader, read.value));
    } finally {
      this.close();
      stdout.cancel().catch(() => {});
    }
    const exitCode = await this.process.exited;
    if (exitCode !== 0 && !this.process.killed) throw new SourceError(`ffmpeg's sound failed: ${(await this.stderr).trim().split("\n").slice(-2).join(" ") || `exit code ${exitCode}`}`);
  }

  close(): void {
    if (this.process.exitCode === null) this.process.kill();
  }
}

function readPackets(reader: OggPacketReader, bytes: Uint8Array): Uint8Array[] {
  try {
    return reader.push(bytes);
  } catch (error) {
    if (error instanceof OggFormatError) throw new SourceError(`ffmpeg's Opus stream is not Ogg: ${error.message}`);
    throw error;
  }
}
