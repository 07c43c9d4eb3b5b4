import type { ReceivedAudio } from "./audio-reassembler.ts";
import type { Endpoint, OutgoingDatagram } from "../socket/endpoint.ts";
import type { WireProtocol } from "../protocol/classify.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";

export interface AssembledFrame {
  protocol: WireProtocol;
  jpeg: Uint8Array;
  /** v2 only: the sender's frame number. */
  frameNumber?: number;
  /** When it was captured (µs mod 2^32): v2's on the sender's wall clock; RTP's from its timestamp, on the clock its sound shares (RtpCaptureClock). */
  captureTimeUs?: number;
  /** RTP: the capture time was anchored where the stream arrived, not the sender's wall clock (it says nothing of latency). */
  captureAnchoredOnArrival?: boolean;
  /** v2 only: FEC filled in lost chunks. */
  recovered?: boolean;
}

export type AssemblerEvent = { kind: "frame"; frame: AssembledFrame } | { kind: "audio"; audio: ReceivedAudio } | { kind: "end" };

/**
 * What every protocol's reassembler counts, in the same terms. Datagram
 * counts are 0 where a protocol carries no numbers to count by (legacy).
 */
export interface ReassemblyCounts {
  /** Datagrams the stream's numbering says were sent (received, lost or still due). */
  datagramsExpected: number;
  datagramsLost: number;
  /** Rebuilt by FEC. */
  datagramsRecovered: number;
  datagramsDuplicated: number;
  datagramsReordered: number;
  /** Arrived after their frame was handed on or given up. */
  datagramsLate: number;
  framesCompleted: number;
  /** Completed with FEC's help. */
  framesRecovered: number;
  /** Given up: incomplete past their deadline or overtaken, or over a size limit. */
  framesDroppedIncomplete: number;
}

export const NO_COUNTS: ReassemblyCounts = {
  datagramsExpected: 0,
  datagramsLost: 0,
  datagramsRecovered: 0,
  datagramsDuplicated: 0,
  datagramsReordered: 0,
  datagramsLate: 0,
  framesCompleted: 0,
  framesRecovered: 0,
  framesDroppedIncomplete: 0,
};

export function addCounts(a: ReassemblyCounts, b: ReassemblyCounts): ReassemblyCounts {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof ReassemblyCounts)[]) sum[key] += b[key];
  return sum;
}

/**
 * One protocol's way from datagrams to frames. Pure: the caller passes the
 * clock. A datagram it refuses throws a ProtocolError (counted by the caller).
 */
export interface DatagramReassembler {
  /** One datagram already classified as this reassembler's protocol, from `source` when known. */
  push(datagram: Uint8Array, nowMs: number, source?: Endpoint): AssemblerEvent[];
  /** Call on a timer: frames that waited long enough are finished or given up. */
  expire(nowMs: number): AssemblerEvent[];
  counts(): ReassemblyCounts;
  /** The run is over: what is held goes out, what is incomplete is dropped and counted. */
  flush?(): AssemblerEvent[];
  /** What to send back to the stream's source now (a protocol with a return path: v2). */
  replies?(nowMs: number): OutgoingDatagram[];
  readonly bufferedBytes: number;
  /** Every protocol-specific count, for --json and debugging. */
  toJSON(): object;
}

/**
 * A datagram that authenticated but was already used (a replay, or a
 * duplicate): refused as "stale", though the events it caused still stand.
 */
export class RefusedAfterUse extends ProtocolError {
  constructor(readonly events: AssemblerEvent[]) {
    super("stale", "an authentic datagram seen before: a possible replay");
  }
}
