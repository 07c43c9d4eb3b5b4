import { reedSolomonFor, TooManyErasuresError } from "../fec/reed-solomon.ts";
import { AUDIO_SHARD_HEADER, OPUS_MAX_SAMPLES, OPUS_MIN_SAMPLES } from "../protocol/v2-audio.ts";
import { audioShard, type EncodedAudio } from "../packetizer/audio-packetizer.ts";

/** What a group of audio packets has received: data shards by index, parity by row (undefined: not arrived). */
export interface AudioGroupArrivals {
  groupData: number;
  groupParity: number;
  /** Data packets as they arrived (payload, timing), by index. */
  data: (EncodedAudio | undefined)[];
  /** Parity shards by row. */
  parity: (Uint8Array | undefined)[];
  /** Data packets the group holds: k, or fewer for a track's last group (the rest are empty shards, never sent). */
  sent: number;
}

/** Reads a data shard back: its timing and payload; undefined when it cannot be one (a hostile parity packet rebuilt garbage). */
export function readAudioShard(shard: Uint8Array): EncodedAudio | undefined {
  if (shard.length < AUDIO_SHARD_HEADER) return undefined;
  const view = new DataView(shard.buffer, shard.byteOffset, shard.length);
  const durationSamples = view.getUint16(4);
  const length = view.getUint16(6);
  if (length === 0 || AUDIO_SHARD_HEADER + length > shard.length || durationSamples < OPUS_MIN_SAMPLES || durationSamples > OPUS_MAX_SAMPLES) return undefined;
  return { captureTimeUs: view.getUint32(0), durationSamples, data: shard.slice(AUDIO_SHARD_HEADER, AUDIO_SHARD_HEADER + length) };
}

/**
 * The group's missing data packets rebuilt from parity, by index, when
 * enough arrived (at least k of k + m); an empty map when none is missing
 * or too many are. Parity shards must all be the same length (the group's
 * longest shard): one that is not is ignored.
 */
export function recoverAudioGroup(group: AudioGroupArrivals): Map<number, EncodedAudio> {
  const rebuilt = new Map<number, EncodedAudio>();
  const missing: number[] = [];
  for (let i = 0; i < group.sent; i++) if (!group.data[i]) missing.push(i);
  const parity = group.parity.filter((p): p is Uint8Array => p !== undefined);
  if (missing.length === 0 || parity.length === 0) return rebuilt;
  const size = parity[0]!.length;
  const shards: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < group.groupData; i++) {
    const d = group.data[i];
    if (i >= group.sent) shards.push(new Uint8Array(size));
    else if (!d) shards.push(undefined);
    else {
      const own = audioShard(d);
      if (own.length > size) return rebuilt; // parity shorter than a packet it covers: not this group's
      const shard = new Uint8Array(size);
      shard.set(own);
      shards.push(shard);
    }
  }
  for (let row = 0; row < group.groupParity; row++) {
    const p = group.parity[row];
    shards.push(p && p.length === size ? p : undefined);
  }
  try {
    const data = reedSolomonFor(group.groupData, group.groupParity).reconstruct(shards);
    for (const i of missing) {
      const audio = readAudioShard(data[i]!);
      if (audio) rebuilt.set(i, audio);
    }
  } catch (error) {
    if (!(error instanceof TooManyErasuresError)) throw error;
  }
  return rebuilt;
}
