import { EMBEDDED } from "../native/embedded.ts";
import { withNativeStderrQuiet } from "../display/quiet-native-stderr.ts";
import { OUTPUT_CHANNELS } from "../decoder/opus-decoder.ts";
import { AUDIO_SAMPLE_RATE } from "../source/ffmpeg-audio-source.ts";

/**
 * Samples the device takes at a time (SDL takes powers of two): 10.7 ms at
 * 48 kHz, within the ~40 ms the queue holds ahead. When the device takes
 * the next one is not known, so a sample is heard up to half a buffer from
 * when it is reckoned. 256 halved that, but doubled what the sound costs
 * the receiver in bench:av (1.8% of a core to 3.6%: SDL's disk driver
 * writes each buffer out), past the 2% the sound may cost. (The disk
 * driver sleeps whole ms per buffer, so it runs a few % off, more under
 * load: the playout keeps it in time at quiet moments.)
 */
export const DEVICE_BUFFER_SAMPLES = 512;
const BYTES_PER_FRAME = 4 * OUTPUT_CHANNELS;
/** Drivers with no device behind them (see latencyMs). */
const TAKEN_AS_PLAYED = new Set(["disk", "dummy"]);

/** Why there is no sound output, in one line for the user. */
export class SpeakerUnavailableError extends Error {}

/**
 * The sound device, through SDL's audio (the library the window already
 * loads): 48 kHz stereo float samples queued and played as they come. A thin
 * shell: when to queue what is AudioPlayout's; the volume is applied here.
 */
export class SdlSpeaker {
  private gain = 1;
  private muted = false;

  private constructor(
    private readonly device: import("@kmamal/sdl").Sdl.Audio.AudioPlaybackInstance,
    /** SDL's audio driver in use ("pulseaudio", "alsa", "wasapi", "disk", ...). */
    readonly driver: string,
  ) {}

  /**
   * Loads SDL (a no-op where the window already has): loading it when the
   * first sound arrives held the receiver up for tens of ms, and the sound
   * that waited in the socket meanwhile looked late.
   */
  static async load(): Promise<typeof import("@kmamal/sdl")> {
    if (EMBEDDED && !EMBEDDED.parts.sdl) throw new SpeakerUnavailableError(`this udpvid (${EMBEDDED.target}) carries no SDL, so no sound output`);
    try {
      return await withNativeStderrQuiet(() => import("@kmamal/sdl"));
    } catch (error) {
      throw new SpeakerUnavailableError(`cannot load SDL for sound (${firstLine(error)})`);
    }
  }

  static async open(): Promise<SdlSpeaker> {
    const sdl = await SdlSpeaker.load();
    if (sdl.info.drivers.audio.current === null) throw new SpeakerUnavailableError("no sound device (SDL has no audio driver here)");
    try {
      const options = { channels: OUTPUT_CHANNELS, frequency: AUDIO_SAMPLE_RATE, format: "f32", buffered: DEVICE_BUFFER_SAMPLES } as const;
      // SDL logs its drivers' chatter (the disk driver's "CRITICAL" notice) on stderr as it opens one.
      const device = await withNativeStderrQuiet(async () => sdl.audio.openDevice({ type: "playback" }, options));
      device.play();
      return new SdlSpeaker(device, sdl.info.drivers.audio.current);
    } catch (error) {
      throw new SpeakerUnavailableError(`cannot open a sound device (${firstLine(error)})`);
    }
  }

  /** How long a sound card holds a sample it took from the queue before it is heard (before one is open: see latencyMs). */
  static get latencyMs(): number {
    return (1.5 * DEVICE_BUFFER_SAMPLES * 1000) / AUDIO_SAMPLE_RATE;
  }

  /**
   * How long after the head of the queue this device plays it, on average:
   * the device takes the next buffer once the one playing is done (half a
   * buffer from now, on average), and a sound card then plays it after the
   * one it already holds (a buffer more). SDL's disk and dummy drivers
   * "play" a buffer as they take it (the disk driver writes it out, then
   * sleeps as long as it lasts): half a buffer. (Counting a card's buffer
   * against them put the picture that much behind the sound in bench:av.)
   */
  get latencyMs(): number {
    const buffer = (DEVICE_BUFFER_SAMPLES * 1000) / AUDIO_SAMPLE_RATE;
    return TAKEN_AS_PLAYED.has(this.driver) ? buffer / 2 : SdlSpeaker.latencyMs;
  }

  /** Samples (per channel) queued in all so far. */
  written = 0;

  /** Samples (per channel) still queued. */
  get queued(): number {
    return this.device.queued / BYTES_PER_FRAME;
  }

  /** Queues interleaved stereo samples, at the current volume. */
  write(samples: Float32Array): void {
    // SDL refuses an empty write (a packet trimmed to its last sample can resample to none), and a throw here would end the receiver.
    if (samples.length === 0) return;
    this.written += samples.length / OUTPUT_CHANNELS;
    const gain = this.muted ? 0 : this.gain;
    if (gain !== 1) for (let i = 0; i < samples.length; i++) samples[i] = samples[i]! * gain;
    this.device.enqueue(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  /** Volume, 0 to 1 (the stream's own level at 1). */
  get volume(): number {
    return this.gain;
  }

  set volume(value: number) {
    this.gain = Math.min(1, Math.max(0, value));
  }

  get isMuted(): boolean {
    return this.muted;
  }

  set isMuted(value: boolean) {
    this.muted = value;
  }

  close(): void {
    if (!this.device.closed) this.device.close();
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
