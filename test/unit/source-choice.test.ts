import { expect, test } from "bun:test";
import { chooseSource, SourceChoiceError, TEST_PATTERN, TEST_TONE, type SourceRequest } from "../../src/source/source-choice.ts";

const base: SourceRequest = { inputOptions: [], camera: false, testPattern: false, platform: "linux", defaultVideoExists: true };

test("no source given: ./video.mp4, a file, paced", () => {
  expect(chooseSource(base)).toEqual({
    input: "video.mp4",
    inputFormat: undefined,
    inputOptions: [],
    live: false,
    isFile: true,
    label: "video.mp4",
    sound: { input: "video.mp4", inputFormat: undefined, inputOptions: [] },
  });
});

test("without ./video.mp4, says how to pick a source", () => {
  expect(() => chooseSource({ ...base, defaultVideoExists: false })).toThrow("use --camera or --test-pattern");
});

test("the test pattern is ffmpeg's lavfi testsrc2, paced like a file", () => {
  expect(chooseSource({ ...base, testPattern: true })).toMatchObject({ input: TEST_PATTERN, inputFormat: "lavfi", live: false, isFile: false });
});

test("the test pattern's sound is its own tone; a camera's microphone is not taken (yet)", () => {
  expect(chooseSource({ ...base, testPattern: true }).sound).toEqual({ input: TEST_TONE, inputFormat: "lavfi", inputOptions: [] });
  expect(chooseSource({ ...base, positional: "talk.mkv" }).sound?.input).toBe("talk.mkv");
});

test("network streams and capture devices are live: never paced again", () => {
  for (const url of ["rtsp://camera.local/stream", "udp://0.0.0.0:1234", "SRT://host:9000"]) expect(chooseSource({ ...base, positional: url }).live).toBe(true);
  expect(chooseSource({ ...base, positional: "https://example.com/clip.mp4" })).toMatchObject({ live: false, isFile: false });
  expect(chooseSource({ ...base, positional: ":0.0", inputFormat: "x11grab" })).toMatchObject({ live: true, isFile: false });
  expect(chooseSource({ ...base, positional: "testsrc", inputFormat: "lavfi" })).toMatchObject({ live: false, isFile: false });
});

test("input options are KEY=VALUE, passed on in order", () => {
  expect(chooseSource({ ...base, inputOptions: ["video_size=1280x720", "framerate=30", "t=1:30"] }).inputOptions).toEqual([
    ["video_size", "1280x720"],
    ["framerate", "30"],
    ["t", "1:30"],
  ]);
  expect(() => chooseSource({ ...base, inputOptions: ["video_size"] })).toThrow("KEY=VALUE");
});

test("one source at a time; cameras per platform", () => {
  expect(() => chooseSource({ ...base, positional: "a.mp4", testPattern: true })).toThrow(SourceChoiceError);
  expect(() => chooseSource({ ...base, camera: true, testPattern: true })).toThrow("give one source");
  expect(chooseSource({ ...base, camera: true, platform: "darwin" })).toMatchObject({ input: "0", inputFormat: "avfoundation", live: true });
  expect(() => chooseSource({ ...base, camera: true, platform: "win32" })).toThrow("dshow");
});
