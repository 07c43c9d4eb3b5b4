import type { LegacyChunk } from "../protocol/legacy.ts";
import { concatBytes } from "../util/bytes.ts";
import { endsLikeJpeg, startsLikeJpeg } from "./jpeg-markers.ts";

export interface LegacyReassemblerOptions {
  /** A frame growing past this is dropped: the lab protocol has no length to check against. */
  maxFrameBytes: number;
}

/**
 * Glues lab-protocol chunks into frames, as the lab client does, but never
 * glues two frames together: a chunk that starts with a JPEG SOI begins a
 * new frame (what came before it was incomplete), chunks with no frame to
 * join are stray, and a frame must end with EOI. A middle chunk's loss is
 * invisible here; the decoder's strict mode catches that.
 */
export class LegacyReassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private inFrame = false;

  readonly stats = {
    framesCompleted: 0,
    framesDroppedIncomplete: 0,
    framesDroppedOversized: 0,
    strayChunks: 0,
  };

  constructor(private readonly options: LegacyReassemblerOptions) {}

  /** Feeds one chunk; returns the JPEG bytes when a whole, well-formed frame is complete. */
  push(chunk: LegacyChunk): Uint8Array | undefined {
    if (startsLikeJpeg(chunk.payload)) {
      if (this.inFrame) this.stats.framesDroppedIncomplete++;
      this.reset();
      this.inFrame = true;
    } else if (!this.inFrame) {
      this.stats.strayChunks++;
      return undefined;
    }
    if (this.size + chunk.payload.length > this.options.maxFrameBytes) {
      this.stats.framesDroppedOversized++;
      this.reset();
      return undefined;
    }
    this.parts.push(chunk.payload);
    this.size += chunk.payload.length;
    if (!chunk.last) return undefined;

    const jpeg = concatBytes(this.parts, this.size);
    this.reset();
    if (!endsLikeJpeg(jpeg)) {
      this.stats.framesDroppedIncomplete++;
      return undefined;
    }
    this.stats.framesCompleted++;
    return jpeg;
  }

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.size;
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.inFrame = false;
  }

  toJSON() {
    return { ...this.stats, bufferedBytes: this.size };
  }
}
