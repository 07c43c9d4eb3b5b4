import type { SoundRideAlong } from "../pacer/sound-ride-along.ts";
import type { OutgoingAudio } from "../session/audio-track.ts";
import { FfmpegAudioSource } from "../source/ffmpeg-audio-source.ts";
import { SourceError } from "../source/ffmpeg-source.ts";
import type { SourceChoice } from "../source/source-choice.ts";
import type { SendPipeline } from "../session/send-pipeline.ts";
import type { FanOutSender } from "../socket/fan-out-sender.ts";
import { UsageError } from "./command-line.ts";

/*
 * The send side's sound, at the edge: which of the source's audio streams
 * goes (if any), the ffmpeg that encodes it, and the loop that puts each
 * packet on the socket at its due time. What a packet carries and when it
 * is due is SendPipeline's (pure); this file only waits and sends.
 */

export interface SoundRequest {
  source: SourceChoice;
  /** --audio-stream N; undefined: the first, if there is one. */
  audioStream: number | undefined;
  /** --no-audio. */
  noAudio: boolean;
  loop: boolean;
  /** Sound goes only where the picture is paced on the source's clock (a file, the test pattern); why not, otherwise. */
  unpacedReason: string | undefined;
  /** Whether the protocol can carry sound; why not, otherwise. */
  protocolReason: string | undefined;
}

/** The sound source to stream, or undefined (with the one line to say, if any) when there is none. */
export async function openSound(request: SoundRequest, ffmpeg: string, say: (line: string) => void): Promise<FfmpegAudioSource | undefined> {
  if (request.noAudio) return undefined;
  const explicit = request.audioStream !== undefined;
  const refuse = (why: string) => {
    if (explicit) throw new UsageError(`--audio-stream: ${why}`);
    return undefined;
  };
  if (request.protocolReason) return refuse(request.protocolReason);
  const sound = request.source.sound;
  // A camera or a live stream would have sound a user expects to hear: say plainly that it does not go.
  const plainly = (why: string) => {
    if (!explicit) say(`udpvid send: the picture only: ${why}`);
    return refuse(why);
  };
  if (!sound) return plainly("a camera's microphone is not opened yet (sound goes from files and --test-pattern)");
  if (request.source.live) return plainly("a live source's sound is not streamed yet (sound goes from files and --test-pattern)");
  if (request.unpacedReason) return refuse(request.unpacedReason);
  const { input, inputFormat, inputOptions } = sound;
  const open = (encoder: "libopus" | "opus") =>
    FfmpegAudioSource.open({ ffmpeg, input, inputFormat, inputOptions, loop: request.loop, audioStream: request.audioStream ?? 0, encoder });
  try {
    return await open("libopus");
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    if (/has no audio stream/.test(error.message)) return refuse(error.message);
    if (!/libopus/i.test(error.message)) {
      if (explicit) throw error;
      say(`udpvid send: streaming the picture without sound: ${error.message}`);
      return undefined;
    }
  }
  // An ffmpeg built without libopus still has its own Opus encoder.
  say(`udpvid send: this ffmpeg has no libopus; encoding the sound with ffmpeg's own Opus encoder`);
  return open("opus");
}

/**
 * Each sound packet to the receivers at its due time, once the picture's
 * clock has started (`start.clock`), until the source ends or `signal`
 * aborts; the first one goes ahead of the first frame, which waits for it
 * (StartOrder). Sound never waits behind a frame's bulk in the pacer: it
 * goes on its own timer, or a little early at the head of a picture batch
 * that `rideAlong` lets take it.
 */
export async function streamSound(
  source: FfmpegAudioSource,
  pipeline: SendPipeline,
  sender: FanOutSender,
  rideAlong: SoundRideAlong,
  start: StartOrder,
  signal: AbortSignal,
): Promise<void> {
  const stop = () => source.close();
  signal.addEventListener("abort", stop);
  try {
    await start.clock;
    for await (const packet of source.packets()) {
      if (signal.aborted) break;
      const outgoing = pipeline.audio(packet);
      if (!outgoing) break;
      const left = await dueOrTakenAlong(outgoing, rideAlong);
      if (left) await sender.send(left);
      start.soundGone(); // the first packet's: the first frame may go (again later: nothing)
    }
    const last = pipeline.audioEnded();
    if (last.length > 0 && !signal.aborted) await sender.send(last);
  } catch (error) {
    // Stopped by the user, ffmpeg is killed mid-packet: nothing to report. The sound's ffmpeg failing mid-stream
    // ends the sound, said once; the picture goes on.
    if (signal.aborted) return;
    if (!(error instanceof SourceError)) throw error;
    console.error(`udpvid send: the sound stopped (${error.message}); the picture goes on`);
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** The first frame waits at most this long for the first sound packet to go ahead of it (a sound source slow to start does not hold the picture). */
const FIRST_SOUND_WAIT_MS = 100;

/**
 * The order a stream starts in. The first frame starts the stream's clock
 * (sound is placed on it, so none goes before); then the first sound packet
 * goes ahead of that frame: a receiver that sees a frame before any sound
 * cannot know sound is coming and shows it at once (bench:av: its flash
 * 120 ms ahead of its beep).
 */
export class StartOrder {
  private started!: () => void;
  private gone!: () => void;
  private waited = false;
  /** Resolves once the first frame has started the clock (or the picture ended without one). */
  readonly clock = new Promise<void>((resolve) => (this.started = resolve));
  private readonly soundFirst: Promise<void>;

  constructor(carriesSound: boolean) {
    this.soundFirst = new Promise<void>((resolve) => (this.gone = resolve));
    if (!carriesSound) this.gone();
  }

  clockStarted(): void {
    this.started();
  }

  /** The first sound packet went (or the sound ended without one). */
  soundGone(): void {
    this.gone();
  }

  /** Waits, before a frame goes, for the first sound packet to have gone: at most FIRST_SOUND_WAIT_MS, and only once. */
  async frameMayGo(): Promise<void> {
    if (this.waited) return;
    this.waited = true;
    await Promise.race([this.soundFirst, Bun.sleep(FIRST_SOUND_WAIT_MS)]);
  }
}

/** Waits for the packet's due time, unless a picture batch takes it along first: the datagrams still to send (undefined: taken). */
function dueOrTakenAlong(outgoing: OutgoingAudio, rideAlong: SoundRideAlong): Promise<Uint8Array[] | undefined> {
  const waitMs = outgoing.dueMs - performance.now();
  if (waitMs <= 0) return Promise.resolve(outgoing.datagrams);
  return new Promise((resolve) => {
    // A cleared timer never fires: a packet taken along costs this process no wake-up of its own.
    const timer = setTimeout(() => resolve(rideAlong.release()), waitMs);
    rideAlong.hold(outgoing.datagrams, outgoing.dueMs, () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
