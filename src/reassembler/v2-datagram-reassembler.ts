import type { ReceiverFeedback } from "../feedback/receiver-feedback.ts";
import type { Endpoint, OutgoingDatagram } from "../socket/endpoint.ts";
import { sendPosition } from "../packetizer/send-order.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";
import { deserializeV2, V2_HEADER_SIZE, V2_SALT_SIZE, type V2Packet } from "../protocol/v2.ts";
import { StreamKeyring } from "../protocol/v2-seal.ts";
import { V2Reassembler } from "./v2-reassembler.ts";
import { staleChunks, type V2Event, type V2ReassemblerOptions } from "./v2-reassembler-types.ts";
import { RefusedAfterUse, type AssemblerEvent, type DatagramReassembler, type ReassemblyCounts } from "./datagram-reassembler.ts";

/**
 * udpvid v2 datagrams: parsed, opened when the receiver has a key (only
 * sealed datagrams that authenticate are accepted then), and collected into
 * frames with FEC recovery. With a return path (`feedback`), frames wait in
 * order for repairs within the latency budget, and each tick says what to
 * send back to the stream's source.
 */
export class V2DatagramReassembler implements DatagramReassembler {
  private readonly reassembler: V2Reassembler;
  private readonly keyring: StreamKeyring | undefined;

  constructor(
    options: Partial<V2ReassemblerOptions>,
    preSharedKey: Uint8Array | undefined,
    private readonly feedback?: ReceiverFeedback,
  ) {
    this.reassembler = new V2Reassembler({ ...options, repairHoldMs: feedback?.latencyBudgetMs ?? 0 });
    this.keyring = preSharedKey ? new StreamKeyring(preSharedKey) : undefined;
  }

  push(datagram: Uint8Array, nowMs: number, source?: Endpoint): AssemblerEvent[] {
    const parsed = deserializeV2(datagram);
    if (!this.keyring && parsed.sealed) throw new ProtocolError("sealed-no-key", "the stream is encrypted and this receiver has no key");
    if (this.keyring && !parsed.sealed) throw new ProtocolError("not-sealed", "a plain datagram at a receiver that requires a key");
    const packet = this.keyring ? this.keyring.open(datagram, parsed) : parsed;
    const staleBefore = staleChunks(this.reassembler.stats);
    const events = this.handOn(this.reassembler.push(packet, nowMs));
    if (source) this.observe(packet, datagram, source, nowMs);
    // With a key, anything authentic but already used is refused as a possible replay.
    if (this.keyring && staleChunks(this.reassembler.stats) > staleBefore) throw new RefusedAfterUse(events);
    return events;
  }

  /** The stream being followed (its sound is followed with it), once there is one. */
  get currentStreamId(): number | undefined {
    return this.reassembler.currentStreamId;
  }

  expire(nowMs: number): AssemblerEvent[] {
    return this.handOn(this.reassembler.expire(nowMs));
  }

  flush(): AssemblerEvent[] {
    return this.handOn(this.reassembler.flush());
  }

  /** The reassembler's events as the assembler's; the return path hears of each frame handed on. */
  private handOn(v2Events: V2Event[]): AssemblerEvent[] {
    const events = fromV2(v2Events);
    for (const event of events) if (event.kind === "frame") this.feedback?.frameCompleted(event.frame.frameNumber!);
    return events;
  }

  /** NACKs and reports for the stream's source, when there is a return path. */
  replies(nowMs: number): OutgoingDatagram[] {
    if (!this.feedback) return [];
    this.reassembler.repairHoldMs = this.feedback.latencyBudgetMs;
    const reassembler = this.reassembler;
    const feedback = this.feedback;
    return feedback.tick(
      {
        pendingFrames: () => reassembler.pendingFrames(),
        newestFrameNumber: reassembler.newestFrameNumber,
        counts: () => ({
          highestFrame: reassembler.newestFrameNumber ?? 0,
          chunksExpected: reassembler.stats.chunksExpected,
          // What the network lost: never seen (rebuilt by FEC or not), or seen only after a NACK fetched it again.
          chunksLost: reassembler.chunksLost + feedback.chunksAnswered,
          chunksRebuilt: reassembler.stats.chunksRecovered,
          framesComplete: reassembler.stats.framesCompleted,
          framesDropped: reassembler.stats.framesDroppedIncomplete,
        }),
      },
      nowMs,
    );
  }

  /** A datagram of the followed stream, for the return path's log. */
  private observe(packet: V2Packet, datagram: Uint8Array, source: Endpoint, nowMs: number): void {
    if (!this.feedback || packet.endOfStream || packet.streamId !== this.reassembler.currentStreamId) return;
    this.feedback.arrived(
      {
        streamId: packet.streamId,
        frameNumber: packet.frameNumber,
        position: sendPosition(packet.dataChunks, packet.groups * packet.parityPerGroup, packet.parity, packet.chunkIndex),
        captureTimeUs: packet.captureTimeUs,
        bytes: datagram.length,
        salt: packet.sealed ? datagram.subarray(V2_HEADER_SIZE, V2_HEADER_SIZE + V2_SALT_SIZE) : undefined,
      },
      source,
      nowMs,
    );
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
