import { expect, test } from "bun:test";
import { blendOver } from "../../src/display/blend.ts";

const image = (width: number, height: number, pixel: number[]) => ({
  width,
  height,
  rgba: Uint8Array.from({ length: width * height * 4 }, (_, i) => pixel[i % 4]!),
});

test("opaque pixels replace, transparent ones leave the picture alone", () => {
  const bottom = image(2, 1, [10, 20, 30, 255]);
  const top = { width: 2, height: 1, rgba: Uint8Array.from([200, 100, 50, 255, 1, 2, 3, 0]) };
  blendOver(bottom, top, 0, 0);
  expect([...bottom.rgba]).toEqual([200, 100, 50, 255, 10, 20, 30, 255]);
});

test("a half-transparent pixel mixes with the opaque picture under it", () => {
  const bottom = image(1, 1, [200, 100, 0, 255]);
  blendOver(bottom, image(1, 1, [0, 0, 0, 128]), 0, 0);
  // 200 × (1 − 128/255) = 99.6
  expect([...bottom.rgba]).toEqual([100, 50, 0, 255]);
});

test("the panel lands at (x, y) and is clipped at the picture's edges", () => {
  const bottom = image(4, 3, [0, 0, 0, 255]);
  blendOver(bottom, image(3, 3, [255, 255, 255, 255]), 2, 1);
  const white = (x: number, y: number) => bottom.rgba[(y * 4 + x) * 4] === 255;
  const map = [0, 1, 2].map((y) => [0, 1, 2, 3].map((x) => (white(x, y) ? "#" : ".")).join(""));
  expect(map).toEqual(["....", "..##", "..##"]);
  // Negative offsets clip too.
  const other = image(2, 2, [0, 0, 0, 255]);
  blendOver(other, image(2, 2, [9, 9, 9, 255]), -1, -1);
  expect([...other.rgba.slice(0, 4)]).toEqual([9, 9, 9, 255]);
  expect(other.rgba[4]).toBe(0);
});

test("over an opaque picture the integer path matches the exact formula for every alpha", () => {
  for (let a = 0; a <= 255; a++) {
    for (const [top, under] of [[0, 255], [255, 0], [37, 201], [128, 128], [254, 1]] as const) {
      const bottom = image(1, 1, [under, under, under, 255]);
      blendOver(bottom, image(1, 1, [top, top, top, a]), 0, 0);
      expect(bottom.rgba[0]).toBe(Math.round((top * a + under * (255 - a)) / 255));
      expect(bottom.rgba[3]).toBe(255);
    }
  }
});

test("over a translucent picture alpha adds up as Porter–Duff says", () => {
  const bottom = image(1, 1, [0, 0, 200, 128]);
  blendOver(bottom, image(1, 1, [200, 0, 0, 128]), 0, 0);
  // out alpha = 128 + 128 × 127/255 = 191.7; red = 200 × 128 / 191.7 = 133.5; blue = 200 × 128 × 127/255 / 191.7 = 66.5
  expect([...bottom.rgba]).toEqual([134, 0, 66, 192]);
});
