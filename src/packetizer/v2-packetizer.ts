import { V2_HEADER_SIZE, writeV2Header } from "../protocol/v2.ts";

export interface V2FrameInfo {
  streamId: number;
  frameNumber: number;
  captureTimeUs: number;
}

/** Default datagram size: under a 1500-byte Ethernet MTU with room for IP/UDP and tunnels, so nothing fragments. */
export const DEFAULT_V2_DATAGRAM_SIZE = 1400;
const MAX_CHUNKS = 0xffff;

/**
 * Cuts one JPEG frame into v2 datagrams of at most `datagramSize` bytes.
 * All datagrams share one allocation and are returned as views into it.
 */
export function packetizeV2(jpeg: Uint8Array, frame: V2FrameInfo, datagramSize = DEFAULT_V2_DATAGRAM_SIZE): Uint8Array[] {
  const chunkPayload = datagramSize - V2_HEADER_SIZE;
  if (chunkPayload < 1) throw new RangeError(`datagram size ${datagramSize} leaves no room after the ${V2_HEADER_SIZE}-byte header`);
  if (jpeg.length === 0) throw new RangeError("cannot packetize an empty frame");
  const chunkCount = Math.ceil(jpeg.length / chunkPayload);
  if (chunkCount > MAX_CHUNKS) {
    throw new RangeError(`a ${jpeg.length}-byte frame needs ${chunkCount} chunks of ${chunkPayload} bytes, more than ${MAX_CHUNKS}`);
  }
  const buffer = new Uint8Array(jpeg.length + chunkCount * V2_HEADER_SIZE);
  const datagrams: Uint8Array[] = new Array(chunkCount);
  let out = 0;
  for (let chunkIndex = 0; chunkIndex < chunkCount; chunkIndex++) {
    const start = chunkIndex * chunkPayload;
    const payload = jpeg.subarray(start, Math.min(start + chunkPayload, jpeg.length));
    const begin = out;
    out += writeV2Header(buffer, out, { ...frame, chunkIndex, chunkCount, endOfStream: false });
    buffer.set(payload, out);
    out += payload.length;
    datagrams[chunkIndex] = buffer.subarray(begin, out);
  }
  return datagrams;
}

/** The datagram that tells receivers a stream has ended; the sender repeats it because UDP may drop it. */
export function endOfStreamDatagram(streamId: number, frameNumber: number, captureTimeUs: number): Uint8Array {
  const datagram = new Uint8Array(V2_HEADER_SIZE);
  writeV2Header(datagram, 0, { streamId, frameNumber, captureTimeUs, chunkIndex: 0, chunkCount: 0, endOfStream: true });
  return datagram;
}
