/**
 * What the main thread tells frame-reader-worker.ts. Each slot is a
 * shared buffer of one frame; slots are named by their place in `buffers`.
 */
export type ReaderCommand =
  | { type: "start"; path: string; buffers: SharedArrayBuffer[] }
  | { type: "free"; slot: number }
  /** The slot's old buffer stays with whoever holds its frame; read into this one from now on. */
  | { type: "replace"; slot: number; buffer: SharedArrayBuffer }
  /** Close the FIFO and end: a writer blocked on it then fails rather than waits for ever. */
  | { type: "stop" };

/** What frame-reader-worker.ts tells the main thread. */
export type ReaderEvent =
  | { type: "opened" }
  | { type: "frame"; slot: number }
  | { type: "end"; leftover: number }
  | { type: "error"; message: string };
