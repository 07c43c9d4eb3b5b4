import { expect, test } from "bun:test";
import { join } from "node:path";
import { renderMessageCard } from "../../src/display/text-image.ts";
import { psnr, rgbaToRgb, useSourceClip } from "../helpers/frames.ts";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted } from "../helpers/accounting.ts";
import { finish, lastJson, loadedLibraries, startUdpvid, type Running } from "../helpers/udpvid.ts";
import { waitFor } from "../helpers/wait.ts";
import { UDPVID_WINDOW, findWindows, pressKey, screenshot, startXvfb, windowGeometry, windowTitle, type VirtualDisplay } from "../helpers/xvfb.ts";

// A real window on a real (virtual) X server, real screenshots and real key presses.
const WIDTH = 960;
const HEIGHT = 540; // the window's default size: frames are shown 1:1, so pixels compare directly
const fixture = useSourceClip(4, WIDTH, HEIGHT);
/** Screenshots are compared with source frames pixel for pixel: the sender must not shrink them to fit a busy machine's path. */
const FRAME_FOR_FRAME = ["--adapt", "off"];

/** A receiver with its window up: its port, window id and a screenshot of the window's area. */
async function openReceiver(x: VirtualDisplay, extra: string[] = []) {
  const receiver = startUdpvid(["receive", "--port", "0", "--json", ...extra], { DISPLAY: x.display });
  const port = await receiver.listening;
  const id = await waitFor(() => findWindows(x.display, UDPVID_WINDOW)[0], 20_000, "the window");
  const shoot = (name?: string) => screenshot(x.display, windowGeometry(x.display, id), name ? join(fixture.dir, name) : undefined);
  const title = () => windowTitle(x.display, id);
  return { receiver, port, id, shoot, title };
}

/** Waits until the window title matches: it is updated about twice a second (the deadline is for a busy machine). */
const titleMatching = (title: () => string, pattern: RegExp) => waitFor(() => (pattern.test(title()) ? title() : undefined), 15_000, `a title matching ${pattern}`);

/** The title while frames arrive: "udpvid :PORT - 29.8 fps, …" with a rate above zero. */
const RECEIVING = /^udpvid :\d+ - (?!0\.0 fps)[\d.]+ fps/;

/** Packed RGB of a region of a packed RGB picture. */
function crop(rgb: Uint8Array, width: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let row = 0; row < h; row++) out.set(rgb.subarray(((y + row) * width + x) * 3, ((y + row) * width + x + w) * 3), row * w * 3);
  return out;
}

const bestMatch = (shot: Uint8Array) => Math.max(...fixture.frames.map((frame) => psnr(shot, frame)));

async function quitWith(x: VirtualDisplay, running: Running, id: string, key = "q") {
  pressKey(x.display, id, key);
  const result = await finish(running, 10_000);
  expect(result.exitCode).toBe(0);
  return lastJson<ReceiveSummary>(result.stdout);
}

test("receive shows the stream in its window, the title carries live numbers, and q quits with exit code 0", async () => {
  await using x = await startXvfb();
  const { receiver, port, id, shoot, title } = await openReceiver(x);
  await using _receiver = receiver;
  expect(loadedLibraries(receiver.process.pid)).toMatch(/libSDL2/); // the control for the headless check

  await using sender = startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, ...FRAME_FOR_FRAME]);
  await titleMatching(title, RECEIVING);
  await Bun.sleep(500); // mid-stream
  const geometry = windowGeometry(x.display, id);
  expect([geometry.width, geometry.height]).toEqual([WIDTH, HEIGHT]);
  const shot = shoot("window.png");
  // The screenshot is some source frame, seen through JPEG at quality 80.
  expect(bestMatch(shot)).toBeGreaterThan(28);
  expect(psnr(shot, new Uint8Array(shot.length))).toBeLessThan(15);
  const live = await titleMatching(title, RECEIVING);
  const [, fps, mbps, loss, latency] = /^udpvid :(?:\d+) - ([\d.]+) fps, ([\d.]+) Mbit\/s, ([\d.]+)% loss, (\d+) ms$/.exec(live) ?? [];
  // A 30 fps stream: a busy machine may skip some frames, but never shows more than arrive.
  expect(Number(fps)).toBeGreaterThan(10);
  expect(Number(fps)).toBeLessThan(40);
  expect(Number(mbps)).toBeGreaterThan(1);
  expect(Number(loss)).toBe(0);
  expect(Number(latency)).toBeGreaterThan(0);

  const summary = await quitWith(x, receiver, id);
  expect(summary.quitBy).toBe("key");
  expect(summary.framesShown).toBeGreaterThan(10);
  sender.kill();
});

test('before the first frame the window says "Waiting for stream on :PORT"; after the end, "Stream ended"', async () => {
  await using x = await startXvfb();
  const { receiver, port, id, shoot, title } = await openReceiver(x);
  await using _receiver = receiver;
  await titleMatching(title, new RegExp(`^udpvid - waiting for stream on :${port}$`));
  await Bun.sleep(300);
  // The window shows exactly the card udpvid draws for it.
  // It names the address the terminal does, for a sender on another machine.
  const sendTo = /; send to (\S+?:\d+)/.exec(receiver.output())?.[1];
  expect(sendTo).toMatch(new RegExp(`^(?!0\\.0\\.0\\.0)\\S+:${port}$`));
  const waitingCard = rgbaToRgb((await renderMessageCard(`Waiting for stream on :${port}`, `udpvid send FILE --to ${sendTo}`, WIDTH, HEIGHT)).rgba);
  const waiting = shoot("waiting.png");
  expect(psnr(waiting, waitingCard)).toBeGreaterThan(40);

  // A 4 s clip: when it ends (v2 says so), the last frame gives way to the card.
  const sent = lastJson<SendSummary>((await finish(startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--json", ...FRAME_FOR_FRAME]), 30_000)).stdout);
  await titleMatching(title, /stream ended$/);
  await Bun.sleep(300);
  const endedCard = rgbaToRgb((await renderMessageCard("Stream ended", `waiting for the next one on :${port}`, WIDTH, HEIGHT)).rgba);
  const ended = shoot("ended.png");
  expect(psnr(ended, endedCard)).toBeGreaterThan(40);
  expect(psnr(ended, waitingCard)).toBeLessThan(35); // the control: the cards differ
  expect(bestMatch(ended)).toBeLessThan(15);

  expectEveryFrameAccounted(sent, await quitWith(x, receiver, id), fixture.frames.length);
}, 60_000);

test("a legacy stream, which has no end marker, counts as ended after 3 s of silence", async () => {
  await using x = await startXvfb();
  const { receiver, port, id, title } = await openReceiver(x);
  await using _receiver = receiver;
  const sent = lastJson<SendSummary>((await finish(startUdpvid(["send", fixture.clip, "--protocol", "legacy", "--to", `127.0.0.1:${port}`, "--json"]), 30_000)).stdout);
  // Taken once the sender has exited, a little after its last datagram: the margin is for that on a busy machine.
  const lastSent = performance.now();
  expect(title()).toMatch(/fps/); // still "receiving" right after the last frame
  await titleMatching(title, /stream ended$/);
  expect(performance.now() - lastSent).toBeGreaterThan(2000);
  expectEveryFrameAccounted(sent, await quitWith(x, receiver, id), fixture.frames.length);
}, 60_000);

test("s draws the stats overlay into the picture and takes it away; space freezes the picture and goes live again", async () => {
  await using x = await startXvfb();
  const { receiver, port, id, shoot, title } = await openReceiver(x);
  await using _receiver = receiver;
  await using _sender = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${port}`, ...FRAME_FOR_FRAME]);
  await titleMatching(title, /fps/);

  // The overlay sits top left; the rest of the picture is still the stream.
  const panel = { x: 10, y: 16, w: 300, h: 70 };
  const topLeft = (shot: Uint8Array) => crop(shot, WIDTH, panel.x, panel.y, panel.w, panel.h);
  const bottom = (shot: Uint8Array) => crop(shot, WIDTH, 0, 270, WIDTH, 270);
  const bestFrame = (shot: Uint8Array) => fixture.frames.reduce((best, frame) => (psnr(bottom(shot), bottom(frame)) > psnr(bottom(shot), bottom(best)) ? frame : best));
  const without = shoot();
  expect(psnr(topLeft(without), topLeft(bestFrame(without)))).toBeGreaterThan(25);
  pressKey(x.display, id, "s");
  await Bun.sleep(1200);
  const withOverlay = shoot("overlay.png");
  const frame = bestFrame(withOverlay);
  expect(psnr(bottom(withOverlay), bottom(frame))).toBeGreaterThan(28);
  expect(psnr(topLeft(withOverlay), topLeft(frame))).toBeLessThan(18);
  pressKey(x.display, id, "s");
  await Bun.sleep(600);
  const gone = shoot();
  expect(psnr(topLeft(gone), topLeft(bestFrame(gone)))).toBeGreaterThan(25);

  // Live, the picture moves between two looks 800 ms apart (the control); frozen, it does not.
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
  const a = shoot();
  await Bun.sleep(800);
  expect(same(a, shoot())).toBe(false);
  pressKey(x.display, id, "space");
  await titleMatching(title, /FROZEN/);
  const held = shoot("frozen.png");
  await Bun.sleep(800);
  expect(same(held, shoot())).toBe(true);
  pressKey(x.display, id, "space");
  await titleMatching(title, /^udpvid :\d+ - \d/);
  await Bun.sleep(300);
  expect(same(held, shoot())).toBe(false);

  const summary = await quitWith(x, receiver, id);
  expect(summary.framesShown).toBeGreaterThan(60); // frames kept arriving while frozen
}, 40_000);

const mean = (rgb: Uint8Array) => rgb.reduce((sum, v) => sum + v, 0) / rgb.length;

test("f toggles fullscreen, letterboxed on a screen of another shape, and f again goes back; so does a double-click", async () => {
  // Under a window manager, as on a desktop: leaving fullscreen needs one.
  await using x = await startXvfb(1280, 800, { windowManager: true });
  const { receiver, port, id } = await openReceiver(x);
  await using _receiver = receiver;
  await using _sender = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${port}`, ...FRAME_FOR_FRAME]);
  await Bun.sleep(1000);
  pressKey(x.display, id, "f");
  const full = await waitFor(() => {
    const g = windowGeometry(x.display, id);
    return g.width === 1280 ? g : undefined;
  }, 5000, "fullscreen");
  expect(full).toMatchObject({ x: 0, y: 0, width: 1280, height: 800 });
  await Bun.sleep(500);
  // 16:9 on a 16:10 screen: 1280x720 with 40-pixel black bars above and below.
  const screen = screenshot(x.display, full, join(fixture.dir, "fullscreen.png"));
  expect(mean(crop(screen, 1280, 0, 0, 1280, 38))).toBeLessThan(2);
  expect(mean(crop(screen, 1280, 0, 762, 1280, 38))).toBeLessThan(2);
  expect(mean(crop(screen, 1280, 0, 42, 1280, 716))).toBeGreaterThan(40);
  pressKey(x.display, id, "f");
  const back = await waitFor(() => {
    const g = windowGeometry(x.display, id);
    return g.width === WIDTH ? g : undefined;
  }, 5000, "leaving fullscreen");
  expect(back.height).toBe(HEIGHT);
  // A double-click does the same, as in most players.
  Bun.spawnSync(["xdotool", "mousemove", "--window", id, "200", "200", "click", "--repeat", "2", "--delay", "80", "1"], { env: { ...process.env, DISPLAY: x.display } });
  await waitFor(() => (windowGeometry(x.display, id).width === 1280 ? true : undefined), 5000, "fullscreen by double-click");
  await quitWith(x, receiver, id);
}, 40_000);

test("a resized window letterboxes the picture and keeps its shape", async () => {
  // No window manager here: the window is exactly where xdotool says, so the screenshot is exact.
  await using x = await startXvfb();
  const { receiver, port, id, shoot } = await openReceiver(x);
  await using _receiver = receiver;
  await using _sender = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${port}`, ...FRAME_FOR_FRAME]);
  const xdotool = (...args: string[]) => Bun.spawnSync(["xdotool", ...args], { env: { ...process.env, DISPLAY: x.display } });
  xdotool("windowmove", "--sync", id, "0", "0"); // room to grow on the 1280x800 screen
  xdotool("windowsize", "--sync", id, "960", "700");
  await waitFor(() => (windowGeometry(x.display, id).height === 700 ? true : undefined), 5000, "the resize");
  await Bun.sleep(800);
  // Taller than 16:9: 80-pixel bars above and below a 960x540 picture.
  const tall = shoot("letterboxed.png");
  expect(mean(crop(tall, 960, 0, 0, 960, 78))).toBeLessThan(2);
  expect(mean(crop(tall, 960, 0, 622, 960, 78))).toBeLessThan(2);
  expect(bestMatch(crop(tall, 960, 0, 80, 960, 540))).toBeGreaterThan(28);
  // Wider than 16:9: bars left and right.
  xdotool("windowsize", "--sync", id, "1200", "540");
  await waitFor(() => (windowGeometry(x.display, id).width === 1200 ? true : undefined), 5000, "the second resize");
  await Bun.sleep(800);
  const wide = shoot();
  expect(mean(crop(wide, 1200, 0, 0, 118, 540))).toBeLessThan(2);
  expect(mean(crop(wide, 1200, 1082, 0, 118, 540))).toBeLessThan(2);
  expect(bestMatch(crop(wide, 1200, 120, 0, 960, 540))).toBeGreaterThan(28);
  await quitWith(x, receiver, id);
}, 40_000);

test("the window takes the stream's shape on its first frame, shrunk to fit the screen, and keeps a size the user chose", async () => {
  await using x = await startXvfb(1280, 800);
  const { receiver, port, id } = await openReceiver(x);
  await using _receiver = receiver;
  const size = () => {
    const g = windowGeometry(x.display, id);
    return `${g.width}x${g.height}`;
  };
  const stream = (picture: string) =>
    finish(startUdpvid(["send", `testsrc2=size=${picture}:rate=30:duration=1`, "--input-format", "lavfi", "--to", `127.0.0.1:${port}`, ...FRAME_FOR_FRAME]), 20_000);
  // 4:3 gets a 4:3 window, not bars.
  await stream("640x480");
  expect(await waitFor(() => (size() === "640x480" ? size() : undefined), 5000, "a 640x480 window")).toBe("640x480");
  // Larger than the screen: 90% of its 800 lines, same shape.
  await stream("1920x1080");
  expect(await waitFor(() => (size() === "1152x648" ? size() : undefined), 5000, "a 1152x648 window")).toBe("1152x648");
  // Once the user sizes the window, it stays as they left it.
  Bun.spawnSync(["xdotool", "windowsize", "--sync", id, "700", "500"], { env: { ...process.env, DISPLAY: x.display } });
  await stream("640x480");
  await Bun.sleep(500);
  expect(size()).toBe("700x500");
  await quitWith(x, receiver, id);
}, 40_000);

test("Esc quits too, before any stream has arrived", async () => {
  await using x = await startXvfb();
  const { receiver, id } = await openReceiver(x);
  await using _receiver = receiver;
  expect(await quitWith(x, receiver, id, "Escape")).toMatchObject({ quitBy: "key", framesShown: 0 });
});

test("without a display, receive says how to run headless instead of crashing", async () => {
  const result = await finish(startUdpvid(["receive", "--port", "0"], { DISPLAY: ":1999", WAYLAND_DISPLAY: undefined }), 10_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain("--headless");
  expect(result.stderr).not.toContain("    at ");
  // udpvid's own line only: none of what SDL's C code prints while it loads ("SDL silent error", XDG_RUNTIME_DIR).
  expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^udpvid: no display to open a window on/)]);
});
