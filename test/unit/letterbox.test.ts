import { expect, test } from "bun:test";
import { letterbox } from "../../src/display/letterbox.ts";

test.each([
  // image, window → rectangle
  [1280, 720, 960, 540, { x: 0, y: 0, width: 960, height: 540 }],
  [1280, 720, 1000, 1000, { x: 0, y: 218, width: 1000, height: 563 }],
  [1280, 720, 800, 200, { x: 222, y: 0, width: 356, height: 200 }],
  [640, 480, 1920, 1080, { x: 240, y: 0, width: 1440, height: 1080 }],
  [100, 100, 1, 1, { x: 0, y: 0, width: 1, height: 1 }],
])("%ix%i in %ix%i", (iw, ih, ww, wh, expected) => {
  const rect = letterbox(iw, ih, ww, wh);
  expect(rect).toEqual(expected);
  // Inside the window, aspect ratio kept to within a pixel.
  expect(rect.x + rect.width).toBeLessThanOrEqual(ww);
  expect(rect.y + rect.height).toBeLessThanOrEqual(wh);
  expect(Math.abs(rect.width / rect.height - iw / ih)).toBeLessThan(2 / Math.min(rect.width, rect.height) + 0.01);
});
