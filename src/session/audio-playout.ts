import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";
import { AUDIO_SAMPLE_RATE } from "../source/ffmpeg-audio-source.ts";
import { AudioJitterBuffer } from "./audio-jitter-buffer.ts";
import type { PlayoutClock } from "./playout-clock.ts";

/** What to write to the sound device next, in order. */
export type PlayoutAction =
  /**
   * Decode this packet and queue it; it will be heard at `atMs` (local),
   * `offMs` before its playout time (negative: after). driftCorrection()
   * says whether to put that right here.
   */
  | { kind: "play"; packet: ReceivedAudio; atMs: number; offMs: number }
  /** The packet due here (captured at `captureTimeUs`) never came: queue this many samples of the decoder's concealment. */
  | { kind: "conceal"; captureTimeUs: number; durationSamples: number; offMs: number }
  /** Queue this many samples of silence, so the next packet starts at its playout time. */
  | { kind: "silence"; samples: number };

export interface AudioPlayoutOptions {
  /** How far ahead of its playout time a packet is queued: room for a late timer, at the cost of reacting later. */
  leadMs: number;
  /** The device plays a queued sample this long after the queue hands it on (its own buffer); known once it is open (setDeviceLatency). */
  deviceLatencyMs: number;
  /**
   * The sound starts only once the first frame is ready (the clock's
   * awaitsPicture), so the first beep is heard with its flash; but waits at
   * most this long after its first packet (a stream whose picture never
   * comes still plays its sound). 0: it starts at once.
   */
  waitForPictureMs?: number;
}

/**
 * Sound is heard within this of its playout time as it is. Beyond it, the
 * offset is put right at a quiet moment (a little silence added, or a little
 * sound left out, where nobody hears it); past LOUD_FIX_MS, after waiting
 * LOUD_WAIT_MS for a quiet moment, or past HARD_FIX_MS, at once: that keeps
 * the picture in sync whatever the sound. A device whose clock runs off by
 * more than a resampler should hide (SDL's disk driver: 1-2%) is kept in
 * time this way. (2 ms in time was tried: under load, the position's
 * noise then set off corrections that left out 1% of the sound.)
 */
const IN_TIME_MS = 4;
const LOUD_FIX_MS = 15;
const LOUD_WAIT_MS = 300;
const HARD_FIX_MS = 30;
/** A missing packet is concealed when it would be heard within this (beyond the device's latency): a tick of 10 ms and some slack. */
const CONCEAL_AHEAD_MS = 15;
/** Queued sound may run this far behind its playout time before a packet is left out to catch up (a stall, not a drift). */
const BEHIND_TOLERANCE_MS = 40;

/**
 * The margin the PlayoutClock must add for this device: a packet arriving
 * within the measured jitter must come before its deadline to be concealed
 * (the device's latency and CONCEAL_AHEAD_MS before it is heard), with 5 ms
 * to spare.
 */
export function playoutMarginMs(deviceLatencyMs: number): number {
  return deviceLatencyMs + CONCEAL_AHEAD_MS + 5;
}

/**
 * How to put an offset right on a packet about to be queued (`quiet`: it is
 * a quiet moment, see isQuiet; `waitedMs`: how long the sound has been out
 * of time): samples of silence to add before it, or of it to leave out from
 * its start. Nothing while in time, or while loud unless far off for long.
 */
export function driftCorrection(offMs: number, quiet: boolean, durationSamples: number, waitedMs = Infinity): { padSamples: number; trimSamples: number } {
  const none = { padSamples: 0, trimSamples: 0 };
  const off = Math.abs(offMs);
  if (off <= IN_TIME_MS) return none;
  if (!quiet && off <= HARD_FIX_MS && (off <= LOUD_FIX_MS || waitedMs < LOUD_WAIT_MS)) return none;
  const samples = Math.round((Math.abs(offMs) * AUDIO_SAMPLE_RATE) / 1000);
  return offMs > 0 ? { padSamples: samples, trimSamples: 0 } : { padSamples: 0, trimSamples: Math.min(samples, durationSamples - 1) };
}

/** Whether the sound is out of time by more than is left as it is (for how long it has been, see driftCorrection). */
export function outOfTime(offMs: number): boolean {
  return Math.abs(offMs) > IN_TIME_MS;
}

/** Whether the sound is out of time by more than is ever left waiting for a quiet moment. */
export function grosslyOutOfTime(offMs: number): boolean {
  return Math.abs(offMs) > HARD_FIX_MS;
}

/** Silent outright (-34 dBFS), or well below the sound's recent level (a pause between words, the quiet between beats). */
export function isQuiet(packetRms: number, recentRms: number): boolean {
  return packetRms < 0.02 || packetRms < 0.35 * recentRms;
}

export interface AudioPlayoutStats {
  played: number;
  concealed: number;
  /** Arrived after their turn (the jitter buffer's late). */
  late: number;
  /** Left out because the sound ran behind its playout time (catching up after a stall or a clock change). */
  skippedBehind: number;
  /** Silences put in to start a packet at its playout time (the start, after a stall). */
  silences: number;
}

/**
 * The sound track's playout, pure and given the time: packets in (as they
 * arrive or are rebuilt), placed on the shared PlayoutClock, and handed
 * out in order as device writes, each one starting at its playout time.
 * The device's queue is the output's clock: the caller says how much is
 * still queued (in real time: it corrects for the device's own rate), and
 * this keeps where the queue ends in line with the playout times: a packet
 * stretched or shrunk slightly for a small offset, silence when it would
 * start early, a packet left out when it runs far behind (a stall). So the
 * offset from the picture never grows.
 */
export class AudioPlayout {
  private readonly jitter = new AudioJitterBuffer();
  private skippedBehind = 0;
  private silences = 0;
  /** Whether any sound has been handed out yet. */
  private started = false;

  private readonly options: AudioPlayoutOptions;

  constructor(
    private readonly clock: PlayoutClock,
    options: AudioPlayoutOptions,
  ) {
    this.options = { ...options };
  }

  /** The opened device's own latency, once known (it differs per driver). */
  setDeviceLatency(ms: number): void {
    this.options.deviceLatencyMs = ms;
  }

  /** A packet from the reassembler, at `nowMs`. A rebuilt or resent one comes late by nature: the wait allowed for covers it, the path's speed does not count it. */
  received(packet: ReceivedAudio, nowMs: number): void {
    this.clock.arrived(packet.captureTimeUs, nowMs, packet.recovered || packet.resent === true);
    this.jitter.add(packet);
  }

  /**
   * The device writes to make now, given how much sound (ms) the device
   * still has queued; `slackMs`: how late the next call may come (packets
   * are queued that much further ahead, so the device never runs dry).
   * `mayStart` false: the sound must not start on this call (see SoundOutput.tick:
   * the caller was busy, and what came meanwhile is still unread); once
   * started, it goes on regardless.
   */
  due(nowMs: number, queuedMs: number, slackMs = 0, mayStart = true): PlayoutAction[] {
    const actions: PlayoutAction[] = [];
    // Played before the first frame was ready, the start would be heard ahead of its picture (the first frame took 300-450 ms under Xvfb).
    if (!this.started && (!mayStart || this.clock.awaitsPicture(nowMs, this.options.waitForPictureMs ?? 0))) return actions;
    // Local time at which the sample after everything queued would play.
    let queueEndMs = nowMs + queuedMs + this.options.deviceLatencyMs;
    const playoutMs = (captureUs: number) => this.clock.playoutMs(captureUs);
    // Packets are queued ahead of time; a missing one is given up only when the device would otherwise run dry before the next call.
    const playBy = nowMs + this.options.leadMs + slackMs;
    const concealBy = nowMs + this.options.deviceLatencyMs + CONCEAL_AHEAD_MS;
    // Nothing queued: the device plays silence anyway, so sound that would start early waits in silence, however little.
    let idle = queuedMs <= 0;
    for (let slot = this.jitter.take(playBy, playoutMs, concealBy); slot; slot = this.jitter.take(playBy, playoutMs, concealBy)) {
      const captureUs = slot.kind === "play" ? slot.packet.captureTimeUs : slot.captureTimeUs;
      const durationSamples = slot.kind === "play" ? slot.packet.durationSamples : slot.durationSamples;
      let startMs = playoutMs(captureUs)!;
      if (!this.started && actions.length === 0 && startMs < queueEndMs) {
        // The first sound queued after its time (the receiver busy as it starts): the clock moves to it. Left out
        // as behind, the start of the first beep was lost and the frames already due were seen without it.
        this.clock.startedLate(queueEndMs - startMs);
        startMs = playoutMs(captureUs)!;
      }
      const earlyByMs = startMs - queueEndMs;
      if (earlyByMs < -BEHIND_TOLERANCE_MS) {
        this.skippedBehind++;
        continue;
      }
      if (earlyByMs > HARD_FIX_MS || (idle && earlyByMs > 0)) {
        const samples = Math.round((earlyByMs * AUDIO_SAMPLE_RATE) / 1000);
        actions.push({ kind: "silence", samples });
        this.silences++;
        queueEndMs += (samples * 1000) / AUDIO_SAMPLE_RATE;
      }
      idle = false;
      const offMs = startMs - queueEndMs;
      actions.push(slot.kind === "play" ? { kind: "play", packet: slot.packet, atMs: queueEndMs, offMs } : { kind: "conceal", captureTimeUs: captureUs, durationSamples, offMs });
      queueEndMs += (durationSamples * 1000) / AUDIO_SAMPLE_RATE;
    }
    this.started ||= actions.length > 0;
    return actions;
  }

  /** Whether any sound has been handed out yet (before, a picture that follows the sound has nothing to follow). */
  get hasStarted(): boolean {
    return this.started;
  }

  /** The stream has ended: what waits still plays; nothing after the last packet is concealed. */
  ended(): void {
    this.jitter.end();
  }

  /** Packets waiting for their turn. */
  get waiting(): number {
    return this.jitter.size;
  }

  get stats(): AudioPlayoutStats {
    const { played, concealed, late } = this.jitter.stats;
    return { played, concealed, late, skippedBehind: this.skippedBehind, silences: this.silences };
  }
}
