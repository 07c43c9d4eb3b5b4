import { existsSync } from "node:fs";

/** What `send` streams, as ffmpeg is to open it. */
export interface SourceChoice {
  input: string;
  inputFormat?: string;
  inputOptions: [string, string][];
  /** Arrives in real time by itself (a camera, a network stream): never paced again. */
  live: boolean;
  /** A local file that must exist before ffmpeg is asked. */
  isFile: boolean;
  /** How the summary names it. */
  label: string;
  /** Where its sound comes from, as ffmpeg is to open it (undefined: no sound is taken from this kind of source). */
  sound: SoundInput | undefined;
}

export interface SoundInput {
  input: string;
  inputFormat?: string;
  inputOptions: [string, string][];
}

export interface SourceRequest {
  positional?: string;
  inputFormat?: string;
  inputOptions: string[];
  camera: boolean;
  testPattern: boolean;
  platform: NodeJS.Platform;
  /** Whether ./video.mp4 is there to fall back on. */
  defaultVideoExists: boolean;
}

/** Input formats that are devices or screens: they deliver frames in real time. */
const LIVE_FORMATS = new Set(["v4l2", "video4linux2", "avfoundation", "dshow", "vfwcap", "x11grab", "gdigrab", "kmsgrab", "fbdev", "decklink"]);
/** URL schemes of streams that arrive in real time. */
const LIVE_SCHEMES = new Set(["rtsp", "rtsps", "rtmp", "rtmps", "udp", "rtp", "srt", "tcp"]);

export const TEST_PATTERN = "testsrc2=size=1280x720:rate=30";
/** The test pattern's sound: a 100 ms 1 kHz beep at the start of every second, as testsrc2's counter turns. */
export const TEST_TONE = "aevalsrc=if(lt(mod(t\\,1)\\,0.1)\\,0.5*sin(2*PI*1000*t)\\,0):s=48000";

export class SourceChoiceError extends Error {}

/** Turns `send`'s source options into what ffmpeg opens, or says how to pick one. Pure. */
export function chooseSource(request: SourceRequest): SourceChoice {
  const picked = [request.positional !== undefined, request.camera, request.testPattern].filter(Boolean).length;
  if (picked > 1) throw new SourceChoiceError("give one source: a FILE or URL, --camera, or --test-pattern");
  const inputOptions = request.inputOptions.map((text): [string, string] => {
    const match = /^([A-Za-z0-9_:]+)=(.*)$/.exec(text);
    if (!match) throw new SourceChoiceError(`--input-option must be KEY=VALUE (e.g. video_size=1280x720), got "${text}"`);
    return [match[1]!, match[2]!];
  });
  if (request.testPattern) {
    return { input: TEST_PATTERN, inputFormat: "lavfi", inputOptions, live: false, isFile: false, label: "test pattern", sound: { input: TEST_TONE, inputFormat: "lavfi", inputOptions: [] } };
  }
  if (request.camera) {
    const camera = defaultCamera(request.platform);
    // A microphone is a second device per platform (ALSA/Pulse, avfoundation ":0", dshow "audio=NAME"): not opened yet.
    return { ...camera, inputOptions, live: true, isFile: false, label: `camera ${camera.input}`, sound: undefined };
  }
  if (request.positional === undefined && !request.defaultVideoExists) {
    throw new SourceChoiceError("no FILE given and no ./video.mp4 here: name a video file or URL, or use --camera or --test-pattern");
  }
  const input = request.positional ?? "video.mp4";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1]?.toLowerCase();
  const live = (request.inputFormat !== undefined && LIVE_FORMATS.has(request.inputFormat)) || (scheme !== undefined && LIVE_SCHEMES.has(scheme));
  const isFile = request.inputFormat === undefined && scheme === undefined;
  return { input, inputFormat: request.inputFormat, inputOptions, live, isFile, label: input, sound: { input, inputFormat: request.inputFormat, inputOptions } };
}

/** The platform's default camera as ffmpeg names it. */
function defaultCamera(platform: NodeJS.Platform): { input: string; inputFormat: string } {
  if (platform === "linux") {
    if (!existsSync("/dev/video0")) throw new SourceChoiceError("no camera found (/dev/video0 does not exist); name another device with --input-format v4l2 /dev/videoN");
    return { input: "/dev/video0", inputFormat: "v4l2" };
  }
  if (platform === "darwin") return { input: "0", inputFormat: "avfoundation" };
  if (platform === "win32") {
    throw new SourceChoiceError('on Windows, name the camera: --input-format dshow "video=NAME" (list them with: ffmpeg -list_devices true -f dshow -i dummy)');
  }
  throw new SourceChoiceError(`--camera does not know this platform (${platform}); give the device with --input-format`);
}
