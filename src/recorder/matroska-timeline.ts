import { ahead32 } from "../protocol/serial-number.ts";
import { matroskaCluster, matroskaStart, type MatroskaBlock, type MatroskaTrack } from "./matroska.ts";

/** How long (capture time) the first picture and the first sound wait for each other before the tracks are fixed. */
export const TRACKS_WAIT_US = 1_000_000;
/** Sound arrives before the frames it goes with (they wait for their playout time, up to 2 s after a congested spell), resent packets late: items are put in order this far back. */
export const REORDER_US = 1_000_000;
/** Clusters of about a second. */
const CLUSTER_US = 1_000_000;
/** Held at most while waiting for order: past it, what is held is written at once (a 4K stream holds ~50 MB per second). */
const MAX_PENDING_BYTES = 96 * 1024 * 1024;
/** A jump in capture time this large is another stream (a sender restarted), not a pause: the recording continues after what it has. */
const NEW_TIMELINE_US = 60_000_000;
const VIDEO_TRACK = 1;
const AUDIO_TRACK = 2;

export interface RecordedPicture {
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** µs on the sender's capture clock, mod 2^32. */
  captureTimeUs: number;
}

export interface RecordedSound {
  /** One Opus packet. */
  data: Uint8Array;
  channels: 1 | 2;
  captureTimeUs: number;
}

export interface TimelineCounts {
  frames: number;
  soundPackets: number;
  /** Came too late for their place (behind what was written), or for a track the recording did not start with. */
  dropped: number;
}

interface Pending {
  track: number;
  atUs: number;
  data: Uint8Array;
}

/**
 * Puts a receiver's shown frames and arriving sound packets on one timeline
 * (their capture times, unwrapped, from the first), in order per track, and
 * turns them into a live Matroska stream. Pure: each call returns the bytes
 * to write next.
 */
export class MatroskaTimeline {
  readonly counts: TimelineCounts = { frames: 0, soundPackets: 0, dropped: 0 };
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private picture?: { width: number; height: number };
  private soundChannels?: 1 | 2;
  private tracks?: Set<number>;
  private originUs = 0;
  private lastWrittenMs = new Map<number, number>();
  private newestRawUs?: number;
  private newestUs = 0;

  constructor(private readonly writingApp: string) {}

  /** Whether the stream has begun (its tracks are fixed). */
  get started(): boolean {
    return this.tracks !== undefined;
  }

  addPicture(picture: RecordedPicture): Uint8Array[] {
    this.picture ??= { width: picture.width, height: picture.height };
    return this.add(VIDEO_TRACK, picture.captureTimeUs, picture.jpeg);
  }

  addSound(sound: RecordedSound): Uint8Array[] {
    this.soundChannels ??= sound.channels;
    return this.add(AUDIO_TRACK, sound.captureTimeUs, sound.data);
  }

  /** Everything still held; the stream is complete after it. */
  finish(): Uint8Array[] {
    const out = this.tracks || this.pending.length === 0 ? [] : [this.start()];
    if (this.pending.length > 0) out.push(...this.flush(Infinity));
    return out;
  }

  private add(track: number, captureTimeUs: number, data: Uint8Array): Uint8Array[] {
    const atUs = this.unwrap(captureTimeUs);
    if (this.tracks && (!this.tracks.has(track) || atUs < this.originUs)) {
      this.counts.dropped++;
      return [];
    }
    this.pending.push({ track, atUs, data });
    this.pendingBytes += data.length;
    const out: Uint8Array[] = [];
    if (!this.tracks) {
      const both = this.picture !== undefined && this.soundChannels !== undefined;
      if (!both && this.newestUs - this.oldestPendingUs() < TRACKS_WAIT_US) return out;
      out.push(this.start());
    }
    if (this.pendingBytes > MAX_PENDING_BYTES) out.push(...this.flush(Infinity));
    else if (this.newestUs - this.oldestPendingUs() >= CLUSTER_US + REORDER_US) out.push(...this.flush(this.newestUs - REORDER_US));
    return out;
  }

  /** Capture times wrap every 71 minutes: each is placed by its distance from the newest so far. */
  private unwrap(rawUs: number): number {
    if (this.newestRawUs === undefined) {
      this.newestRawUs = rawUs;
      return (this.newestUs = 0);
    }
    const distance = ahead32(rawUs, this.newestRawUs);
    const signed = distance >= 2 ** 31 ? distance - 2 ** 32 : distance;
    if (Math.abs(signed) > NEW_TIMELINE_US) {
      this.newestRawUs = rawUs;
      return (this.newestUs += 40_000);
    }
    if (signed <= 0) return this.newestUs + signed;
    this.newestRawUs = rawUs;
    return (this.newestUs += signed);
  }

  private oldestPendingUs(): number {
    return this.pending.reduce((oldest, item) => Math.min(oldest, item.atUs), Infinity);
  }

  private start(): Uint8Array {
    const tracks: MatroskaTrack[] = [];
    if (this.picture) tracks.push({ kind: "video", number: VIDEO_TRACK, codecId: "V_MJPEG", ...this.picture });
    if (this.soundChannels) tracks.push({ kind: "audio", number: AUDIO_TRACK, codecId: "A_OPUS", channels: this.soundChannels, sampleRate: 48000 });
    this.tracks = new Set(tracks.map((track) => track.number));
    this.originUs = this.oldestPendingUs();
    return matroskaStart(tracks, this.writingApp);
  }

  /** Writes, in time order, what is held up to `untilUs`, dropping what would go back in time on its track. */
  private flush(untilUs: number): Uint8Array[] {
    const due = this.pending.filter((item) => item.atUs <= untilUs).sort((a, b) => a.atUs - b.atUs);
    this.pending = this.pending.filter((item) => item.atUs > untilUs);
    this.pendingBytes = this.pending.reduce((sum, item) => sum + item.data.length, 0);
    const blocks: MatroskaBlock[] = [];
    for (const item of due) {
      const timestampMs = Math.round((item.atUs - this.originUs) / 1000);
      if (timestampMs <= (this.lastWrittenMs.get(item.track) ?? -1)) {
        this.counts.dropped++;
        continue;
      }
      this.lastWrittenMs.set(item.track, timestampMs);
      if (item.track === VIDEO_TRACK) this.counts.frames++;
      else this.counts.soundPackets++;
      blocks.push({ track: item.track, timestampMs, data: item.data });
    }
    const clusters: Uint8Array[] = [];
    // A Cluster's blocks sit within an int16 of ms of its first: one flush can span more (a long pause, a byte-capped flush).
    for (let first = 0; first < blocks.length; ) {
      let end = first + 1;
      while (end < blocks.length && blocks[end]!.timestampMs - blocks[first]!.timestampMs < 30_000) end++;
      clusters.push(matroskaCluster(blocks.slice(first, end)));
      first = end;
    }
    return clusters;
  }
}
