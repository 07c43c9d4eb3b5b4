/*
 * A worker thread that reads ffmpeg's raw frames from a FIFO, whole frames
 * into the slots of a shared buffer, ahead of the encoder. Blocking reads
 * are fine here (this thread does nothing else), and read straight into
 * the frame they belong to: no chunk is allocated and copied again, and
 * ffmpeg keeps decoding while the main thread encodes.
 *
 * The messages are in frame-reader-messages.ts; fifo-frame-reader.ts is
 * the main thread's side.
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { ReaderCommand, ReaderEvent } from "./frame-reader-messages.ts";

declare const self: Worker;

let buffers: SharedArrayBuffer[] = [];
const free: number[] = [];
let stopping = false;
let slotFreed: (() => void) | undefined;
const tell = (event: ReaderEvent) => self.postMessage(event);

self.onmessage = (event: MessageEvent<ReaderCommand>) => {
  const command = event.data;
  if (command.type === "start") {
    buffers = command.buffers;
    buffers.forEach((_, slot) => free.push(slot));
    read(command.path).catch((error: unknown) => tell({ type: "error", message: (error as Error).message }));
    return;
  }
  if (command.type === "stop") stopping = true;
  else {
    if (command.type === "replace") buffers[command.slot] = command.buffer;
    free.push(command.slot);
  }
  slotFreed?.();
};

/** Reads until the writer closes or a stop; tells the end only once the FIFO is closed (the main thread then ends this worker). */
async function read(path: string): Promise<void> {
  const fd = openSync(path, "r");
  tell({ type: "opened" });
  let leftover = 0;
  try {
    leftover = await readFrames(fd);
  } finally {
    closeSync(fd);
  }
  tell({ type: "end", leftover });
}

/** Frames into free slots until the end of the FIFO (giving the bytes of an unfinished frame) or a stop (0). */
async function readFrames(fd: number): Promise<number> {
  while (true) {
    while (free.length === 0 && !stopping) await new Promise<void>((resolve) => (slotFreed = resolve));
    if (stopping) return 0;
    const slot = free.shift()!;
    const frame = new Uint8Array(buffers[slot]!);
    let filled = 0;
    while (filled < frame.length) {
      const got = readSync(fd, frame, filled, frame.length - filled, null);
      if (got === 0) return filled;
      filled += got;
    }
    tell({ type: "frame", slot });
  }
}
