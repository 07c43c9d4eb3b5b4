import type { EncodedAudio } from "../packetizer/audio-packetizer.ts";
import { groupDataSent, type AudioPacket } from "../protocol/v2-audio.ts";
import { recoverAudioGroup } from "./audio-group-recovery.ts";
import { PendingFrames } from "./pending-frames.ts";
import { isNewer32 } from "../protocol/serial-number.ts";

/** A sound packet ready for the jitter buffer: arrived, or rebuilt from its group's parity. */
export interface ReceivedAudio extends EncodedAudio {
  sequence: number;
  channels: 1 | 2;
  /** Rebuilt from its group's parity. */
  recovered: boolean;
  /** Came in answer to an audio NACK. */
  resent?: boolean;
  /** RTP without its sender's reports: the capture time was anchored where the stream arrived (it says nothing of latency). */
  captureAnchoredOnArrival?: boolean;
}

/** Groups remembered at once: 64 groups of 4 × 20 ms is 5 s of sound, far past any deadline. */
const MAX_GROUPS = 64;
/**
 * Bytes held across them: 64 groups of 6 packets of 96 kbit/s Opus are
 * about 120 KB; a hostile sender's 15 + 15 groups of 64 KB datagrams would
 * otherwise hold 125 MB. Older groups make way for newer ones.
 */
export const MAX_AUDIO_BYTES = 1024 * 1024;

/** A group of sound packets, keyed (for PendingFrames) by its first packet's sequence number. */
interface Group {
  readonly key: number;
  chargedBytes: number;
  readonly groupData: number;
  readonly groupParity: number;
  readonly channels: 1 | 2;
  readonly data: (EncodedAudio | undefined)[];
  readonly parity: (Uint8Array | undefined)[];
  /** Data packets the group holds: k, unless a parity packet says the track ended first. */
  sent: number;
}

/**
 * Puts a sound track's datagrams back together: each packet is handed on
 * as it arrives (the jitter buffer orders them), and a packet that stays
 * lost is rebuilt once its group's parity makes that possible. Pure, and
 * bounded: the newest 64 groups are remembered; a packet older than all of
 * them is late. Counts what it sees.
 */
export class AudioReassembler {
  /** The newest groups, within a group count and a byte cap. */
  private readonly groups = new PendingFrames<Group>({ maxFrames: MAX_GROUPS, maxBytes: MAX_AUDIO_BYTES }, () => {});
  private streamId: number | undefined;
  /** The newest data packet known to have been sent, by any datagram of the stream (a parity packet says its group's last). */
  private newest: number | undefined;
  readonly stats = { packetsReceived: 0, packetsRecovered: 0, packetsDuplicate: 0, packetsLate: 0, packetsOtherStream: 0, packetsInconsistent: 0, packetsOverMemory: 0 };

  /**
   * One parsed (and opened) audio datagram of stream `followed` (the
   * picture's stream; undefined until one is followed: the first sound's is
   * taken). Returns the packets it made available.
   */
  push(packet: AudioPacket, followed: number | undefined): ReceivedAudio[] {
    const streamId = followed ?? this.streamId ?? packet.streamId;
    if (packet.streamId !== streamId) {
      this.stats.packetsOtherStream++;
      return [];
    }
    if (streamId !== this.streamId) {
      this.groups.dropWhere(() => true);
      this.streamId = streamId;
      this.newest = undefined;
    }
    const first = packet.parity ? packet.sequence : (packet.sequence - packet.index) >>> 0;
    const group = this.groupFor(first, packet);
    if (!group) return [];
    if (group.groupData !== packet.groupData || group.groupParity !== packet.groupParity || group.channels !== packet.channels) {
      this.stats.packetsInconsistent++;
      return [];
    }
    const out: ReceivedAudio[] = [];
    if ((packet.parity ? group.parity : group.data)[packet.index]) return this.duplicate();
    if (!this.groups.charge(group, packet.payload.length)) {
      this.stats.packetsOverMemory++;
      return [];
    }
    const last = packet.parity ? (first + groupDataSent(packet) - 1) >>> 0 : packet.sequence;
    if (this.newest === undefined || isNewer32(last, this.newest)) this.newest = last;
    if (packet.parity) {
      group.parity[packet.index] = packet.payload;
      group.sent = groupDataSent(packet);
    } else {
      const audio = { data: packet.payload, captureTimeUs: packet.captureTimeUs, durationSamples: packet.durationSamples };
      group.data[packet.index] = audio;
      this.stats.packetsReceived++;
      out.push({ ...audio, sequence: packet.sequence, channels: packet.channels, recovered: false });
    }
    for (const [index, audio] of recoverAudioGroup(group)) {
      group.data[index] = audio;
      this.stats.packetsRecovered++;
      out.push({ ...audio, sequence: (group.key + index) >>> 0, channels: group.channels, recovered: true });
    }
    return out;
  }

  /** The newest data packet of the followed stream known to have been sent (undefined before any). */
  get newestSent(): number | undefined {
    return this.newest;
  }

  /** Groups held now (bounded). */
  get groupsHeld(): number {
    return this.groups.size;
  }

  /** Bytes held now (bounded by MAX_AUDIO_BYTES). */
  get bufferedBytes(): number {
    return this.groups.bytes;
  }

  private duplicate(): ReceivedAudio[] {
    this.stats.packetsDuplicate++;
    return [];
  }

  /** The group starting at `first`, made if new (evicting the oldest past the cap); undefined when it is older than every group kept. */
  private groupFor(first: number, packet: AudioPacket): Group | undefined {
    const known = this.groups.get(first);
    if (known) return known;
    const { groupData, groupParity, channels } = packet;
    const group = this.groups.admit({ key: first, chargedBytes: 0, groupData, groupParity, channels, data: new Array(groupData), parity: new Array(groupParity), sent: groupData });
    if (!group) this.stats.packetsLate++;
    return group;
  }
}
