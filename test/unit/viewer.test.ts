import { expect, test } from "bun:test";
import type { RgbaImage } from "../../src/decoder/jpeg-decoder.ts";
import { isI420, type Picture } from "../../src/decoder/picture.ts";
import type { StreamReadout } from "../../src/display/stream-readout.ts";
import { Viewer, type Renderers, type WindowSurface } from "../../src/display/viewer.ts";

// The viewer's decisions, through a surface that records what it was given.
// The real window, keys and screenshots are in test/e2e/window.test.ts.

const solid = (width: number, height: number, value: number): RgbaImage => ({ width, height, rgba: new Uint8Array(width * height * 4).fill(value) });

class RecordingSurface implements WindowSurface {
  pixelWidth = 320;
  pixelHeight = 180;
  drawn: RgbaImage[] = [];
  titles: string[] = [];
  fullscreenToggles = 0;
  fits: string[] = [];
  draw(image: Picture) {
    this.drawn.push(isI420(image) ? solid(image.width, image.height, -1) : { ...image, rgba: image.rgba.slice() });
  }
  setTitle(title: string) {
    this.titles.push(title);
  }
  toggleFullscreen() {
    this.fullscreenToggles++;
  }
  fitTo(width: number, height: number) {
    this.fits.push(`${width}x${height}`);
  }
  prepared: string[] = [];
  prepare(width: number, height: number, i420: boolean) {
    this.prepared.push(`${width}x${height}${i420 ? " planes" : ""}`);
  }
  get last() {
    return this.drawn.at(-1);
  }
}

const cards: string[] = [];
const renderers: Renderers = {
  // A card is a solid picture the size asked for; what it said is logged.
  card: async (headline, _detail, width, height) => {
    cards.push(`${headline} @${width}x${height}`);
    return solid(width, height, 7);
  },
  panel: async () => ({ width: 4, height: 2, rgba: new Uint8Array(4 * 2 * 4).fill(255) }),
};

const readout = (state: StreamReadout["state"], extra: Partial<StreamReadout> = {}): StreamReadout => ({
  port: 5000,
  state,
  frozen: false,
  fps: 29.97,
  mbps: 4.12,
  lossPercent: 0.5,
  latencyMs: 38.4,
  decodeMs: 8.1,
  shown: 100,
  skipped: 1,
  dropped: 0,
  recoveredFrames: 2,
  rejected: 0,
  ...extra,
});

const settle = () => Bun.sleep(5);

test('before any frame the window shows "Waiting for stream on :PORT", at window size', async () => {
  cards.length = 0;
  const surface = new RecordingSurface();
  new Viewer(surface, 5000, "192.0.2.7", renderers);
  await settle();
  expect(cards).toEqual(["Waiting for stream on :5000 @320x180"]);
  expect(surface.last).toMatchObject({ width: 320, height: 180 });
});

test("frames replace the card; the title carries the live numbers", async () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  const frame = solid(16, 8, 100);
  viewer.showFrame(frame); // before the waiting card has even rendered: the card must not land on top later
  viewer.update(readout("receiving"));
  await settle();
  expect(surface.last).toEqual(frame);
  expect(surface.titles.at(-1)).toBe("udpvid :5000 - 30.0 fps, 4.1 Mbit/s, 0.5% loss, 38 ms");
});

test("s draws the overlay into a copy of the frame; a second s takes it away", async () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  const frame = solid(64, 32, 100);
  viewer.showFrame(frame);
  viewer.update(readout("receiving"));
  viewer.key("overlay");
  await settle();
  const shown = surface.last!;
  const pixel = (x: number, y: number) => shown.rgba[(y * 64 + x) * 4];
  // overlayFontSize(64) is 11: the 4x2 white panel sits at a margin of round(11 × 0.8) = 9.
  expect([pixel(9, 9), pixel(12, 10), pixel(13, 9), pixel(9, 11), pixel(0, 0)]).toEqual([255, 255, 100, 100, 100]);
  expect(frame.rgba.every((v) => v === 100)).toBe(true); // the decoded frame itself stays clean
  viewer.key("overlay");
  expect(surface.last!.rgba.every((v) => v === 100)).toBe(true);
});

test("space freezes the picture while frames keep coming, and a second press goes live", () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(16, 8, 1));
  viewer.key("freeze");
  expect(viewer.isFrozen).toBe(true);
  expect(surface.titles.at(-1)).toContain("FROZEN");
  viewer.showFrame(solid(16, 8, 2));
  viewer.showFrame(solid(16, 8, 3));
  expect(surface.last!.rgba[0]).toBe(1);
  viewer.key("freeze");
  viewer.showFrame(solid(16, 8, 4));
  expect(surface.last!.rgba[0]).toBe(4);
  expect(surface.titles.at(-1)).not.toContain("FROZEN");
});

test('after the end of the stream the window shows "Stream ended", not the last frame, and a new stream takes over', async () => {
  cards.length = 0;
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(16, 8, 1));
  viewer.update(readout("ended"));
  await settle();
  expect(cards.at(-1)).toBe("Stream ended @320x180");
  expect(surface.last).toMatchObject({ width: 320, height: 180 });
  expect(surface.titles.at(-1)).toBe("udpvid :5000 - stream ended");
  viewer.showFrame(solid(16, 8, 9));
  expect(surface.last!.rgba[0]).toBe(9);
});

test("a frozen picture stays up when the stream ends: the user asked to hold it", async () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(16, 8, 1));
  viewer.key("freeze");
  viewer.update(readout("ended"));
  await settle();
  expect(surface.last!.rgba[0]).toBe(1);
});

test("a resized window gets its card redrawn at the new size; f asks the window for fullscreen", async () => {
  cards.length = 0;
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  surface.pixelWidth = 800;
  surface.pixelHeight = 600;
  viewer.resized();
  await settle();
  expect(cards.at(-1)).toBe("Waiting for stream on :5000 @800x600");
  expect(surface.last).toMatchObject({ width: 800, height: 600 });
  viewer.key("fullscreen");
  expect(surface.fullscreenToggles).toBe(1);
});

test("the window is fitted to the stream's picture once per picture size, not per frame", () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(16, 8, 1));
  viewer.showFrame(solid(16, 8, 2));
  viewer.showFrame(solid(12, 9, 3));
  viewer.showFrame(solid(12, 9, 4));
  expect(surface.fits).toEqual(["16x8", "12x9"]);
});

test("the first frame, decoded ahead of its time, gets the window fitted and ready for its size without drawing it; never while a frame is on show", () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  const planes = { width: 16, height: 8, i420: new Uint8Array(16 * 8 * 1.5) };
  viewer.prepare(planes);
  expect(surface.fits).toEqual(["16x8"]);
  expect(surface.prepared).toEqual(["16x8 planes"]);
  expect(surface.drawn).toEqual([]);
  viewer.showFrame(planes);
  expect(surface.drawn.map((d) => `${d.width}x${d.height}`)).toEqual(["16x8"]);
  expect(surface.fits).toEqual(["16x8"]);
  // A frame on show: preparing would blank it (a stream changing size mid-way draws its first frame as it comes).
  viewer.prepare(solid(12, 9, 3));
  expect(surface.prepared).toEqual(["16x8 planes"]);
  expect(surface.fits).toEqual(["16x8"]);
});

test("after the stream ended (its card on show), the next stream's first frame is prepared again", async () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(16, 8, 1));
  viewer.update(readout("ended"));
  await settle();
  viewer.prepare(solid(16, 8, 2));
  expect(surface.prepared).toEqual(["16x8"]);
});

test("a picture shrunk to fit the link (same shape, smaller) does not resize the window; the full size again grows it once", () => {
  const surface = new RecordingSurface();
  const viewer = new Viewer(surface, 5000, "192.0.2.7", renderers);
  viewer.showFrame(solid(320, 180, 1));
  viewer.showFrame(solid(240, 136, 2)); // ¾, sides rounded to even numbers: the same shape within 2%
  viewer.showFrame(solid(160, 90, 3));
  viewer.showFrame(solid(320, 180, 4));
  expect(surface.fits).toEqual(["320x180"]);
  const started = new RecordingSurface();
  const late = new Viewer(started, 5000, "192.0.2.7", renderers);
  late.showFrame(solid(160, 90, 1)); // a stream that starts small while its rate is found
  late.showFrame(solid(320, 180, 2));
  late.showFrame(solid(160, 90, 3));
  expect(started.fits).toEqual(["160x90", "320x180"]);
});

test("with --web the waiting card names the browsers' URL and carries its QR code; the ended card does not", async () => {
  const asked: { headline: string; detail: string | string[] | undefined; qr: unknown }[] = [];
  const recording: Renderers = {
    ...renderers,
    card: async (headline, detail, width, height, qr) => {
      asked.push({ headline, detail, qr });
      return solid(width, height, 7);
    },
  };
  const surface = new RecordingSurface();
  const qr = [[true, false], [false, true]];
  const viewer = new Viewer(surface, 5000, "192.0.2.7", recording, { url: "http://192.0.2.7:8080/?token=t", qr });
  await settle();
  expect(asked[0]).toEqual({ headline: "Waiting for stream on :5000", detail: ["udpvid send FILE --to 192.0.2.7:5000", "or watch in a browser: http://192.0.2.7:8080/?token=t"], qr });
  viewer.update(readout("ended"));
  await settle();
  expect(asked.at(-1)).toMatchObject({ headline: "Stream ended", qr: undefined });
});
