import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { FifoFrameReader, type ReaderEnd } from "../../src/source/fifo-frame-reader.ts";

const FRAME = 100_000; // more than a FIFO holds (64 KiB): every frame takes several reads

/**
 * A writer process: `frames` frames of FRAME bytes, each filled with its
 * number, then `extra` bytes more. It says "open" once it has the FIFO open,
 * as ffmpeg describes its output once it has: the reader starts after that.
 */
function writer(path: string, frames: number, extra = 0): { child: Bun.Subprocess<"ignore", "pipe", "pipe">; opened: Promise<void> } {
  const script = `
    const { openSync, writeSync } = require("node:fs");
    const fd = openSync(${JSON.stringify(path)}, "w");
    writeSync(1, "open\\n");
    for (let i = 0; i < ${frames}; i++) writeSync(fd, new Uint8Array(${FRAME}).fill(i));
    if (${extra}) writeSync(fd, new Uint8Array(${extra}).fill(255));`;
  const child = Bun.spawn([process.execPath, "--eval", script], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const opened = (async () => {
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    if (!new TextDecoder().decode(value).includes("open")) throw new Error("the writer did not open the FIFO");
    reader.releaseLock();
  })();
  return { child, opened };
}

/** A reader with a writer of `frames` (and `extra` bytes), started once the writer has the FIFO open. */
async function readerWithWriter(frames: number, extra = 0): Promise<{ reader: FifoFrameReader; child: Bun.Subprocess<"ignore", "pipe", "pipe"> }> {
  const reader = FifoFrameReader.create()!;
  expect(reader).toBeDefined();
  const { child, opened } = writer(reader.path, frames, extra);
  reader.holdOpen();
  await opened;
  reader.start(FRAME);
  return { reader, child };
}

async function readAll(reader: FifoFrameReader, giveBack: boolean): Promise<{ firstBytes: number[]; end: ReaderEnd }> {
  const firstBytes: number[] = [];
  while (true) {
    const next = await reader.next();
    if (!(next instanceof Uint8Array)) return { firstBytes, end: next };
    expect(next.length).toBe(FRAME);
    expect(next[FRAME - 1]).toBe(next[0]); // whole, not torn
    firstBytes.push(next[0]!);
    if (giveBack) reader.give(next);
  }
}

test("frames come whole and in order through four slots, the end says what was left over, and the FIFO's name is gone", async () => {
  const { reader, child } = await readerWithWriter(12, 1234);
  const { firstBytes, end } = await readAll(reader, true);
  expect(firstBytes).toEqual([...Array(12).keys()]);
  expect(end).toEqual({ leftover: 1234 });
  expect(reader.allocated).toBe(4);
  expect(await child.exited).toBe(0);
  expect(existsSync(dirname(reader.path))).toBe(false);
  reader.close();
});

test("a caller that keeps its frames still gets them all: the worker reads into new buffers", async () => {
  const { reader, child } = await readerWithWriter(9);
  const { firstBytes, end } = await readAll(reader, false);
  expect(firstBytes).toEqual([...Array(9).keys()]);
  expect(end).toEqual({ leftover: 0 });
  expect(reader.allocated).toBeGreaterThanOrEqual(9);
  expect(await child.exited).toBe(0);
  reader.close();
});

test("closing while the writer is blocked on a full FIFO ends the writer (it is not left waiting for ever)", async () => {
  const { reader, child } = await readerWithWriter(50);
  const first = await reader.next();
  expect(first).toBeInstanceOf(Uint8Array);
  // Four slots and a full FIFO: the writer is blocked now, the worker waits for a slot.
  reader.close();
  expect(await reader.next()).toEqual({ leftover: 0 });
  const exitCode = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "still blocked")]);
  expect(exitCode).not.toBe("still blocked");
  expect(exitCode).not.toBe(0); // its write failed: nobody reads any more
  expect(await new Response(child.stderr).text()).toContain("EPIPE");
});

test("a writer that opens the FIFO and ends without a frame ends the reading, even when it ended before the reader started", async () => {
  const reader = FifoFrameReader.create()!;
  const { child } = writer(reader.path, 0);
  reader.holdOpen();
  expect(await child.exited).toBe(0);
  // The writer came and went: the worker's open must not wait for another.
  reader.start(FRAME);
  expect(await reader.next()).toEqual({ leftover: 0 });
  reader.close();
});

test("frames not from this reader are ignored when given back, and a frame is given back once", async () => {
  const { reader, child } = await readerWithWriter(6);
  const first = (await reader.next()) as Uint8Array;
  reader.give(new Uint8Array(FRAME));
  reader.give(first.subarray(0, 10));
  reader.give(first);
  reader.give(first); // twice: the slot must not be read into twice over
  const { firstBytes } = await readAll(reader, true);
  expect(firstBytes).toEqual([1, 2, 3, 4, 5]);
  expect(reader.allocated).toBe(4);
  expect(await child.exited).toBe(0);
  reader.close();
});
