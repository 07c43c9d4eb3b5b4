import { deserializeLegacy } from "../protocol/legacy.ts";
import { LegacyReassembler } from "./legacy-reassembler.ts";
import { NO_COUNTS, type AssemblerEvent, type DatagramReassembler, type ReassemblyCounts } from "./datagram-reassembler.ts";

/** The lab protocol's datagrams, parsed and glued into frames. It carries no numbers, so only frames are counted. */
export class LegacyDatagramReassembler implements DatagramReassembler {
  private readonly reassembler: LegacyReassembler;

  constructor(maxFrameBytes: number) {
    this.reassembler = new LegacyReassembler({ maxFrameBytes });
  }

  push(datagram: Uint8Array): AssemblerEvent[] {
    const jpeg = this.reassembler.push(deserializeLegacy(datagram));
    return jpeg ? [{ kind: "frame", frame: { protocol: "legacy", jpeg } }] : [];
  }

  expire(): AssemblerEvent[] {
    return [];
  }

  counts(): ReassemblyCounts {
    const { framesCompleted, framesDroppedIncomplete, framesDroppedOversized } = this.reassembler.stats;
    return { ...NO_COUNTS, framesCompleted, framesDroppedIncomplete: framesDroppedIncomplete + framesDroppedOversized };
  }

  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }

  toJSON() {
    return this.reassembler.toJSON();
  }
}
