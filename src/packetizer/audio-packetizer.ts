import { reedSolomonFor } from "../fec/reed-solomon.ts";
import { AUDIO_CODEC_OPUS, AUDIO_SHARD_HEADER, serializeAudio, type AudioPacket } from "../protocol/v2-audio.ts";
import { sealAudio, type StreamKey } from "../protocol/v2-seal.ts";

/** Moonlight's shape for audio: 4 packets and 2 parity, so any 2 of 6 may be lost (80 ms of 20 ms packets). */
export const DEFAULT_AUDIO_GROUP = { data: 4, parity: 2 } as const;

export interface AudioPacketizerOptions {
  streamId: number;
  channels: 1 | 2;
  groupData?: number;
  groupParity?: number;
  /** With --key: the run's stream key, the picture's (one salt for both tracks). */
  key?: StreamKey;
}

/** One encoded audio packet as the source gives it. */
export interface EncodedAudio {
  /** The codec's packet (an Opus packet). */
  data: Uint8Array;
  /** When its first sample was captured, µs on the picture's clock (mod 2^32). */
  captureTimeUs: number;
  /** Samples per channel at 48 kHz. */
  durationSamples: number;
}

/**
 * A data shard: what parity covers, so that a rebuilt packet comes back
 * with its timing. Capture time (4), duration (2), length (2), payload.
 */
export function audioShard(audio: EncodedAudio): Uint8Array {
  const shard = new Uint8Array(AUDIO_SHARD_HEADER + audio.data.length);
  const view = new DataView(shard.buffer);
  view.setUint32(0, audio.captureTimeUs >>> 0);
  view.setUint16(4, audio.durationSamples);
  view.setUint16(6, audio.data.length);
  shard.set(audio.data, AUDIO_SHARD_HEADER);
  return shard;
}

/**
 * The sound track's packets, numbered in order: each encoded packet goes
 * out as one datagram at once (audio is small and cannot wait), and when a
 * group of k is complete its m parity datagrams follow. Pure.
 */
export class AudioPacketizer {
  private sequence = 0;
  private readonly group: { first: number; captureTimeUs: number; shards: Uint8Array[] } = { first: 0, captureTimeUs: 0, shards: [] };
  private readonly k: number;
  private readonly m: number;

  constructor(private readonly options: AudioPacketizerOptions) {
    this.k = options.groupData ?? DEFAULT_AUDIO_GROUP.data;
    this.m = options.groupParity ?? DEFAULT_AUDIO_GROUP.parity;
    if (this.k < 1 || this.k > 15 || this.m < 0 || this.m > 15) throw new RangeError(`audio groups of ${this.k} + ${this.m}: each must fit 4 bits, with at least 1 data packet`);
  }

  /** The datagrams for one encoded packet: its own, then its group's parity if it completed one. */
  packetize(audio: EncodedAudio): Uint8Array[] {
    if (audio.data.length === 0 || audio.data.length > 0xffff) throw new RangeError(`an audio packet of ${audio.data.length} bytes`);
    const sequence = this.sequence;
    this.sequence = (this.sequence + 1) >>> 0;
    const index = sequence % this.k;
    const out = [this.datagram({ ...this.header(sequence, audio.captureTimeUs, index, false), durationSamples: audio.durationSamples, payload: audio.data })];
    if (this.m === 0) return out;
    if (index === 0) {
      this.group.first = sequence;
      this.group.captureTimeUs = audio.captureTimeUs;
      this.group.shards = [];
    }
    this.group.shards.push(audioShard(audio));
    if (this.group.shards.length === this.k) out.push(...this.parity());
    return out;
  }

  /**
   * The track ends: parity for a group left partly filled, so its last
   * packets are protected too. The packets never sent count as empty shards
   * (all zeros), which a receiver rebuilding them reads as no packet.
   */
  flush(): Uint8Array[] {
    const pending = this.group.shards.length;
    if (this.m === 0 || pending === 0 || pending === this.k) return [];
    while (this.group.shards.length < this.k) this.group.shards.push(new Uint8Array(0));
    const parity = this.parity(pending);
    this.group.shards = [];
    return parity;
  }

  /** Packets numbered so far: the next one's number. */
  get nextSequence(): number {
    return this.sequence;
  }

  /** The group's parity datagrams; `sent`: data packets it holds when fewer than k (the track ended), in the duration field. */
  private parity(sent = 0): Uint8Array[] {
    const size = Math.max(...this.group.shards.map((s) => s.length));
    const padded = this.group.shards.map((s) => (s.length === size ? s : Uint8Array.from({ length: size }, (_, i) => s[i] ?? 0)));
    return reedSolomonFor(this.k, this.m)
      .encode(padded)
      .map((shard, row) => this.datagram({ ...this.header(this.group.first, this.group.captureTimeUs, row, true), durationSamples: sent, payload: shard }));
  }

  private datagram(packet: AudioPacket): Uint8Array {
    const plain = serializeAudio(packet);
    return this.options.key ? sealAudio(plain, packet, this.options.key) : plain;
  }

  private header(sequence: number, captureTimeUs: number, index: number, parity: boolean): Omit<AudioPacket, "durationSamples" | "payload"> {
    const { streamId, channels } = this.options;
    return { streamId, sequence, captureTimeUs, codec: AUDIO_CODEC_OPUS, channels, groupData: this.k, groupParity: this.m, index, parity, sealed: false };
  }
}
