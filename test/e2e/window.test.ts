import { expect, test } from "bun:test";
import { join } from "node:path";
import { psnr, useSourceClip } from "../helpers/frames.ts";
import { finish, lastJson, loadedLibraries, startUdpvid } from "../helpers/udpvid.ts";
import { findWindows, pressKey, screenshot, startXvfb, windowGeometry } from "../helpers/xvfb.ts";

// A real window on a real (virtual) X server, a real screenshot and a real key press.
const WIDTH = 960;
const HEIGHT = 540; // the window's default size: frames are shown 1:1, so pixels compare directly
const fixture = useSourceClip(4, WIDTH, HEIGHT);

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

test('receive opens a "Video Stream" window that shows the stream, and q quits with exit code 0', async () => {
  await using x = await startXvfb();
  await using receiver = startUdpvid(["receive", "--port", "0", "--json"], { DISPLAY: x.display });
  const port = await receiver.listening;
  const windowId = await waitFor(() => findWindows(x.display, "Video Stream")[0], 10_000, "the window");
  expect(loadedLibraries(receiver.process.pid)).toMatch(/libSDL2/); // the control for the headless check

  await using sender = startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`]);
  await Bun.sleep(2000); // mid-stream
  const geometry = windowGeometry(x.display, windowId);
  expect(geometry.width).toBe(WIDTH);
  expect(geometry.height).toBe(HEIGHT);
  const shot = screenshot(x.display, geometry, join(fixture.dir, "window.png"));

  // The screenshot is some source frame, seen through JPEG at quality 80.
  const scores = fixture.frames.map((frame) => psnr(shot, frame));
  const best = Math.max(...scores);
  expect(best).toBeGreaterThan(28);
  const black = new Uint8Array(shot.length);
  expect(psnr(shot, black)).toBeLessThan(15);

  pressKey(x.display, windowId, "q");
  const result = await finish(receiver, 10_000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<{ quitBy: string; framesShown: number }>(result.stdout);
  expect(summary.quitBy).toBe("key");
  expect(summary.framesShown).toBeGreaterThan(10);
  sender.kill();
});

test("Esc quits too, before any stream has arrived", async () => {
  await using x = await startXvfb();
  await using receiver = startUdpvid(["receive", "--port", "0", "--json"], { DISPLAY: x.display });
  await receiver.listening;
  const windowId = await waitFor(() => findWindows(x.display, "Video Stream")[0], 10_000, "the window");
  pressKey(x.display, windowId, "Escape");
  const result = await finish(receiver, 10_000);
  expect(result.exitCode).toBe(0);
  expect(lastJson<{ quitBy: string; framesShown: number }>(result.stdout)).toMatchObject({ quitBy: "key", framesShown: 0 });
});

test("without a display, receive says how to run headless instead of crashing", async () => {
  const result = await finish(startUdpvid(["receive", "--port", "0"], { DISPLAY: ":1999", WAYLAND_DISPLAY: undefined }), 10_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain("--headless");
  expect(result.stderr).not.toContain("    at ");
});
