import { expect, test } from "bun:test";
import { orderedMap } from "../../src/util/ordered-map.ts";

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

test("results come out in input order even when later calls finish first, with bounded concurrency", async () => {
  let inFlight = 0;
  let peak = 0;
  const out: number[] = [];
  for await (const value of orderedMap(
    numbers(20),
    async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await Bun.sleep((20 - i) % 5);
      inFlight--;
      return i * 10;
    },
    3,
  )) {
    out.push(value);
  }
  expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  expect(peak).toBe(3);
});

test("an error surfaces in order, at the item that failed", async () => {
  const out: number[] = [];
  const run = async () => {
    for await (const value of orderedMap(
      numbers(5),
      async (i) => {
        if (i === 3) throw new Error("item 3 failed");
        return i;
      },
      2,
    )) {
      out.push(value);
    }
  };
  await expect(run()).rejects.toThrow("item 3 failed");
  await Bun.sleep(10);
  expect(out).toEqual([0, 1, 2]);
});
