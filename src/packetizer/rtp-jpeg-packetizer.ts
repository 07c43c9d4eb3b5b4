import { parseBaselineJpeg, NotRtpJpegError } from "../protocol/jpeg-baseline.ts";
import { RTP_HEADER_SIZE, RTP_PAYLOAD_TYPE_JPEG, writeRtpHeader } from "../protocol/rtp.ts";
import { rtpJpegHeadersSize, writeRtpJpegHeaders, type RtpJpegPayload } from "../protocol/rtp-jpeg.ts";

/** Q 255: the quantization tables travel in-band with every frame, as ffmpeg and GStreamer send them. */
const IN_BAND_Q = 255;

/** One RTP stream's identity and running sequence number. */
export class RtpStream {
  constructor(
    readonly ssrc: number,
    /** The next packet's sequence number (16-bit, wraps). */
    public nextSequence: number,
  ) {}

  static random(): RtpStream {
    const [ssrc, sequence] = crypto.getRandomValues(new Uint32Array(2));
    return new RtpStream(ssrc!, sequence! & 0xffff);
  }
}

/**
 * Cuts one baseline JPEG into RTP/JPEG packets (RFC 2435) of at most
 * `datagramSize` bytes: the scan data by fragment offset, the tables in the
 * first packet, the marker bit on the last. All packets share one
 * allocation and are views into it. Throws NotRtpJpegError for a JPEG the
 * format cannot carry (the sender's encoder makes only ones it can).
 */
export function packetizeRtpJpeg(jpeg: Uint8Array, timestamp: number, stream: RtpStream, datagramSize: number): Uint8Array[] {
  const parts = parseBaselineJpeg(jpeg);
  if (!parts.standardHuffman) throw new NotRtpJpegError("its Huffman tables are not the standard ones RTP/JPEG assumes");
  const header = (fragmentOffset: number): Omit<RtpJpegPayload, "scan"> => ({
    typeSpecific: 0,
    fragmentOffset,
    type: parts.type,
    q: IN_BAND_Q,
    width: parts.width,
    height: parts.height,
    quantTables: parts.quantTables,
    restart: parts.restartInterval ? { interval: parts.restartInterval, first: true, last: true, count: 0x3fff } : undefined,
  });
  const firstHeaders = RTP_HEADER_SIZE + rtpJpegHeadersSize(header(0));
  const laterHeaders = RTP_HEADER_SIZE + rtpJpegHeadersSize(header(1));
  if (datagramSize < firstHeaders + 1) throw new RangeError(`datagrams of ${datagramSize} bytes cannot hold RTP/JPEG's ${firstHeaders} bytes of headers`);

  const scan = parts.scan;
  const firstTake = Math.min(scan.length, datagramSize - firstHeaders);
  const laterCount = Math.ceil((scan.length - firstTake) / (datagramSize - laterHeaders));
  const buffer = new Uint8Array(firstHeaders + firstTake + laterCount * laterHeaders + (scan.length - firstTake));
  const packets: Uint8Array[] = [];
  let out = 0;
  for (let offset = 0; offset < scan.length || packets.length === 0; ) {
    const begin = out;
    const take = Math.min(scan.length - offset, datagramSize - (offset === 0 ? firstHeaders : laterHeaders));
    const last = offset + take >= scan.length;
    out += writeRtpHeader(buffer, out, { marker: last, payloadType: RTP_PAYLOAD_TYPE_JPEG, sequence: stream.nextSequence, timestamp, ssrc: stream.ssrc });
    stream.nextSequence = (stream.nextSequence + 1) & 0xffff;
    out = writeRtpJpegHeaders(buffer, out, header(offset));
    buffer.set(scan.subarray(offset, offset + take), out);
    out += take;
    offset += take;
    packets.push(buffer.subarray(begin, out));
  }
  return packets;
}
