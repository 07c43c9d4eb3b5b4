import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { overlayFontSize, renderMessageCard, renderOverlayPanel } from "../../src/display/text-image.ts";
import { qrModules } from "../../src/web/qr-code.ts";

// Real SVG text through sharp (librsvg + fontconfig), as the window draws it.

const brightPixels = (rgba: Uint8Array) => {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i]! > 200 && rgba[i + 3]! > 200) n++;
  return n;
};

test("the overlay panel is translucent dark with white text, sized to the frame", async () => {
  const lines = ["30.0 fps · 4.1 Mbit/s", "loss 0.0%", "latency 38 ms · decode 8.0 ms"];
  const panel = await renderOverlayPanel(lines, 1280);
  expect(panel.rgba.length).toBe(panel.width * panel.height * 4);
  expect(panel.width).toBeLessThanOrEqual(1280);
  expect(panel.height).toBeGreaterThan(lines.length * overlayFontSize(1280));
  // The corner inside the rounding is background: dark and about 62% opaque.
  const middleLeft = ((panel.height >> 1) * panel.width + 3) * 4;
  expect(panel.rgba[middleLeft]).toBeLessThan(20);
  expect(panel.rgba[middleLeft + 3]).toBeGreaterThan(140);
  expect(panel.rgba[middleLeft + 3]).toBeLessThan(180);
  // Text was drawn: a font was found and glyphs rendered.
  expect(brightPixels(panel.rgba)).toBeGreaterThan(200);
  // A 4K frame gets bigger text than a 640-wide one.
  const small = await renderOverlayPanel(lines, 640);
  const large = await renderOverlayPanel(lines, 3840);
  expect(large.height).toBeGreaterThan(small.height * 2);
});

test("markup in the text is drawn as text, not parsed", async () => {
  const panel = await renderOverlayPanel(['<svg> & "quotes"'], 640);
  expect(brightPixels(panel.rgba)).toBeGreaterThan(50);
});

test("a message card fills the size asked for, with its text in the middle", async () => {
  const card = await renderMessageCard("Waiting for stream on :9999", "udpvid send FILE --to THIS-HOST:9999", 960, 540);
  expect([card.width, card.height]).toEqual([960, 540]);
  const rowBright = (y: number) => brightPixels(card.rgba.subarray(y * 960 * 4, (y + 1) * 960 * 4));
  expect(rowBright(10)).toBe(0);
  let middle = 0;
  for (let y = 240; y < 280; y++) middle += rowBright(y);
  expect(middle).toBeGreaterThan(100);
});

test("a card with a QR code: the code a phone reads is the URL given (decoded by zbar), below the text", async () => {
  const url = "http://192.168.1.5:8080/?token=AbCdEfGhIjKlMnOpQrStUv";
  const card = await renderMessageCard("Waiting for stream on :9999", ["udpvid send FILE --to 192.168.1.5:9999", `or watch in a browser: ${url}`], 960, 540, qrModules(url));
  const dir = mkdtempSync(join(tmpdir(), "udpvid-qr-"));
  try {
    const png = join(dir, "card.png");
    await sharp(card.rgba, { raw: { width: card.width, height: card.height, channels: 4 } }).png().toFile(png);
    const read = Bun.spawnSync(["zbarimg", "--quiet", "--raw", "-Sqrcode.enable", png]);
    expect(read.stdout.toString().trim()).toBe(url);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The text stays readable above it: the top third has the headline.
  let top = 0;
  for (let y = 120; y < 200; y++) top += brightPixels(card.rgba.subarray(y * 960 * 4, (y + 1) * 960 * 4));
  expect(top).toBeGreaterThan(100);
});

test("a card too small for a QR code leaves it out rather than draw it unreadable", async () => {
  const withCode = await renderMessageCard("Waiting", ["x"], 120, 60, qrModules("http://192.168.1.5:8080/?token=AbCdEfGhIjKlMnOpQrStUv"));
  const without = await renderMessageCard("Waiting", ["x"], 120, 60);
  expect(Buffer.from(withCode.rgba).equals(Buffer.from(without.rgba))).toBe(true);
});
