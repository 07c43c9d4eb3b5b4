import { expect, test } from "bun:test";
import type { DemoSummary } from "../../src/commands/demo.ts";
import { finish, lastJson, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";
import { UDPVID_WINDOW, findWindows, pressKey, startXvfb } from "../helpers/xvfb.ts";

test("demo with no display falls back to headless and streams all of video.mp4 over loopback", async () => {
  const result = await runUdpvid(["demo", "--json"], { DISPLAY: undefined, WAYLAND_DISPLAY: undefined }, 40_000);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toContain("receiving headless");
  const summary = lastJson<DemoSummary>(result.stdout);
  expect(summary).toMatchObject({ source: "video.mp4", headless: true });
  expect(summary.send.frames).toBe(300);
  expect(summary.receive.framesCorrupt).toBe(0);
  expect(summary.receive.framesShown).toBeGreaterThanOrEqual(295);
}, 45_000);

test("demo opens the receiver's window; q quits it and stops the sender", async () => {
  await using x = await startXvfb();
  await using demo = startUdpvid(["demo", "--json"], { DISPLAY: x.display });
  let windows: string[] = [];
  for (let waited = 0; windows.length === 0 && waited < 10_000; waited += 200) {
    await Bun.sleep(200);
    windows = findWindows(x.display, UDPVID_WINDOW);
  }
  expect(windows).toHaveLength(1);
  await Bun.sleep(1500); // let frames flow
  const pressed = performance.now();
  pressKey(x.display, windows[0]!, "q");
  const result = await finish(demo, 10_000);
  expect(performance.now() - pressed).toBeLessThan(5000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<DemoSummary>(result.stdout);
  expect(summary.headless).toBe(false);
  expect(summary.receive.quitBy).toBe("key");
  expect(summary.receive.framesShown).toBeGreaterThan(10);
  expect(summary.send.stoppedByUser).toBe(true);
  expect(summary.send.frames).toBeLessThan(300);
}, 30_000);
