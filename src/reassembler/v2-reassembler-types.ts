// The v2 reassembler's options, counts and what it hands out.

export interface V2ReassemblerOptions {
  /** Frames collected at once (at least; while holding for repair, as many as the hold needs); a new frame beyond this evicts the oldest. */
  maxFramesInFlight: number;
  /** Cap on payload bytes held across all frames in flight. */
  maxBufferedBytes: number;
  /** Cap on one frame's data + parity chunks. */
  maxChunksPerFrame: number;
  /** An incomplete frame older than this is dropped by expire(). */
  frameDeadlineMs: number;
  /**
   * A different stream id takes over once the current stream has ended or
   * been silent for three of its frame intervals, clamped to this range:
   * a restarted sender is followed at once, two live ones do not flap.
   */
  streamSwitchAfterMs: { min: number; max: number };
  /**
   * How long an incomplete frame may hold back newer complete ones while it
   * waits for repair (retransmission): frames then come out in order, and a
   * frame still incomplete after this is dropped. 0 (no return path): a
   * complete frame goes out at once and older incomplete ones are dropped.
   */
  repairHoldMs: number;
}

export const DEFAULT_V2_REASSEMBLER_OPTIONS: V2ReassemblerOptions = {
  maxFramesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxChunksPerFrame: 16384,
  frameDeadlineMs: 1000,
  streamSwitchAfterMs: { min: 50, max: 500 },
  repairHoldMs: 0,
};

/** Per-chunk bookkeeping charged against the memory cap on top of its payload, so a flood of tiny chunks is bounded too. */
export const CHUNK_OVERHEAD_BYTES = 128;

/** What the v2 reassembler counts. */
export function newV2ChunkCounts() {
  return {
    /** Distinct chunks that arrived, late ones included. */
    chunksReceived: 0,
    chunksDuplicate: 0,
    chunksReordered: 0,
    /** Arrived after their frame was handed on (FEC did not need them) or dropped. */
    chunksLate: 0,
    /** Of the late: for a frame too old to be remembered, or after the stream ended (a replay, or very late). */
    chunksStale: 0,
    chunksForeignStream: 0,
    chunksOverLimit: 0,
    chunksInconsistent: 0,
    /** Data chunks rebuilt from parity. */
    chunksRecovered: 0,
    /** Chunks of every frame seen, as their headers announce. */
    chunksExpected: 0,
    framesCompleted: 0,
    framesRecovered: 0,
    framesDroppedIncomplete: 0,
    /** Frame numbers skipped entirely: not one chunk of them arrived. */
    framesMissing: 0,
  };
}

export type V2ChunkCounts = ReturnType<typeof newV2ChunkCounts>;

/**
 * Chunks a genuine sender's network would rarely produce, and a replay
 * always does: second copies, chunks of frames long gone or of a finished
 * stream, and chunks of another stream. (A first copy that arrives just
 * after its frame was handed on is an ordinary straggler, not counted.)
 */
export function staleChunks(counts: V2ChunkCounts): number {
  return counts.chunksDuplicate + counts.chunksStale + counts.chunksForeignStream;
}

/** Chunks announced but never seen, over frames no longer being collected (`collecting`: those still missing some). */
export function chunksLost(counts: V2ChunkCounts, collecting: Iterable<{ missing: number }>): number {
  let stillExpected = 0;
  for (const frame of collecting) stillExpected += frame.missing;
  return Math.max(0, counts.chunksExpected - counts.chunksReceived - stillExpected);
}

export interface V2AssembledFrame {
  streamId: number;
  frameNumber: number;
  captureTimeUs: number;
  jpeg: Uint8Array;
  /** True when FEC filled in lost data chunks. */
  recovered: boolean;
}

export type V2Event =
  | { kind: "frame"; frame: V2AssembledFrame }
  | { kind: "end"; streamId: number }
  | { kind: "new-stream"; streamId: number };
