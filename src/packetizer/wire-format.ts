import { RTP_JPEG_CLOCK_HZ } from "../protocol/rtp.ts";
import { RTP_JPEG_MAX_DIMENSION } from "../protocol/rtp-jpeg.ts";
import { packetizeLegacy } from "./legacy-packetizer.ts";
import { packetizeRtpJpeg, RtpStream } from "./rtp-jpeg-packetizer.ts";
import { newStreamKey, type StreamKey } from "../protocol/v2-seal.ts";
import { endOfStreamDatagram, packetizeV2 } from "./v2-packetizer.ts";
import type { WireProtocol } from "../protocol/classify.ts";
import { rtpJpegSdp } from "../protocol/sdp.ts";
import { AudioPacketizer, type EncodedAudio } from "./audio-packetizer.ts";
import { RtpOpusPacketizer } from "./rtp-opus-packetizer.ts";

/** A protocol's sound track on the wire: v2's AudioPacketizer, RTP's RtpOpusPacketizer. */
export interface SoundPacketizer {
  /** The datagrams for one encoded packet (its own first; v2 adds its group's parity when complete). */
  packetize(audio: EncodedAudio): Uint8Array[];
  /** The track has ended: what still protects its last packets, if anything. */
  flush(): Uint8Array[];
  /** Packets numbered so far: the next one's number. */
  readonly nextSequence: number;
}

/** What a stream's return path needs to know of it: which stream feedback is about, and its sealing key. */
export interface ReturnPathIdentity {
  streamId: number;
  streamKey: StreamKey | undefined;
}

/** Where a stream goes, for a description players open (an SDP file). */
export interface StreamDestination {
  address: string;
  family: 4 | 6;
  port: number;
  fps: number;
  ttl?: number;
  /** The sound's channels when the stream carries sound. */
  audioChannels?: 1 | 2;
}

/**
 * How one protocol puts frames on the wire, and what it can do: the send
 * path asks its WireFormat and never checks which protocol it speaks.
 */
export interface WireFormat {
  readonly protocol: WireProtocol;
  /** Whether frames carry parity (the parity share passed to packetize is used). */
  readonly carriesParity: boolean;
  /** The stream's identity for a return path (NACKs, reports), or undefined where the protocol has none. */
  readonly returnPath: ReturnPathIdentity | undefined;
  /** The datagrams of frame number `index` (counted from 0), captured at `captureTimeUs` on the sender's wall clock, with `parityPercent` parity where the protocol carries it. */
  packetize(jpeg: Uint8Array, index: number, captureTimeUs: number, parityPercent: number): Uint8Array[];
  /** What tells receivers the stream is over, after `frames` frames (empty where the protocol has no such signal). */
  endOfStream(frames: number, nowUs: number): Uint8Array[];
  /** Why this protocol cannot carry a picture of this size (with the fix), or undefined if it can. */
  refusePicture(width: number, height: number): string | undefined;
  /** A session description players open to receive the stream (RTP's SDP), or undefined where the protocol needs none. */
  describe(destination: StreamDestination): string | undefined;
  /** The packetizer for the stream's sound track (Opus, `channels`), or undefined where the protocol carries picture only. */
  audioPacketizer(channels: 1 | 2): SoundPacketizer | undefined;
  /** Where the sound goes against the picture's port: the same (0), or RTP's next session pair (2). */
  readonly audioPortOffset: number;
}

export interface WireFormatOptions {
  protocol: WireProtocol;
  /** Largest datagram (v2, RTP). */
  datagramSize: number;
  /** v2: the pre-shared key; each run seals under a key derived from it. */
  key?: Uint8Array;
  /** RTP: frames per second, for the 90 kHz timestamps. */
  fps: number;
}

/** udpvid v2: numbered chunks with Reed–Solomon parity, optionally sealed. A random 32-bit stream id tells runs apart. */
export class V2WireFormat implements WireFormat {
  readonly protocol = "v2";
  readonly carriesParity = true;
  readonly audioPortOffset = 0;
  readonly streamId = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** With a pre-shared key, this run's own key under it (a random salt per run: see v2-seal.ts). */
  readonly streamKey: StreamKey | undefined;

  constructor(private readonly options: Pick<WireFormatOptions, "datagramSize" | "key">) {
    this.streamKey = options.key ? newStreamKey(options.key) : undefined;
  }

  get returnPath(): ReturnPathIdentity {
    return { streamId: this.streamId, streamKey: this.streamKey };
  }

  packetize(jpeg: Uint8Array, index: number, captureTimeUs: number, parityPercent: number): Uint8Array[] {
    const { datagramSize } = this.options;
    return packetizeV2(jpeg, { streamId: this.streamId, frameNumber: index, captureTimeUs }, { datagramSize, fecPercent: parityPercent, key: this.streamKey });
  }

  endOfStream(frames: number, nowUs: number): Uint8Array[] {
    return [endOfStreamDatagram(this.streamId, frames, nowUs, this.streamKey)];
  }

  refusePicture(): undefined {
    return undefined;
  }

  describe(): undefined {
    return undefined;
  }

  /** Sound under the picture's stream id and key: a receiver follows both as one stream. */
  audioPacketizer(channels: 1 | 2): AudioPacketizer {
    return new AudioPacketizer({ streamId: this.streamId, channels, key: this.streamKey });
  }
}

/** RTP/JPEG (RFC 2435): what ffplay, VLC and GStreamer play. No end signal. */
export class RtpJpegWireFormat implements WireFormat {
  readonly protocol = "rtp";
  readonly carriesParity = false;
  /** RTP players take each stream of an SDP on its own port pair (RTP, RTCP): the sound on the picture's port + 2. */
  readonly audioPortOffset = 2;
  readonly returnPath = undefined;
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

  /** The SDP players (ffplay, VLC, GStreamer) need: RTP carries no description of itself. */
  describe(destination: StreamDestination): string {
    const { audioChannels, ...session } = destination;
    return rtpJpegSdp({ ...session, sessionId: this.stream.ssrc, audio: audioChannels === undefined ? undefined : { port: destination.port + this.audioPortOffset, channels: audioChannels } });
  }

  /** Opus as a second RTP stream (RFC 7587), described in the same SDP. */
  audioPacketizer(): RtpOpusPacketizer {
    return new RtpOpusPacketizer();
  }
}

/** The lab's protocol: 1-byte marker chunks, no numbers, no end signal. */
export class LegacyWireFormat implements WireFormat {
  readonly protocol = "legacy";
  readonly carriesParity = false;
  readonly audioPortOffset = 0;
  readonly returnPath = undefined;

  packetize(jpeg: Uint8Array): Uint8Array[] {
    return packetizeLegacy(jpeg);
  }

  endOfStream(): Uint8Array[] {
    return [];
  }

  refusePicture(): undefined {
    return undefined;
  }

  describe(): undefined {
    return undefined;
  }

  /** The lab's protocol stays picture only: its marker byte has no room to tell sound from picture. */
  audioPacketizer(): undefined {
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
