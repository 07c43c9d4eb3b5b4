import { LEGACY_CHUNK_PAYLOAD, serializeLegacy } from "../protocol/legacy.ts";

/**
 * Cuts one JPEG frame into lab-protocol datagrams: 65500-byte slices behind a
 * 1-byte marker, 0x01 on the last. As the lab server does, a frame whose size
 * is a multiple of 65500 ends with a header-only datagram carrying 0x01.
 */
export function packetizeLegacy(jpeg: Uint8Array): Uint8Array[] {
  if (jpeg.length === 0) throw new RangeError("cannot packetize an empty frame");
  const datagrams: Uint8Array[] = [];
  for (let start = 0; start < jpeg.length; start += LEGACY_CHUNK_PAYLOAD) {
    const end = Math.min(start + LEGACY_CHUNK_PAYLOAD, jpeg.length);
    // A slice that ends the file exactly at a chunk boundary is not yet "last": the lab
    // sender's loop only marks a chunk last when it is shorter than a full chunk.
    const last = end - start < LEGACY_CHUNK_PAYLOAD;
    datagrams.push(serializeLegacy({ last, payload: jpeg.subarray(start, end) }));
  }
  if (jpeg.length % LEGACY_CHUNK_PAYLOAD === 0) datagrams.push(serializeLegacy({ last: true, payload: new Uint8Array(0) }));
  return datagrams;
}
