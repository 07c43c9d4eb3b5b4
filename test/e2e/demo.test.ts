import { expect, test } from "bun:test";
import type { DemoSummary } from "../../src/commands/demo.ts";
import { expectEveryFrameAccounted } from "../helpers/accounting.ts";
import { finish, lastJson, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";
import { waitFor, waitUntil } from "../helpers/wait.ts";
import { UDPVID_WINDOW, findWindows, pressKey, startXvfb, windowTitle } from "../helpers/xvfb.ts";

const VIDEO_FRAMES = 300; // video.mp4: 10 s at 30 fps

test("demo with no display falls back to headless and streams all of video.mp4 over loopback", async () => {
  const result = await runUdpvid(["demo", "--json"], { DISPLAY: undefined, WAYLAND_DISPLAY: undefined }, 40_000);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toContain("receiving headless");
  const summary = lastJson<DemoSummary>(result.stdout);
  expect(summary).toMatchObject({ source: "video.mp4", headless: true });
  expectEveryFrameAccounted(summary.send, summary.receive, VIDEO_FRAMES);
}, 45_000);

test("demo opens the receiver's window; q quits it and stops the sender", async () => {
  await using x = await startXvfb();
  await using demo = startUdpvid(["demo", "--json"], { DISPLAY: x.display });
  const id = await waitFor(() => findWindows(x.display, UDPVID_WINDOW)[0], 20_000, "the window");
  // Frames are flowing once the title shows a frame rate above zero (it is refreshed twice a second).
  const flowing = /^udpvid :\d+ - (?!0\.0 fps)[\d.]+ fps/;
  await waitUntil(() => flowing.test(windowTitle(x.display, id)), 20_000);
  expect(windowTitle(x.display, id)).toMatch(flowing);
  expect(findWindows(x.display, UDPVID_WINDOW)).toHaveLength(1);
  const pressed = performance.now();
  pressKey(x.display, id, "q");
  const result = await finish(demo, 20_000);
  // Not a speed test: it must not run on to the clip's end (about 10 s away) or hang.
  expect(performance.now() - pressed).toBeLessThan(15_000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<DemoSummary>(result.stdout);
  expect(summary.headless).toBe(false);
  expect(summary.receive.quitBy).toBe("key");
  expect(summary.receive.framesShown).toBeGreaterThan(0);
  expect(summary.receive.framesCorrupt).toBe(0);
  // What was sent before q: the receiver accounts for no more than that (the rest was in flight when it closed).
  const { framesShown, framesSkipped, framesDroppedIncomplete } = summary.receive;
  expect(framesShown + framesSkipped + framesDroppedIncomplete).toBeLessThanOrEqual(summary.send.frames);
  expect(summary.send.stoppedByUser).toBe(true);
  expect(summary.send.frames + summary.send.framesSkipped + summary.send.framesSkippedForRate).toBeLessThan(VIDEO_FRAMES);
}, 60_000);
