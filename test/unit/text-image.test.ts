import { expect, test } from "bun:test";
import { overlayFontSize, renderMessageCard, renderOverlayPanel } from "../../src/display/text-image.ts";

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
