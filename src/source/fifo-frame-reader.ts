import { closeSync, constants, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeFifo } from "../native/fifo.ts";
import type { ReaderCommand, ReaderEvent } from "./frame-reader-messages.ts";

/**
 * Frames a worker reads ahead: enough to keep ffmpeg decoding through an
 * encode and a send, few enough to stay small (4 × 3 MB at 1080p).
 */
const SLOTS = 4;

/**
 * The worker's module. A compiled binary holds it as an entrypoint of its
 * own (scripts/build.ts), named from src/ as the root, and this module's
 * import.meta.url is then the binary's, not this file's.
 */
function workerEntry(): string {
  return import.meta.url.includes("/$bunfs/") ? "/$bunfs/root/source/frame-reader-worker.js" : new URL("./frame-reader-worker.ts", import.meta.url).href;
}

/** The end of the frames: a whole number of them, or `leftover` bytes of one more (the writer stopped mid-frame). */
export interface ReaderEnd {
  leftover: number;
}

/**
 * ffmpeg's raw frames through a named pipe, read whole by a worker thread
 * (frame-reader-worker.ts) into a shared buffer, ahead of the encoder.
 * Against Bun's stdout stream it saved a copy and a fresh chunk per read
 * (a 720p frame came as ~22 chunks of 64 KiB), and ffmpeg no longer waits
 * for the main thread to finish encoding before it can hand over the next
 * frame: 0.83× ffmpeg's own RTP/JPEG sender's frame rate at 720p against
 * 0.75× through stdout, in the same `bun run bench`. A caller
 * that keeps its frames instead of giving them back does not stop the
 * reading: the worker gets new buffers for those it holds.
 *
 * ffmpeg opens its output before it says what it is, and an open of a
 * FIFO for writing waits for a reader: holdOpen() opens it for reading
 * without waiting (never read), so ffmpeg goes on. start() then has the
 * worker open it for real, with a writer held open meanwhile, so that open
 * cannot wait forever on an ffmpeg that already died.
 *
 * Where there are no FIFOs (Windows) or mkfifo fails, create() gives
 * undefined and the source reads ffmpeg's stdout instead.
 */
export class FifoFrameReader {
  private readonly ready: number[] = [];
  /** Each slot's buffer: one frame each. */
  private buffers: SharedArrayBuffer[] = [];
  /** Slots handed out by next() and not given back yet, oldest first. */
  private readonly out: number[] = [];
  private waiter: (() => void) | undefined;
  private end: ReaderEnd | undefined;
  private failure: Error | undefined;
  private holder: number | undefined;
  private guard: number | undefined;
  private closed = false;
  private made = 0;
  /** The reading thread, from start() on. */
  private worker: Worker | undefined;

  private constructor(
    /** The FIFO ffmpeg writes to. */
    readonly path: string,
    private readonly folder: string,
  ) {}

  /** A FIFO in a folder of its own under the system's temporary folder, and its reader (not yet started); undefined where there are none. */
  static create(): FifoFrameReader | undefined {
    if (process.platform === "win32") return undefined;
    let folder: string | undefined;
    try {
      folder = mkdtempSync(join(tmpdir(), "udpvid-frames-"));
      const path = join(folder, "frames");
      makeFifo(path);
      return new FifoFrameReader(path, folder);
    } catch {
      if (folder) rmSync(folder, { recursive: true, force: true });
      return undefined;
    }
  }

  /** Lets ffmpeg's open of the FIFO return: a reader that never reads. Call once ffmpeg is started. */
  holdOpen(): void {
    this.holder ??= openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Starts reading frames of `frameSize` bytes, once ffmpeg has opened the FIFO (it has, once it describes its output). */
  start(frameSize: number): void {
    if (this.buffers.length) throw new Error("the frame reader is already started");
    // Made only now: made beside ffmpeg's start, its own start held up ffmpeg's header by some 15 ms on 2 cores.
    const worker = new Worker(workerEntry());
    worker.onmessage = (event: MessageEvent<ReaderEvent>) => this.heard(event.data);
    worker.onerror = (event) => this.fail(new Error(`the frame reader stopped: ${event.message}`));
    // Never what keeps the process alive: it ends with ffmpeg's output, or is stopped by close().
    worker.unref();
    this.worker = worker;
    this.buffers = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(frameSize));
    this.made = SLOTS;
    this.holdOpen();
    // A writer besides ffmpeg, until the worker's open has returned (a FIFO with a reader opens for writing at once).
    this.guard = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
    this.tell({ type: "start", path: this.path, buffers: this.buffers });
  }

  /** The next whole frame (give it back once done with it), or the end. */
  async next(): Promise<Uint8Array | ReaderEnd> {
    while (true) {
      const slot = this.ready.shift();
      if (slot !== undefined) {
        this.out.push(slot);
        return new Uint8Array(this.buffers[slot]!);
      }
      if (this.failure) throw this.failure;
      if (this.end) return this.end;
      // Every slot handed out and none back: the caller keeps its frames. The oldest is left to it, and the worker reads into a new buffer.
      if (this.out.length === this.buffers.length) this.replace(this.out.shift()!);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Gives a frame from next() back: the worker may read into it again. Anything else is ignored. */
  give(frame: Uint8Array): void {
    const slot = this.buffers.indexOf(frame.buffer as SharedArrayBuffer);
    const at = this.out.indexOf(slot);
    if (slot < 0 || at < 0 || this.closed) return;
    this.out.splice(at, 1);
    this.tell({ type: "free", slot });
  }

  /** Frame buffers made so far: the slots, and one more for each frame a caller kept. */
  get allocated(): number {
    return this.made;
  }

  /**
   * Stops the worker and removes the FIFO; frames already handed out stay
   * readable. The worker closes the FIFO itself (terminating it would leave
   * the FIFO open and an ffmpeg blocked on writing to it never ending): at
   * once when it waits for a slot, else when its read returns, which it
   * does once ffmpeg writes or ends.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tell({ type: "stop" });
    this.release();
    this.end ??= { leftover: 0 };
    this.wake();
  }

  private replace(slot: number): void {
    const buffer = new SharedArrayBuffer(this.buffers[slot]!.byteLength);
    this.made++;
    this.buffers[slot] = buffer;
    this.tell({ type: "replace", slot, buffer });
  }

  private heard(event: ReaderEvent): void {
    if (event.type === "opened") this.release();
    else if (event.type === "frame") this.ready.push(event.slot);
    else {
      // The worker has closed the FIFO and has nothing more to do.
      this.worker?.terminate();
      if (event.type === "end") this.end ??= { leftover: event.leftover };
      else this.fail(new Error(`reading ffmpeg's frames failed: ${event.message}`));
    }
    this.wake();
  }

  /** The guard and the holder closed and the FIFO's name removed: from here its only writer is ffmpeg. */
  private release(): void {
    for (const fd of [this.guard, this.holder]) if (fd !== undefined) closeSync(fd);
    this.guard = this.holder = undefined;
    rmSync(this.folder, { recursive: true, force: true });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  private tell(command: ReaderCommand): void {
    this.worker?.postMessage(command);
  }
}
