import type { Picture } from "../decoder/picture.ts";
import type { SdlWindowDisplay } from "../display/sdl-window.ts";
import type { StreamReadout } from "../display/stream-readout.ts";
import { Viewer } from "../display/viewer.ts";
import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";
import type { AssembledFrame } from "../reassembler/datagram-reassembler.ts";
import { openRecorder, type Recorder } from "../recorder/recorder.ts";
import { pictureDueMs } from "../session/picture-due.ts";
import { PlayoutClock } from "../session/playout-clock.ts";
import type { PictureClock } from "../session/receive-session.ts";
import { SoundOutput } from "../speaker/sound-output.ts";
import { wallClockUs } from "../util/terminal.ts";
import { WebOutput, type WebOptions } from "../web/web-output.ts";

export interface OutputOptions {
  headless: boolean;
  /** Play the sound (a window always does; --headless only with --audio). */
  audio: boolean;
  record?: string;
  /** --web: browsers watch too. */
  web?: WebOptions;
  json: boolean;
}

/**
 * Where a receive session's picture and sound go: the window (and its
 * keys), the speaker, the recording, the browsers. Each is there or not as
 * the options say; the session hands frames and sound to all of them
 * through here.
 */
export class ReceiveOutputs {
  private viewer: Viewer | undefined;
  private release: (picture: Picture) => void = () => {};

  private constructor(
    private readonly display: SdlWindowDisplay | undefined,
    readonly sound: SoundOutput | undefined,
    private readonly playoutClock: PlayoutClock,
    private readonly recorder: Recorder | undefined,
    readonly web: WebOutput | undefined,
  ) {}

  /** Opens what the options ask for; `quit` is called when the user asks to (a key, the window closed). */
  static async open(options: OutputOptions, quit: () => void): Promise<ReceiveOutputs> {
    const playoutClock = new PlayoutClock({ marginMs: SoundOutput.playoutMarginMs });
    const sound = options.audio ? new SoundOutput(playoutClock, wallClockUs, options.json ? console.error : console.warn) : undefined;
    let outputs: ReceiveOutputs | undefined;
    let display: SdlWindowDisplay | undefined;
    if (!options.headless) {
      const { SdlWindowDisplay } = await import("../display/sdl-window.ts");
      display = await SdlWindowDisplay.open(
        (key) => {
          if (key === "quit") quit();
          else if (key === "mute") sound?.toggleMute();
          else if (key === "louder" || key === "quieter") sound?.changeVolume(key === "louder" ? 1 : -1);
          else outputs?.viewer?.key(key);
        },
        () => outputs?.viewer?.resized(),
      );
    }
    // After the window: a window that cannot open leaves no recording's ffmpeg or web server behind it.
    let recorder: Recorder | undefined;
    let web: WebOutput | undefined;
    try {
      web = options.web ? WebOutput.open(options.web) : undefined;
      recorder = options.record ? openRecorder(options.record) : undefined;
    } catch (error) {
      web?.close(false);
      display?.close();
      throw error;
    }
    await sound?.preload();
    return (outputs = new ReceiveOutputs(display, sound, playoutClock, recorder, web));
  }

  /**
   * With sound playing (or its device opening), each frame is shown when
   * its sound is heard (as queued; before that, at its playout time on the
   * sound's clock), and its readiness widens the clock's allowance (the
   * sound waits for the picture as much as the picture for the sound);
   * without, at once (undefined). Drawing takes time before the picture
   * is on the screen: a frame is handed over that much earlier.
   */
  get pictureClock(): PictureClock | undefined {
    const { sound, playoutClock } = this;
    if (!sound) return undefined;
    const drawMs = () => this.display?.drawMs ?? 0;
    return {
      frameReady: (captureUs, nowMs) => {
        if (!sound.leadsPicture(nowMs)) return;
        playoutClock.pictureReady(captureUs, nowMs + drawMs());
        // A frame ready may be shown at once: the sound it goes with must be queued by then, timer or not.
        sound.tickIfLate();
      },
      dueMs: (captureUs, nowMs) => {
        if (!sound.leadsPicture(nowMs)) return undefined;
        // Asked as a frame's time comes: the sound it goes with is queued first, timer or not.
        sound.tickIfLate();
        const position = { heardMs: sound.heardAtMs(captureUs, nowMs), playoutMs: playoutClock.playoutMs(captureUs), startPending: sound.startPending(nowMs) };
        return pictureDueMs(position, nowMs, drawMs());
      },
    };
  }

  /** Whether the outputs take YUV planes (a window with its IYUV texture, or none at all: nothing decoded is looked at). */
  get takesI420(): boolean {
    return this.display === undefined || this.display.takesI420;
  }

  /** The socket is open: the window's waiting card can say where to send. */
  listening(port: number, reachAt: string | undefined): void {
    if (this.display) this.viewer = new Viewer(this.display, port, reachAt, undefined, this.web?.cardUrl);
  }

  /** Where pictures go once nothing here looks at them, for their buffers to be decoded into again. */
  recyclePicturesWith(release: (picture: Picture) => void): void {
    this.release = release;
  }

  show(frame: AssembledFrame, image: Picture): void {
    this.recorder?.addPicture({ jpeg: frame.jpeg, width: image.width, height: image.height, captureTimeUs: frame.captureTimeUs ?? wallClockUs() });
    const viewer = this.viewer;
    if (!viewer) {
      this.release(image);
      return;
    }
    // The window keeps the frame on show for redraws, and lets go of the one before (or of this one, while frozen).
    const before = viewer.currentFrame;
    viewer.showFrame(image);
    const now = viewer.currentFrame;
    if (now !== image) this.release(image);
    if (before && before !== now) this.release(before);
  }

  /** A decoded frame, before it waits for its time: the window's first draw at its size is done ahead (see Viewer.prepare). */
  prepare(image: Picture): void {
    this.viewer?.prepare(image);
  }

  /** A whole frame, before decoding: the browsers take its JPEG as it is, at once (they decode it themselves). */
  assembled(frame: AssembledFrame, nowMs: number): void {
    this.web?.show(frame, nowMs);
  }

  heard(audio: ReceivedAudio, nowMs: number): void {
    this.recorder?.addSound(audio);
    this.sound?.received(audio, nowMs);
    this.web?.heard(audio);
  }

  get isFrozen(): boolean {
    return this.viewer?.isFrozen ?? false;
  }

  /** Every housekeeping tick: the sound queued, the browsers that can take a frame given it. */
  tick(nowMs: number): void {
    this.sound?.tick();
    this.web?.tick(nowMs);
  }

  /** About twice a second: the window's title and overlay, the browsers' overlays. */
  update(readout: StreamReadout): void {
    this.viewer?.update(readout);
    this.web?.update(readout);
  }

  /** A stream that ended plays out its last sound; one the user quit goes silent at once. The recording is finished. */
  async close(playOut: boolean): Promise<void> {
    this.web?.close(playOut);
    await this.sound?.ready();
    if (playOut) await this.sound?.drain();
    this.sound?.close();
    try {
      await this.recorder?.close();
    } finally {
      this.display?.close();
    }
  }

  get recorded(): { recorded: number; recordedSoundPackets: number } {
    return { recorded: this.recorder?.framesWritten ?? 0, recordedSoundPackets: this.recorder?.soundPacketsWritten ?? 0 };
  }
}
