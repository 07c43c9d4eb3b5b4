import { expect, test } from "bun:test";
import { LatestFrameDecoder } from "../../src/decoder/latest-frame-decoder.ts";

/** A decode whose completion the test controls, to simulate a slow decoder. */
function controlledDecode() {
  const pending: { frame: number; finish: () => void }[] = [];
  const decode = (frame: number) => new Promise<string>((resolve) => pending.push({ frame, finish: () => resolve(`image ${frame}`) }));
  return { decode, pending };
}

test("when decoding falls behind, only the newest waiting frame is decoded next", async () => {
  const { decode, pending } = controlledDecode();
  const shown: string[] = [];
  const decoder = new LatestFrameDecoder<number, string>(decode, (_, image) => shown.push(image));
  decoder.offer(1);
  decoder.offer(2);
  decoder.offer(3);
  decoder.offer(4);
  expect(pending.map((p) => p.frame)).toEqual([1]);
  pending[0]!.finish();
  await Bun.sleep(0);
  expect(pending.map((p) => p.frame)).toEqual([1, 4]);
  pending[1]!.finish();
  await decoder.idle();
  expect(shown).toEqual(["image 1", "image 4"]);
  expect(decoder.stats).toEqual({ decoded: 2, skipped: 2, corrupt: 0 });
});

test("a frame that fails to decode is counted corrupt and never shown; the next one still is", async () => {
  const shown: number[] = [];
  const corrupt: number[] = [];
  const decoder = new LatestFrameDecoder<number, number>(
    async (frame) => {
      if (frame === 2) throw new Error("bad JPEG");
      return frame;
    },
    (frame) => shown.push(frame),
    (frame) => corrupt.push(frame),
  );
  for (const frame of [1, 2, 3]) {
    decoder.offer(frame);
    await decoder.idle();
  }
  expect(shown).toEqual([1, 3]);
  expect(corrupt).toEqual([2]);
  expect(decoder.stats.corrupt).toBe(1);
});

test("idle() resolves at once when nothing is in flight, and only once the decode in flight ends when one is", async () => {
  let finish = () => {};
  const decoder = new LatestFrameDecoder<number, number>((f) => new Promise((resolve) => (finish = () => resolve(f))), () => {});
  let idle = false;
  void decoder.idle().then(() => (idle = true));
  await Bun.sleep(0);
  expect(idle).toBe(true);
  expect(decoder.stats.decoded).toBe(0);
  decoder.offer(1);
  idle = false;
  void decoder.idle().then(() => (idle = true));
  await Bun.sleep(0);
  expect(idle).toBe(false); // the decode of frame 1 is still running
  finish();
  await Bun.sleep(0);
  expect(idle).toBe(true);
});

test("a decode that finishes at once (TurboJPEG, on this thread) does not chain the next: the event loop gets a turn between two frames", async () => {
  const order: string[] = [];
  const decoder = new LatestFrameDecoder<number, number>(
    async (frame) => {
      order.push(`decode ${frame}`);
      return frame;
    },
    (frame) => order.push(`shown ${frame}`),
  );
  decoder.offer(1);
  decoder.offer(2);
  // Queued before the decoder yields: runs in the turn it gives (a microtask chain would decode both first).
  setImmediate(() => order.push("event loop"));
  await decoder.idle();
  expect(order).toEqual(["decode 1", "shown 1", "event loop", "decode 2", "shown 2"]);
});
