import { expect, test } from "bun:test";
import { FramePool } from "../../src/source/frame-pool.ts";

test("a buffer given back is the next one taken", () => {
  const pool = new FramePool(12);
  const a = pool.take();
  pool.give(a);
  expect(pool.take()).toBe(a);
  expect(pool.toJSON()).toEqual({ frameSize: 12, allocated: 1, free: 0 });
});

test("with nothing given back, each take allocates a new buffer of the frame size", () => {
  const pool = new FramePool(12);
  const a = pool.take();
  const b = pool.take();
  expect(a).not.toBe(b);
  expect(b.length).toBe(12);
  expect(pool.toJSON().allocated).toBe(2);
});

test("keeps at most maxFree buffers, and each only once", () => {
  const pool = new FramePool(4, 2);
  const buffers = [pool.take(), pool.take(), pool.take()];
  pool.give(buffers[0]!);
  pool.give(buffers[0]!);
  expect(pool.toJSON().free).toBe(1);
  for (const b of buffers) pool.give(b);
  expect(pool.toJSON().free).toBe(2);
});

test("refuses buffers of another size and views into a larger buffer", () => {
  const pool = new FramePool(8);
  pool.give(new Uint8Array(7));
  pool.give(new Uint8Array(16).subarray(0, 8));
  pool.give(new Uint8Array(16).subarray(8, 16));
  expect(pool.toJSON().free).toBe(0);
});
