import { MAX_SHARDS, padShard, reedSolomonFor } from "../fec/reed-solomon.ts";
import {
  chunkPayloadSize,
  groupDataChunks,
  V2_HEADER_SIZE,
  V2_MAX_FRAME_LENGTH,
  V2_SEAL_OVERHEAD,
  writeV2Header,
  type V2FrameLayout,
  type V2Packet,
} from "../protocol/v2.ts";
import { sealV2, type StreamKey } from "../protocol/v2-seal.ts";
import { sendPosition } from "./send-order.ts";

export interface V2FrameInfo {
  streamId: number;
  frameNumber: number;
  captureTimeUs: number;
}

export interface V2PacketizerOptions {
  /** Largest datagram, header included. */
  datagramSize: number;
  /** Parity chunks as a percentage of each group's data chunks; 0 turns FEC off. */
  fecPercent: number;
  /** This run's stream key (from the pre-shared key, newStreamKey): every datagram is sealed (encrypted and authenticated) with it. */
  key?: StreamKey;
}

/** Default datagram size: under a 1500-byte Ethernet MTU with room for IP/UDP and tunnels, so nothing fragments. */
export const DEFAULT_V2_DATAGRAM_SIZE = 1400;
export const DEFAULT_FEC_PERCENT = 25;
/**
 * With FEC, frames are cut into at least this many chunks (if each can still
 * carry MIN_FEC_PAYLOAD bytes): erasure coding over many small chunks rides
 * out random loss far better than over a few large ones at the same overhead.
 */
const TARGET_DATA_CHUNKS = 48;
const MIN_FEC_PAYLOAD = 400;
/** Data chunks per FEC group at most: bounds the codec's cost per byte, which grows with the group. */
const MAX_GROUP_DATA = 64;

export const DEFAULT_V2_OPTIONS: V2PacketizerOptions = { datagramSize: DEFAULT_V2_DATAGRAM_SIZE, fecPercent: DEFAULT_FEC_PERCENT };

/** Chooses how a frame of `frameLength` bytes is cut into chunks and FEC groups. Pure. */
export function planLayout(frameLength: number, options: V2PacketizerOptions): V2FrameLayout {
  const maxPayload = options.datagramSize - V2_HEADER_SIZE - (options.key ? V2_SEAL_OVERHEAD : 0);
  if (maxPayload < 1) throw new RangeError(`datagram size ${options.datagramSize} leaves no room after the ${V2_HEADER_SIZE}-byte header`);
  if (frameLength < 1) throw new RangeError("cannot packetize an empty frame");
  if (frameLength > V2_MAX_FRAME_LENGTH) throw new RangeError(`a ${frameLength}-byte frame exceeds the ${V2_MAX_FRAME_LENGTH}-byte limit`);
  const fewest = Math.ceil(frameLength / maxPayload);
  let k = options.fecPercent > 0 ? Math.max(fewest, Math.min(TARGET_DATA_CHUNKS, Math.floor(frameLength / MIN_FEC_PAYLOAD))) : fewest;
  if (k > 0xffff) throw new RangeError(`a ${frameLength}-byte frame needs ${k} chunks of ${maxPayload} bytes, more than 65535`);
  // Every chunk but the last carries P = ceil(L/k) bytes and the last must not be empty.
  while (k > 1 && (k - 1) * Math.ceil(frameLength / k) >= frameLength) k--;
  const groups = options.fecPercent > 0 ? Math.min(255, Math.ceil(k / MAX_GROUP_DATA)) : 1;
  const largestGroup = Math.ceil(k / groups);
  const parityPerGroup = options.fecPercent > 0 ? Math.min(MAX_SHARDS - largestGroup, Math.ceil((largestGroup * options.fecPercent) / 100)) : 0;
  return { dataChunks: k, groups, parityPerGroup, frameLength };
}

/**
 * Cuts one JPEG frame into v2 datagrams, parity included, in send order
 * (parity spread evenly among the data). All datagrams share one
 * allocation and are returned as views into it.
 */
export function packetizeV2(jpeg: Uint8Array, frame: V2FrameInfo, options: V2PacketizerOptions = DEFAULT_V2_OPTIONS): Uint8Array[] {
  const layout = planLayout(jpeg.length, options);
  const { dataChunks: k, groups, parityPerGroup: m } = layout;
  const size = chunkPayloadSize(layout);
  const dataPayload = (i: number) => jpeg.subarray(i * size, Math.min((i + 1) * size, jpeg.length));
  const parity = computeParity(layout, dataPayload);

  const parityCount = groups * m;
  const datagrams: Uint8Array[] = new Array(k + parityCount);
  const buffer = new Uint8Array(jpeg.length + parityCount * size + (k + parityCount) * V2_HEADER_SIZE);
  let out = 0;
  const emit = (isParity: boolean, chunkIndex: number, payload: Uint8Array) => {
    const begin = out;
    const header = { ...frame, ...layout, chunkIndex, parity: isParity, endOfStream: false };
    out += writeV2Header(buffer, out, header);
    buffer.set(payload, out);
    out += payload.length;
    const plain = buffer.subarray(begin, out);
    datagrams[sendPosition(k, parityCount, isParity, chunkIndex)] = options.key ? sealV2(plain, header, options.key) : plain;
  };
  for (let i = 0; i < k; i++) emit(false, i, dataPayload(i));
  for (let p = 0; p < parityCount; p++) emit(true, p, parity[p]!);
  return datagrams;
}

/** Parity chunk p (group p mod G, row p div G) for every group, by Reed–Solomon over the group's data. */
function computeParity(layout: V2FrameLayout, dataPayload: (i: number) => Uint8Array): Uint8Array[] {
  const { groups, parityPerGroup: m } = layout;
  if (m === 0) return [];
  const size = chunkPayloadSize(layout);
  const parity: Uint8Array[] = new Array(groups * m);
  for (let g = 0; g < groups; g++) {
    const shards: Uint8Array[] = [];
    for (let i = g; i < layout.dataChunks; i += groups) {
      shards.push(padShard(dataPayload(i), size));
    }
    const groupParity = reedSolomonFor(groupDataChunks(layout, g), m).encode(shards);
    groupParity.forEach((shard, row) => (parity[row * groups + g] = shard));
  }
  return parity;
}

/**
 * The datagram that tells receivers a stream has ended. The sender repeats
 * it because UDP may drop it: send this one datagram again, never a new one
 * (a sealed one made twice with another capture time would reuse its nonce).
 */
export function endOfStreamDatagram(streamId: number, frameNumber: number, captureTimeUs: number, key?: StreamKey): Uint8Array {
  const datagram = new Uint8Array(V2_HEADER_SIZE);
  const header: Omit<V2Packet, "payload" | "sealed"> = {
    streamId,
    frameNumber,
    captureTimeUs,
    chunkIndex: 0,
    parity: false,
    dataChunks: 0,
    groups: 0,
    parityPerGroup: 0,
    frameLength: 0,
    endOfStream: true,
  };
  writeV2Header(datagram, 0, header);
  return key ? sealV2(datagram, header, key) : datagram;
}
