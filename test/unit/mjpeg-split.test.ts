import { expect, test } from "bun:test";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";

test("splits back-to-back JPEGs at EOI followed by SOI, and only there", () => {
  const a = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 0xff, 0xd9, 2, 0xff, 0xd9);
  const b = Uint8Array.of(0xff, 0xd8, 0xff, 0xdb, 3, 0xff, 0xd9);
  const frames = splitMjpeg(Uint8Array.of(...a, ...b, ...a));
  expect(frames.map((f) => [...f])).toEqual([[...a], [...b], [...a]]);
  expect(splitMjpeg(new Uint8Array(0))).toEqual([]);
});
