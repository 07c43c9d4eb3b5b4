import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import { flashBeepOffsetsMs, openBrowser, openViewer, pageRecording, pageSound, playedSound, screenshotRgb, unrenderedMs, viewerState, waitForViewer } from "../helpers/browser.ts";
import { ffmpeg, makeClip, matchFrames, useSourceClip } from "../helpers/frames.ts";
import { compareSound } from "../helpers/sound-compare.ts";
import { finish, lastJson, printedViewerUrl, rssMiB, startUdpvid, type Running } from "../helpers/udpvid.ts";
import { waitFor } from "../helpers/wait.ts";
import { findWindows, screenshot, startXvfb, UDPVID_WINDOW, windowGeometry } from "../helpers/xvfb.ts";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";

// Real chromium (Debian's, headless, driven by puppeteer-core) watching a
// real receiver's --web viewer, fed by a real sender over UDP.
const WIDTH = 640;
const HEIGHT = 360;
const source = useSourceClip(4, WIDTH, HEIGHT);
let browser: Browser & AsyncDisposable;
beforeAll(async () => {
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface WebReceiver {
  running: Running;
  port: number;
  url: string;
}

/** A headless receiver with its web viewer on a free port; resolves once both listen and the URL is printed. */
async function startWebReceiver(extra: string[] = [], web = "0"): Promise<WebReceiver> {
  const running = startUdpvid(["receive", "--headless", "--port", "0", "--web", web, "--json", ...extra]);
  const port = await running.listening;
  const url = await printedViewerUrl(running, 10_000);
  return { running, port, url };
}

/** Streams the clip (looped while `loop`) to the receiver. */
function startSender(port: number, loop = false): Running {
  return startUdpvid(["send", source.clip, "--to", `127.0.0.1:${port}`, ...(loop ? ["--loop"] : []), "--quiet"]);
}

describe("receive --web", () => {
  test("the page shows the stream: the frozen canvas matches a source frame, at its full size; the overlay toggles by key and by tap", async () => {
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    await using sender = startSender(receiver.port, true);
    const page = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    const drawn = await waitForViewer(page, (s) => s.framesDrawn >= 20, 20_000, "20 frames drawn");
    expect(drawn.state).toBe("receiving");
    expect(drawn.lastDrawn).toMatchObject({ width: WIDTH, height: HEIGHT });
    // Frozen (space), the picture holds still for the screenshot.
    await page.keyboard.press("Space");
    const frozen = await waitForViewer(page, (s) => s.frozen, 2000, "the picture frozen");
    await Bun.sleep(300);
    const shot = await screenshotRgb(page, { x: 0, y: 0, width: WIDTH, height: HEIGHT });
    const [match] = matchFrames([shot], source.frames);
    expect(match!.psnr).toBeGreaterThan(30);
    // Frozen means frozen: nothing more drawn while it is.
    expect((await viewerState(page)).framesDrawn).toBe(frozen.framesDrawn);
    await page.keyboard.press("Space");
    await waitForViewer(page, (s) => !s.frozen && s.framesDrawn > frozen.framesDrawn, 5000, "live again");

    expect(await page.$eval("#stats", (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.keyboard.press("s");
    // (The overlay is drawn as the key is taken.)
    await waitForViewer(page, (s) => s.statsVisible, 3000, "the overlay shown");
    expect(await page.$eval("#stats", (e) => !(e as unknown as { hidden: boolean }).hidden && e.textContent!.includes("fps"))).toBe(true);
    const overlay = await page.$eval("#stats", (e) => e.textContent!);
    expect(overlay).toContain(`${WIDTH}×${HEIGHT}`);
    expect(overlay).toMatch(/Mbit\/s/);
    await page.mouse.click(WIDTH / 2, HEIGHT / 2);
    expect(await page.$eval("#stats", (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
    sender.kill();
  }, 60_000);

  test("\"Waiting for stream\" before it starts and \"Stream ended\" after; the summary has each viewer's capture → drawn latency", async () => {
    const receiver = await startWebReceiver();
    const page = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    await waitForViewer(page, (s) => s.state === "waiting", 5000, "the waiting state");
    expect(await page.$eval("#card", (e) => e.textContent!)).toContain("Waiting for stream");
    const sent = await finish(startSender(receiver.port), 30_000);
    expect(sent.exitCode).toBe(0);
    const ended = await waitForViewer(page, (s) => s.state === "ended", 10_000, "the ended state");
    expect(ended.framesDrawn).toBeGreaterThan(60);
    expect(await page.$eval("#card", (e) => e.textContent!)).toContain("Stream ended");
    receiver.running.kill();
    const done = await finish(receiver.running);
    const summary = lastJson<ReceiveSummary>(done.stdout);
    expect(summary.web).toBeDefined();
    const viewer = summary.web!.viewers[0]!;
    expect(viewer.framesSent).toBeGreaterThan(60);
    // Capture → drawn on a page on this machine: more than the receiver's own, well under a second.
    expect(viewer.latencyMs!.p50).toBeGreaterThan(summary.latencyMs!.p50 * 0.5);
    expect(viewer.latencyMs!.p50).toBeLessThan(1000);
  }, 60_000);

  test("three pages at once all show the stream", async () => {
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    await using sender = startSender(receiver.port, true);
    const pages = await Promise.all([0, 1, 2].map(() => openViewer(browser, receiver.url, WIDTH, HEIGHT)));
    // At full size: under load the sender's rate control may step the picture down for a while (once seen here: 480×270
    // by the 32nd frame of one page), and a page showing the stream is one that draws it as sent once that passes.
    const states = await Promise.all(pages.map((page) => waitForViewer(page, (s) => s.framesDrawn >= 30 && s.lastDrawn?.width === WIDTH, 20_000, "30 frames drawn, the last at full size")));
    for (const s of states) expect(s.lastDrawn).toMatchObject({ width: WIDTH, height: HEIGHT });
    await Promise.all(pages.map((page) => page.close()));
    sender.kill();
  }, 60_000);

  test("a viewer that stops reading is dropped; the page beside it and the receiver's memory are unaffected", async () => {
    const receiver = await startWebReceiver();
    await using sender = startSender(receiver.port, true);
    const page = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    await waitForViewer(page, (s) => s.framesDrawn >= 10, 20_000, "frames drawn");
    const rssBefore = rssMiB(receiver.running.process.pid);
    // A raw WebSocket client that asks for the stream and then never reads a byte.
    const webPort = Number(new URL(receiver.url).port);
    const stalled: Socket = connect(webPort, "127.0.0.1");
    await new Promise<void>((resolve) => stalled.once("connect", () => resolve()));
    stalled.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${webPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    stalled.pause();
    const drawnBefore = (await viewerState(page)).framesDrawn;
    let rssMax = rssBefore;
    const startMs = performance.now();
    // The bound is 5 s of not reading: watch for 8.
    while (performance.now() - startMs < 8000) {
      rssMax = Math.max(rssMax, rssMiB(receiver.running.process.pid));
      await Bun.sleep(250);
    }
    const drawnAfter = (await viewerState(page)).framesDrawn;
    // The page beside it went on at the stream's pace (30 fps: about 240 frames in 8 s; at least a third of that).
    expect(drawnAfter - drawnBefore).toBeGreaterThan(80);
    // What the stalled one held is bounded (one frame waiting, what the socket took): not a stream's worth.
    expect(rssMax - rssBefore).toBeLessThan(64);
    stalled.destroy();
    sender.kill();
    receiver.running.kill();
    const summary = lastJson<ReceiveSummary>((await finish(receiver.running)).stdout);
    expect(summary.web!.droppedStalled).toBe(1);
    expect(summary.web!.viewers.find((v) => v.droppedAsStalled)).toBeDefined();
  }, 60_000);

  test("on a non-loopback binding a request needs the token: without it or with a wrong one, 403", async () => {
    await using receiver = await startWebReceiver([], "0.0.0.0:0").then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    const printed = new URL(receiver.url);
    const token = printed.searchParams.get("token");
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const base = `http://127.0.0.1:${printed.port}`;
    for (const path of ["/", "/viewer.js", "/ws"]) {
      expect((await fetch(`${base}${path}`)).status).toBe(403);
      expect((await fetch(`${base}${path}?token=${token}x`)).status).toBe(403);
    }
    const ok = await fetch(`${base}/?token=${token}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain(`viewer.js?token=${token}`);
    expect((await fetch(`${base}/viewer.js?token=${token}`)).status).toBe(200);
    // Nothing else is served, with the token or without.
    expect((await fetch(`${base}/../package.json?token=${token}`)).status).toBe(404);
    expect((await fetch(`${base}/src/cli.ts?token=${token}`)).status).toBe(404);
    expect((await fetch(`${base}/?token=${token}`, { method: "POST", body: "x" })).status).toBe(405);
  }, 30_000);

  test("a phone-sized page shows the whole picture, letterboxed, held upright (390×844) and turned (844×390)", async () => {
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    await using sender = startSender(receiver.port, true);
    for (const [pageWidth, pageHeight] of [
      [390, 844],
      [844, 390],
    ] as const) {
      const page = await openViewer(browser, receiver.url, pageWidth, pageHeight, 3);
      await waitForViewer(page, (s) => s.framesDrawn >= 10, 20_000, "frames drawn");
      await page.keyboard.press("Space");
      await waitForViewer(page, (s) => s.frozen, 2000, "frozen");
      await Bun.sleep(300);
      // 640×360 fitted: upright, 390×219 centred in 844 high (bars above and below); turned, 693×390 centred in 844 wide (bars at the sides).
      const scale = Math.min(pageWidth / WIDTH, pageHeight / HEIGHT);
      const w = Math.round(WIDTH * scale);
      const h = Math.round(HEIGHT * scale);
      const left = Math.floor((pageWidth - w) / 2);
      const top = Math.floor((pageHeight - h) / 2);
      // At the source's size to compare (the screen has it at 3 device pixels a CSS pixel).
      const shot = await screenshotRgb(page, { x: left, y: top, width: w, height: h }, { width: WIDTH, height: HEIGHT });
      const [match] = matchFrames([shot], source.frames);
      expect(match!.psnr).toBeGreaterThan(22);
      // The bars: black, nothing cut off into them.
      const bar = top > left ? { x: 0, y: 0, width: pageWidth, height: top - 2 } : { x: 0, y: 0, width: left - 2, height: pageHeight };
      const bars = await screenshotRgb(page, bar);
      expect(bars.reduce((max, v) => Math.max(max, v), 0)).toBeLessThan(16);
      await page.close();
    }
    sender.kill();
  }, 60_000);

  test("demo --web: a page shows the demo, which plays until stopped", async () => {
    await using demo = startUdpvid(["demo", "--headless", "--web", "0", "--json"]);
    const url = await printedViewerUrl(demo, 15_000);
    const page = await openViewer(browser, url, WIDTH, HEIGHT);
    const drawn = await waitForViewer(page, (s) => s.framesDrawn >= 30, 20_000, "30 frames drawn");
    // video.mp4's picture (16:9; the sender may shrink it to follow a busy machine).
    expect(drawn.lastDrawn!.width / drawn.lastDrawn!.height).toBeCloseTo(16 / 9, 1);
    await page.close();
    demo.process.kill("SIGTERM");
    const done = await finish(demo, 15_000);
    expect(done.exitCode).toBe(0);
    const summary = lastJson<{ receive: ReceiveSummary }>(done.stdout);
    expect(summary.receive.web!.viewersJoined).toBe(1);
  }, 60_000);

  test("the window's waiting card names the URL, with a QR code of it a phone can read", async () => {
    await using x = await startXvfb();
    await using receiver = startUdpvid(["receive", "--port", "0", "--web", "0.0.0.0:0", "--json"], { DISPLAY: x.display });
    await receiver.listening;
    const url = await printedViewerUrl(receiver, 10_000);
    const id = await waitFor(() => findWindows(x.display, UDPVID_WINDOW)[0], 10_000, "the window");
    await Bun.sleep(500);
    const png = join(source.dir, "waiting-card.png");
    screenshot(x.display, windowGeometry(x.display, id), png);
    const read = Bun.spawnSync(["zbarimg", "--quiet", "--raw", "-Sqrcode.enable", png]);
    expect(read.stdout.toString().trim()).toBe(url);
    expect(new URL(url).searchParams.get("token")).toMatch(/^[A-Za-z0-9_-]{22}$/);
  }, 30_000);

  test("the page plays the sound intact, and shows each flash with its beep", async () => {
    const clip = makeClip(source.dir, 6, 640, "with-sound.mp4", true);
    const pcm = ffmpeg(["-i", clip, "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-ar", "48000", "-"]);
    const sourceSound = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 4);
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    const page = await openViewer(browser, `${receiver.url}?record-sound`, WIDTH, HEIGHT);
    await waitForViewer(page, (s) => s.state === "waiting", 5000, "the waiting state");
    const sent = await finish(startUdpvid(["send", clip, "--to", `127.0.0.1:${receiver.port}`, "--quiet"]), 30_000);
    expect(sent.exitCode).toBe(0);
    const played = await pageRecording(page);
    expect(played.sound.state).toBe("running");
    expect(played.sound.played).toBeGreaterThan(250); // 6 s of 20 ms packets: 300
    // What was played, end to end, against the source's sound.
    const compared = compareSound(sourceSound, playedSound(played));
    console.error(`the page's sound: ${JSON.stringify(played.sound)}; unrendered by the browser ${unrenderedMs(played).toFixed(0)} ms; present ${compared.presentShare.toFixed(3)}, longest gap ${compared.longestGapMs} ms`);
    // Chromium's audio thread, rendering to its stand-in device on this busy 2-core machine, now and then
    // renders a few blocks late and skips ahead (the tap sees its clock repeat, then jump): a little looser than the receiver's own 99% / 40 ms.
    expect(compared.presentShare).toBeGreaterThanOrEqual(0.98);
    expect(compared.longestGapMs).toBeLessThanOrEqual(60);
    for (const r of compared.perSecond.slice(0, -1)) expect(r).toBeGreaterThanOrEqual(0.9);
    // Sync, from what was played and drawn (not from capture times).
    const offsets = flashBeepOffsetsMs(played);
    expect(offsets.length).toBeGreaterThanOrEqual(4);
    // The median pair within 25 ms: without the sync the picture would be a sound delay (100 ms or more) early. A flash whose
    // frames were passed over on a busy machine shows a frame or more late, so single pairs are not held to it (bench:web reports the p95).
    const sorted = offsets.map(Math.abs).sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThanOrEqual(25);
  }, 60_000);

  test("after the page stalls, its sound falls behind, then comes back to about where it started within seconds", async () => {
    const clip = makeClip(source.dir, 10, 640, "with-sound-10s.mp4", true);
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    const page = await openViewer(browser, `${receiver.url}?record-sound`, WIDTH, HEIGHT);
    await waitForViewer(page, (s) => s.state === "waiting", 5000, "the waiting state");
    const sender = startUdpvid(["send", clip, "--to", `127.0.0.1:${receiver.port}`, "--quiet"]);
    let before = await pageSound(page);
    for (const deadline = performance.now() + 10_000; before.played <= 50 && performance.now() < deadline; await Bun.sleep(100)) before = await pageSound(page);
    expect(before.played).toBeGreaterThan(50); // a second of sound played
    // The page's thread held for 400 ms, as a phone's might be: what came meanwhile is late, and the delay goes up by that much.
    await page.evaluate(() => {
      const end = performance.now() + 400;
      while (performance.now() < end);
    });
    let highest = 0;
    let after = await pageSound(page);
    const sent = finish(sender, 30_000);
    for (const deadline = performance.now() + 7000; performance.now() < deadline; await Bun.sleep(100)) {
      after = await pageSound(page);
      highest = Math.max(highest, after.delayMs ?? 0);
    }
    expect((await sent).exitCode).toBe(0);
    console.error(`the page's sound: before the stall ${JSON.stringify(before)}; highest delay ${highest} ms; 7 s later ${JSON.stringify(after)}`);
    // Well behind at some point: from the stall, or on a loaded machine already from the start (its own late spell).
    expect(highest).toBeGreaterThanOrEqual(300);
    // And back: packets left out to catch up, the delay down by 200 ms or more and within 100 ms of the start's.
    expect(after.caughtUp).toBeGreaterThanOrEqual(5);
    expect(after.delayMs!).toBeLessThanOrEqual(Math.min(200, highest - 200));
    // Only what it took to catch up was left out.
    expect(after.played + after.caughtUp).toBeGreaterThanOrEqual(after.packets - 25);
  }, 60_000);

  test("hostile input to the web port (garbage, a bad upgrade, oversized and malformed messages) gets an error or a close; the receiver and a page beside it go on", async () => {
    await using receiver = await startWebReceiver().then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    await using sender = startSender(receiver.port, true);
    const page = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    await waitForViewer(page, (s) => s.framesDrawn >= 10, 20_000, "frames drawn");
    const webPort = Number(new URL(receiver.url).port);
    /** Sends raw bytes on a fresh TCP connection and returns what came back before it closed (or 2 s passed). */
    const raw = (bytes: string | Uint8Array) =>
      new Promise<string>((resolve) => {
        let got = "";
        const socket = connect(webPort, "127.0.0.1", () => socket.write(bytes));
        socket.on("data", (d) => (got += d.toString("latin1")));
        socket.on("close", () => resolve(got));
        socket.on("error", () => resolve(got));
        setTimeout(() => {
          socket.destroy();
          resolve(got);
        }, 2000);
      });
    expect(await raw(new Uint8Array(4096).map((_, i) => (i * 131) & 0xff))).not.toContain("200 OK");
    expect(await raw("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n")).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(await raw(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${webPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`)).toMatch(/^HTTP\/1\.1 4\d\d/);
    // A host name that is not this machine's, without a token: 403 (a rebinding page).
    expect(await raw(`GET / HTTP/1.1\r\nHost: evil.example:${webPort}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 403/);
    // Over the WebSocket: garbage text, binary, and a message past the size allowed (closed).
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${webPort}/ws`);
      ws.onopen = () => {
        ws.send("{not json");
        ws.send(new Uint8Array([1, 2, 3]));
        ws.send(JSON.stringify({ type: "drawn", frame: -1, sentAtMs: 1e300, heldMs: -1 }));
        ws.send("x".repeat(100_000));
      };
      ws.onclose = (event) => resolve(event.code);
    });
    expect(closed).not.toBe(1000);
    const before = (await viewerState(page)).framesDrawn;
    await waitForViewer(page, (s) => s.framesDrawn >= before + 30, 10_000, "the page still drawing");
    sender.kill();
    receiver.running.kill();
    const summary = lastJson<ReceiveSummary>((await finish(receiver.running)).stdout);
    expect(summary.web!.reportsRefused).toBeGreaterThanOrEqual(3);
    expect(summary.framesShown).toBeGreaterThan(30);
  }, 60_000);

  test("--web-max-viewers: a page past the limit is told there is no room, and joins once a place is free", async () => {
    await using receiver = await startWebReceiver(["--web-max-viewers", "1"]).then((r) => Object.assign(r, { [Symbol.asyncDispose]: async () => r.running.kill() }));
    await using sender = startSender(receiver.port, true);
    const first = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    await waitForViewer(first, (s) => s.framesDrawn >= 5, 20_000, "the first page drawing");
    const second = await openViewer(browser, receiver.url, WIDTH, HEIGHT);
    await waitForViewer(second, (s) => s.state === "full", 5000, "the second page told it is full");
    expect(await second.$eval("#card", (e) => e.textContent!)).toContain("as many viewers as it takes");
    await first.close();
    // It tries again every 5 s.
    await waitForViewer(second, (s) => s.framesDrawn >= 5, 15_000, "the second page drawing once there is room");
    sender.kill();
  }, 60_000);

  test("a --web port already taken: one clear line and a failing exit, before anything is received", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("mine") });
    try {
      const done = await finish(startUdpvid(["receive", "--headless", "--port", "0", "--web", String(taken.port)]), 15_000);
      expect(done.exitCode).not.toBe(0);
      expect(done.stderr).toContain(`--web: port ${taken.port} on 127.0.0.1 is already in use`);
      expect(done.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      void taken.stop(true);
    }
  }, 30_000);
});
