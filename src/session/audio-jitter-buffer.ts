import { forward32, isNewer32 } from "../protocol/serial-number.ts";
import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";

/** Packets held ahead of playout at most: 5 s of 20 ms packets (a flood of far-future numbers is dropped). */
const MAX_AHEAD = 250;
/** Missing packets concealed in a row before a later one has come: 60 ms, Opus's concealment fading out, then silence until the stream goes on. */
const MAX_BLIND_CONCEALS = 3;

/** What to hand the decoder for the next stretch of sound. */
export type AudioSlot =
  /** This packet, due now. */
  | { kind: "play"; packet: ReceivedAudio }
  /** The packet due now never came: conceal this many samples (Opus packet-loss concealment). */
  | { kind: "conceal"; sequence: number; captureTimeUs: number; durationSamples: number };

/**
 * Puts sound packets back in order and hands each out when its playout
 * time comes (the PlayoutClock's, given as `playoutMs`); a packet that has
 * not come by then is concealed (a few in a row at most, until a later one
 * comes), and one that comes after its turn is late and dropped. Pure: given the local time. Bounded.
 */
export class AudioJitterBuffer {
  private readonly held = new Map<number, ReceivedAudio>();
  /** The next sequence to play; undefined until the first packet. */
  private next: number | undefined;
  /** Capture time and length of the last slot handed out, to know when a missing one was due. */
  private last: { captureTimeUs: number; durationSamples: number } | undefined;
  /** Concealed in a row with nothing later held: counted as concealed only once a later packet shows they were gaps (not the stream's end). */
  private blindRun = 0;
  /** The stream is over: nothing more will come, so nothing past the last packet is concealed. */
  private ended = false;
  readonly stats = { played: 0, concealed: 0, late: 0, tooFarAhead: 0 };

  /** A packet from the reassembler (arrived or rebuilt). */
  add(packet: ReceivedAudio): void {
    if (this.next === undefined) this.next = packet.sequence;
    const ahead = forward32(packet.sequence, this.next);
    if (ahead === undefined) {
      this.stats.late++;
      return;
    }
    if (ahead >= MAX_AHEAD) {
      this.stats.tooFarAhead++;
      return;
    }
    if (!this.held.has(packet.sequence)) this.held.set(packet.sequence, packet);
  }

  /**
   * The slot due at `nowMs`, or undefined while nothing is due yet. Call
   * until it returns undefined: a late caller catches up slot by slot. A
   * caller that takes packets ahead of time (`nowMs` later than now) says
   * by when a missing one must be given up (`concealBy`, the real deadline).
   */
  take(nowMs: number, playoutMs: (captureUs: number) => number | undefined, concealBy = nowMs): AudioSlot | undefined {
    if (this.next === undefined) return undefined;
    const packet = this.held.get(this.next);
    if (packet) {
      const due = playoutMs(packet.captureTimeUs);
      if (due === undefined || due > nowMs) return undefined;
      this.held.delete(this.next);
      // Concealed with nothing later held, and now something came: they were gaps after all.
      this.stats.concealed += this.blindRun;
      this.blindRun = 0;
      return this.advance({ kind: "play", packet }, packet);
    }
    // Missing: due when the last slot ends, and concealed once that has passed (a loss is known only by then: waiting
    // for a later packet to prove it would leave the device to run dry first). With nothing later held, only a few
    // are concealed in a row: the stream may have ended, or stalled.
    if (!this.last || ((this.ended || this.blindRun >= MAX_BLIND_CONCEALS) && !this.hasLater())) return undefined;
    const captureTimeUs = (this.last.captureTimeUs + Math.round((this.last.durationSamples * 1e6) / 48_000)) >>> 0;
    const due = playoutMs(captureTimeUs);
    if (due === undefined || due > concealBy) return undefined;
    const durationSamples = this.last.durationSamples;
    if (this.hasLater()) this.stats.concealed++;
    else this.blindRun++;
    return this.advance({ kind: "conceal", sequence: this.next, captureTimeUs, durationSamples }, { captureTimeUs, durationSamples });
  }

  /** The stream has ended: what is held still plays, nothing after it is concealed. */
  end(): void {
    this.ended = true;
  }

  /** Packets waiting. */
  get size(): number {
    return this.held.size;
  }

  private advance(slot: AudioSlot, timing: { captureTimeUs: number; durationSamples: number }): AudioSlot {
    this.last = { captureTimeUs: timing.captureTimeUs, durationSamples: timing.durationSamples };
    this.next = (this.next! + 1) >>> 0;
    if (slot.kind === "play") this.stats.played++;
    return slot;
  }

  private hasLater(): boolean {
    for (const sequence of this.held.keys()) if (isNewer32(sequence, this.next!)) return true;
    return false;
  }
}
