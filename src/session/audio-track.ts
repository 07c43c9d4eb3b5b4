import type { SoundPacketizer } from "../packetizer/wire-format.ts";
import { AUDIO_SAMPLE_RATE, type SourceAudioPacket } from "../source/ffmpeg-audio-source.ts";

/** When the stream's clock started: the local time (ms) and the wall clock (µs) the first frame was due at. */
export interface StreamStart {
  ms: number;
  us: number;
}

/** One sound packet's datagrams, and when they go. */
export interface OutgoingAudio {
  /** Local time (ms) it is due: its first sample's place on the picture's clock. */
  dueMs: number;
  /** The packet's sequence number: its own datagram is the first of `datagrams`, its group's parity may follow. */
  sequence: number;
  datagrams: Uint8Array[];
}

/**
 * The sound track on the send side, pure: places each source packet on the
 * picture's clock (a sample at t seconds into the source is captured at the
 * stream's start + t, as frame t·fps is), numbers it and protects it. Sound
 * is small and cannot wait: its datagrams go at once when due, ahead of any
 * frame's bulk. Counts its bytes, which the rate budget sets aside.
 */
export class AudioTrack {
  private bytes = 0;
  private packets = 0;
  private firstMs: number | undefined;
  private lastMs = 0;

  constructor(private readonly packetizer: SoundPacketizer) {}

  /** The packet's datagrams and due time, given the stream's start. */
  schedule(packet: SourceAudioPacket, start: StreamStart): OutgoingAudio {
    const offsetMs = (packet.startSample * 1000) / AUDIO_SAMPLE_RATE;
    const captureTimeUs = (start.us + Math.round(offsetMs * 1000)) >>> 0;
    const sequence = this.packetizer.nextSequence;
    const datagrams = this.packetizer.packetize({ data: packet.data, captureTimeUs, durationSamples: packet.durationSamples });
    const dueMs = start.ms + offsetMs;
    this.firstMs ??= dueMs;
    this.lastMs = dueMs;
    this.packets++;
    for (const d of datagrams) this.bytes += d.length;
    return { dueMs, sequence, datagrams };
  }

  /** The track has ended: its last group's parity, when that group was not full. */
  flush(): Uint8Array[] {
    const datagrams = this.packetizer.flush();
    for (const d of datagrams) this.bytes += d.length;
    return datagrams;
  }

  /** Bits per second the track has used so far (headers and parity included); undefined before a second of it. */
  get bitsPerSecond(): number | undefined {
    const spanMs = this.firstMs === undefined ? 0 : this.lastMs - this.firstMs;
    return spanMs < 1000 ? undefined : (this.bytes * 8 * 1000) / spanMs;
  }

  stats() {
    return { packets: this.packets, bytes: this.bytes };
  }
}
