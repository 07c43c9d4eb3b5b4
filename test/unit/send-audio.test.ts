import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/commands/command-line.ts";
import { openSound, StartOrder, type SoundRequest } from "../../src/commands/send-audio.ts";
import { chooseSource } from "../../src/source/source-choice.ts";

// The refusals come before ffmpeg is asked: a path that is not an ffmpeg proves it.
const NO_FFMPEG = "/nonexistent/ffmpeg";

function request(fields: Partial<SoundRequest> & Pick<SoundRequest, "source">): SoundRequest {
  return { audioStream: undefined, noAudio: false, loop: false, unpacedReason: undefined, protocolReason: undefined, ...fields };
}

const camera = chooseSource({ inputOptions: [], camera: true, testPattern: false, platform: "darwin", defaultVideoExists: false });
const rtsp = chooseSource({ positional: "rtsp://camera.local/stream", inputOptions: [], camera: false, testPattern: false, platform: "linux", defaultVideoExists: false });
const file = chooseSource({ positional: "film.mp4", inputOptions: [], camera: false, testPattern: false, platform: "linux", defaultVideoExists: false });

describe("which sound goes with the picture", () => {
  test("--camera: the picture only, and said plainly in one line", async () => {
    const said: string[] = [];
    expect(await openSound(request({ source: camera }), NO_FFMPEG, (line) => said.push(line))).toBeUndefined();
    expect(said).toEqual(["udpvid send: the picture only: a camera's microphone is not opened yet (sound goes from files and --test-pattern)"]);
  });

  test("a live network source: the picture only, said plainly", async () => {
    const said: string[] = [];
    expect(await openSound(request({ source: rtsp }), NO_FFMPEG, (line) => said.push(line))).toBeUndefined();
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("a live source's sound is not streamed yet");
  });

  test("--audio-stream asks for sound that cannot go: a usage error naming why, nothing said besides", async () => {
    const said: string[] = [];
    const refused = openSound(request({ source: camera, audioStream: 0 }), NO_FFMPEG, (line) => said.push(line));
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(openSound(request({ source: camera, audioStream: 0 }), NO_FFMPEG, () => {})).rejects.toThrow("--audio-stream: a camera's microphone is not opened yet");
    await expect(openSound(request({ source: file, audioStream: 1, protocolReason: "the legacy protocol carries the picture only" }), NO_FFMPEG, () => {})).rejects.toThrow(
      "--audio-stream: the legacy protocol carries the picture only",
    );
    expect(said).toEqual([]);
  });

  test("--no-audio, the legacy protocol, --fps max: no sound, and nothing to say (the user chose it)", async () => {
    for (const fields of [{ noAudio: true }, { protocolReason: "the legacy protocol carries the picture only" }, { unpacedReason: "unpaced (--fps max)" }]) {
      const said: string[] = [];
      expect(await openSound(request({ source: file, ...fields }), NO_FFMPEG, (line) => said.push(line))).toBeUndefined();
      expect(said).toEqual([]);
    }
  });
});

describe("the order a stream starts in", () => {
  /** Whether `promise` settles within `ms`. */
  const settlesWithin = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => true), Bun.sleep(ms).then(() => false)]);

  test("with sound, the first frame waits for the first sound packet to go; later frames do not wait", async () => {
    const start = new StartOrder(true);
    const first = start.frameMayGo();
    expect(await settlesWithin(first, 20)).toBe(false);
    start.soundGone();
    expect(await settlesWithin(first, 20)).toBe(true);
    expect(await settlesWithin(start.frameMayGo(), 5)).toBe(true);
  });

  test("a sound source that never gives a packet holds the first frame 100 ms at most", async () => {
    const start = new StartOrder(true);
    const startedMs = performance.now();
    await start.frameMayGo();
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(95);
    expect(performance.now() - startedMs).toBeLessThan(1000);
  });

  test("without sound nothing waits; the sound waits for the clock the first frame starts", async () => {
    const start = new StartOrder(false);
    expect(await settlesWithin(start.frameMayGo(), 5)).toBe(true);
    expect(await settlesWithin(start.clock, 5)).toBe(false);
    start.clockStarted();
    expect(await settlesWithin(start.clock, 5)).toBe(true);
  });
});
