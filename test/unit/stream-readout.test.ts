import { expect, test } from "bun:test";
import { overlayLines, statusLine, windowTitle, type StreamReadout } from "../../src/display/stream-readout.ts";
import { colorsFor } from "../../src/util/colors.ts";

const base: StreamReadout = {
  port: 9999,
  state: "receiving",
  frozen: false,
  fps: 29.96,
  mbps: 12.345,
  lossPercent: 1.26,
  latencyMs: 41.6,
  decodeMs: 7.94,
  shown: 1500,
  skipped: 3,
  dropped: 2,
  recoveredFrames: 17,
  rejected: 0,
};

test("the window title says the state, and the numbers once receiving", () => {
  expect(windowTitle({ ...base, state: "waiting" })).toBe("udpvid - waiting for stream on :9999");
  expect(windowTitle(base)).toBe("udpvid :9999 - 30.0 fps, 12.3 Mbit/s, 1.3% loss, 42 ms");
  expect(windowTitle({ ...base, frozen: true })).toBe("udpvid :9999 - FROZEN, 30.0 fps, 12.3 Mbit/s, 1.3% loss, 42 ms");
  expect(windowTitle({ ...base, lossPercent: undefined, latencyMs: undefined })).toBe("udpvid :9999 - 30.0 fps, 12.3 Mbit/s");
  expect(windowTitle({ ...base, state: "ended" })).toBe("udpvid :9999 - stream ended");
});

test("the overlay lists rates, loss with FEC rescues, timing and counts", () => {
  const picture = { width: 1280, height: 720 };
  expect(overlayLines(base, picture)).toEqual([
    "30.0 fps · 12.3 Mbit/s",
    "loss 1.3% · 17 frames rebuilt by FEC",
    "latency 42 ms · decode 7.9 ms",
    "1280×720 · shown 1500 · skipped 3 · dropped 2",
  ]);
  const legacy = overlayLines({ ...base, lossPercent: undefined, latencyMs: undefined, recoveredFrames: 0, rejected: 4, frozen: true }, picture);
  expect(legacy).toEqual([
    "30.0 fps · 12.3 Mbit/s",
    "loss n/a (legacy)",
    "decode 7.9 ms",
    "1280×720 · shown 1500 · skipped 3 · dropped 2",
    "rejected 4 datagrams",
    "FROZEN: space goes live",
  ]);
  // A sender that follows the link changes size and quality: both shown.
  expect(overlayLines({ ...base, quality: 62 }, { width: 960, height: 540 }).at(-1)).toBe("960×540 · q62 · shown 1500 · skipped 3 · dropped 2");
});

test("the status line is plain without colours and coloured with them", () => {
  const plain = statusLine({ ...base, rejected: 5 }, colorsFor({ isTTY: false }, {}));
  expect(plain).toBe("receiving  30.0 fps  12.3 Mbit/s  loss 1.3%  latency 42 ms  shown 1500  recovered 17  dropped 2  skipped 3  rejected 5");
  const coloured = statusLine({ ...base, rejected: 5 }, colorsFor({ isTTY: true }, {}));
  expect(coloured).toContain("\x1b[32mreceiving\x1b[39m");
  expect(coloured).toContain("\x1b[33mloss 1.3%\x1b[39m");
  expect(coloured).toContain("\x1b[31mrejected 5\x1b[39m");
  expect(coloured).toContain("\x1b[33mdropped 2\x1b[39m");
  // Counts that are zero are left out.
  const quiet = { ...base, state: "waiting" as const, lossPercent: undefined, latencyMs: undefined, fps: 0, mbps: 0, shown: 0, skipped: 0, dropped: 0, recoveredFrames: 0 };
  expect(statusLine(quiet, colorsFor({ isTTY: false }, {}))).toBe("waiting on :9999  0.0 fps  0.0 Mbit/s  shown 0");
});

test("with sound playing, the overlay has its level, the picture's offset from it and what was concealed; the status line says muted and concealed", () => {
  const sound = { levelDb: -23.4, avOffsetMs: 1.2, concealed: 3, muted: false, volume: 1 };
  expect(overlayLines({ ...base, sound }, { width: 1280, height: 720 })).toContain("sound -23 dB · A/V +1 ms · 3 concealed");
  expect(overlayLines({ ...base, sound: { ...sound, volume: 0.5, avOffsetMs: -4 } })).toContain("sound -23 dB (volume 50%) · A/V -4 ms · 3 concealed");
  expect(overlayLines({ ...base, sound: { ...sound, muted: true, avOffsetMs: null } })).toContain("sound muted · 3 concealed");
  expect(statusLine({ ...base, sound: { ...sound, muted: true } }, colorsFor({ isTTY: false }, {}))).toContain("muted  concealed 3");
  expect(overlayLines(base).some((line) => line.startsWith("sound"))).toBe(false);
});
