import { RTP_JPEG_CLOCK_HZ } from "../protocol/rtp.ts";
import { RTP_JPEG_MAX_DIMENSION } from "../protocol/rtp-jpeg.ts";
import { packetizeLegacy } from "./legacy-packetizer.ts";
import { packetizeRtpJpeg, RtpStream } from "./rtp-jpeg-packetizer.ts";
import { newStreamKey, type StreamKey } from "../protocol/v2-seal.ts";
import { endOfStreamDatagram, packetizeV2 } from "./v2-packetizer.ts";
import type { WireProtocol } from "../protocol/classify.ts";

/**
 * How one protocol puts frames on the wire: the send path asks its
 * WireFormat and never checks which protocol it speaks.
 */
export interface WireFormat {
  readonly protocol: WireProtocol;
  /** Parity as a percentage of each frame's data (0 where the protocol has none). */
  readonly fecPercent: number;
  /** The datagrams of frame number `index` (counted from 0), captured at `captureTimeUs` on the sender's wall clock. */
  packetize(jpeg: Uint8Array, index: number, captureTimeUs: number): Uint8Array[];
  /** What tells receivers the stream is over, after `frames` frames (empty where the protocol has no such signal). */
  endOfStream(frames: number, nowUs: number): Uint8Array[];
  /** Why this protocol cannot carry a picture of this size (with the fix), or undefined if it can. */
  refusePicture(width: number, height: number): string | undefined;
}

export interface WireFormatOptions {
  protocol: WireProtocol;
  /** Largest datagram (v2, RTP). */
  datagramSize: number;
  /** v2: parity percentage. */
  fecPercent: number;
  /** v2: the pre-shared key; each run seals under a key derived from it. */
  key?: Uint8Array;
  /** RTP: frames per second, for the 90 kHz timestamps. */
  fps: number;
}

/** udpvid v2: numbered chunks with Reed–Solomon parity, optionally sealed. A random 32-bit stream id tells runs apart. */
export class V2WireFormat implements WireFormat {
  readonly protocol = "v2";
  readonly streamId = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** With a pre-shared key, this run's own key under it (a random salt per run: see v2-seal.ts). */
  readonly streamKey: StreamKey | undefined;
  /** Parity for the next frames: the return path may change it between frames. */
  fecPercent: number;

  constructor(private readonly options: Pick<WireFormatOptions, "datagramSize" | "fecPercent" | "key">) {
    this.streamKey = options.key ? newStreamKey(options.key) : undefined;
    this.fecPercent = options.fecPercent;
  }

  packetize(jpeg: Uint8Array, index: number, captureTimeUs: number): Uint8Array[] {
    const { datagramSize } = this.options;
    return packetizeV2(jpeg, { streamId: this.streamId, frameNumber: index, captureTimeUs }, { datagramSize, fecPercent: this.fecPercent, key: this.streamKey });
  }

  endOfStream(frames: number, nowUs: number): Uint8Array[] {
    return [endOfStreamDatagram(this.streamId, frames, nowUs, this.streamKey)];
  }

  refusePicture(): undefined {
    return undefined;
  }
}

/** RTP/JPEG (RFC 2435): what ffplay, VLC and GStreamer play. No end signal. */
export class RtpJpegWireFormat implements WireFormat {
  readonly protocol = "rtp";
  readonly fecPercent = 0;
  readonly stream = RtpStream.random();
  // Timestamps start at a random point (RFC 3550) and advance at 90 kHz per the frame rate.
  private readonly timestampBase = crypto.getRandomValues(new Uint32Array(1))[0]!;
  private readonly ticksPerFrame: number;

  constructor(private readonly options: Pick<WireFormatOptions, "datagramSize" | "fps">) {
    this.ticksPerFrame = RTP_JPEG_CLOCK_HZ / options.fps;
  }

  packetize(jpeg: Uint8Array, index: number): Uint8Array[] {
    return packetizeRtpJpeg(jpeg, (this.timestampBase + Math.round(index * this.ticksPerFrame)) >>> 0, this.stream, this.options.datagramSize);
  }

  endOfStream(): Uint8Array[] {
    return [];
  }

  /** RFC 2435 describes pictures in 8-pixel units up to 2040: say which sizes work instead of sending what players cannot show. */
  refusePicture(width: number, height: number): string | undefined {
    if (width % 8 === 0 && height % 8 === 0 && width <= RTP_JPEG_MAX_DIMENSION && height <= RTP_JPEG_MAX_DIMENSION) return undefined;
    const fit = (n: number) => Math.min(RTP_JPEG_MAX_DIMENSION, Math.max(8, Math.floor(n / 8) * 8));
    return `RTP/JPEG carries pictures whose width and height are multiples of 8, at most ${RTP_JPEG_MAX_DIMENSION}; this one is ${width}x${height}: add --width ${fit(width)} --height ${fit(height)}`;
  }
}

/** The lab's protocol: 1-byte marker chunks, no numbers, no end signal. */
export class LegacyWireFormat implements WireFormat {
  readonly protocol = "legacy";
  readonly fecPercent = 0;

  packetize(jpeg: Uint8Array): Uint8Array[] {
    return packetizeLegacy(jpeg);
  }

  endOfStream(): Uint8Array[] {
    return [];
  }

  refusePicture(): undefined {
    return undefined;
  }
}

export function wireFormatFor(options: WireFormatOptions): WireFormat {
  switch (options.protocol) {
    case "v2":
      return new V2WireFormat(options);
    case "rtp":
      return new RtpJpegWireFormat(options);
    case "legacy":
      return new LegacyWireFormat();
  }
}
