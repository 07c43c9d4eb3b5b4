import { ProtocolError } from "../protocol/protocol-error.ts";
import { deserializeV2 } from "../protocol/v2.ts";
import { StreamKeyring } from "../protocol/v2-seal.ts";
import { V2Reassembler, type V2Event, type V2ReassemblerOptions } from "./v2-reassembler.ts";
import type { AssemblerEvent, Reassembler, ReassemblyCounts } from "./reassembler.ts";

/**
 * udpvid v2 datagrams: parsed, opened when the receiver has a key (only
 * sealed datagrams that authenticate are accepted then), and collected into
 * frames with FEC recovery.
 */
export class V2Datagrams implements Reassembler {
  private readonly reassembler: V2Reassembler;
  private readonly keyring: StreamKeyring | undefined;

  constructor(options: Partial<V2ReassemblerOptions>, preSharedKey: Uint8Array | undefined) {
    this.reassembler = new V2Reassembler(options);
    this.keyring = preSharedKey ? new StreamKeyring(preSharedKey) : undefined;
  }

  push(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    const packet = deserializeV2(datagram);
    if (!this.keyring) {
      if (packet.sealed) throw new ProtocolError("sealed-no-key", "the stream is encrypted and this receiver has no key");
      return fromV2(this.reassembler.push(packet, nowMs));
    }
    if (!packet.sealed) throw new ProtocolError("not-sealed", "a plain datagram at a receiver that requires a key");
    const staleBefore = this.reassembler.staleChunks;
    const events = fromV2(this.reassembler.push(this.keyring.open(datagram, packet), nowMs));
    // With a key, anything authentic but already used is refused as a possible replay.
    if (this.reassembler.staleChunks > staleBefore) throw new RefusedAfterUse(events);
    return events;
  }

  expire(nowMs: number): AssemblerEvent[] {
    return fromV2(this.reassembler.expire(nowMs));
  }

  counts(): ReassemblyCounts {
    const s = this.reassembler.stats;
    return {
      datagramsExpected: s.chunksExpected,
      datagramsLost: this.reassembler.chunksLost,
      datagramsRecovered: s.chunksRecovered,
      datagramsDuplicated: s.chunksDuplicate,
      datagramsReordered: s.chunksReordered,
      datagramsLate: s.chunksLate,
      framesCompleted: s.framesCompleted,
      framesRecovered: s.framesRecovered,
      framesDroppedIncomplete: s.framesDroppedIncomplete,
    };
  }

  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }

  toJSON() {
    return this.reassembler.toJSON();
  }
}

/**
 * A sealed datagram that authenticated but was already used (a replay, or a
 * duplicate): refused as "stale", though the events it caused still stand.
 */
export class RefusedAfterUse extends ProtocolError {
  constructor(readonly events: AssemblerEvent[]) {
    super("stale", "an authentic datagram seen before: a possible replay");
  }
}

function fromV2(events: V2Event[]): AssemblerEvent[] {
  const out: AssemblerEvent[] = [];
  for (const event of events) {
    if (event.kind === "frame") {
      const { jpeg, frameNumber, captureTimeUs, recovered } = event.frame;
      out.push({ kind: "frame", frame: { protocol: "v2", jpeg, frameNumber, captureTimeUs, recovered } });
    } else if (event.kind === "end") {
      out.push({ kind: "end" });
    }
  }
  return out;
}
