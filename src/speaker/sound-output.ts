import { OpusPacketDecoder, OUTPUT_CHANNELS, type OpusDecoderInfo } from "../decoder/opus-decoder.ts";
import { elapsedSinceCaptureUs } from "../protocol/v2.ts";
import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";
import { AudioPlayout, driftCorrection, grosslyOutOfTime, isQuiet, outOfTime, playoutMarginMs, type AudioPlayoutStats } from "../session/audio-playout.ts";
import type { PlayoutClock } from "../session/playout-clock.ts";
import { RecentSamples } from "../util/percentiles.ts";
import { round } from "../util/round.ts";
import { SdlSpeaker, SpeakerUnavailableError } from "./sdl-speaker.ts";
import type { SoundReadout } from "../display/stream-readout.ts";
import { DeviceRate } from "./device-rate.ts";
import { StereoResampler } from "./resampler.ts";
import { HeardTimeline } from "./heard-timeline.ts";
import { AUDIO_SAMPLE_RATE } from "../source/ffmpeg-audio-source.ts";

/** Queued this far ahead of its playout time: two device buffers and a late timer's worth. */
const LEAD_MS = 40;
/** The sound waits at most this long for the first frame, to start with it (AudioPlayoutOptions.waitForPictureMs): a receiver warming up showed its first frame up to 450 ms after capture under Xvfb. */
const WAIT_FOR_PICTURE_MS = 1000;
/** A device clock off by at most this is followed by resampling (0.2%: 3.5 cents, unheard). */
const MAX_RESAMPLED_DRIFT = 0.002;
/** The shell calls tick() this often (receive's housekeeping timer). */
const TICK_MS = 10;
/** A tick this overdue is run from what comes in instead (tickIfLate). */
const LATE_TICK_MS = 2 * TICK_MS;
/**
 * How late the writer is taken to run until TICKS_MEASURED ticks have said:
 * a receiver is at its busiest as the sound starts (its window, its
 * decoders), and a queue that runs dry then puts the start of the sound
 * out of time (under load its ticks came 50-60 ms apart).
 */
const STARTING_SLACK_MS = 30;
const TICKS_MEASURED = 50;
/** The loudest level remembered fades by this a packet: to a third in 2 s. */
const LOUDEST_DECAY = 0.99;
/**
 * Once the device's position is smoothed, its queue is read (through SDL,
 * which locks the device's thread for it) about this often, not every tick:
 * the line through the last 400 ms needs no more points, and a tick goes
 * by the line.
 */
const OBSERVE_MS = 20;
/** Volume steps for the arrow keys: about 1.5 dB. */
const VOLUME_STEP = 0.16;

export interface SoundStats extends AudioPlayoutStats {
  /** How fast the device plays against this machine's clock (1.01: 1% fast), as measured. */
  deviceSpeed: number;
  /** Times the offset from the playout time was put right at a quiet moment (or at once, when far off). */
  corrections: number;
  /** Capture → heard, ms (the sender's and this machine's wall clocks). */
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /** The sound's level lately, dBFS (RMS); null before any. */
  levelDb: number | null;
  volume: number;
  muted: boolean;
  /** Packets the decoder refused (concealed instead). */
  refused: number;
  /** Which Opus decoder played it (native libopus, or its WebAssembly build); null before one opened. */
  decoder: OpusDecoderInfo | null;
}

/**
 * The receive side's sound, at the edge: packets into the playout (pure),
 * its writes decoded and queued on the device, on a timer. The device is
 * opened when the first sound arrives (a stream without sound never opens
 * one); where there is none, that is said once and the picture plays on.
 * Keeps the figures the overlay and the summary show.
 */
export class SoundOutput {
  private readonly playout: AudioPlayout;
  private readonly latency = new RecentSamples();
  private levelSum = 0;
  private levelCount = 0;
  private levelDb: number | null = null;
  /** The loudest packet lately (decaying by LOUDEST_DECAY a packet), for telling a quiet moment. */
  private loudest = 0;
  private opening: Promise<void> | undefined;
  /** The device's opening is over (it opened, or there is none). */
  private opened = false;
  private speaker: SdlSpeaker | undefined;
  private decoder: OpusPacketDecoder | undefined;
  private muted = false;
  private volume = 1;
  private lastReceivedMs = -Infinity;
  private lastTickMs: number | undefined;
  /** When the device's queue was last read (see OBSERVE_MS). */
  private lastObservedMs = -Infinity;
  private slackMs = STARTING_SLACK_MS;
  private readonly tickGaps = new RecentSamples(500);
  /** The gaps while the receiver warms up (PlayoutClock.warmingUp), kept apart: see tick(). */
  private readonly warmUpGaps = new RecentSamples(500);
  private readonly deviceRate = new DeviceRate(AUDIO_SAMPLE_RATE);
  private readonly resampler = new StereoResampler();
  /** Offsets put right by adding or leaving out a little sound. */
  private corrections = 0;
  /** Since when the sound has been out of time, waiting for a quiet moment to be put right. */
  private outOfTimeSinceMs: number | undefined;
  /** Where each packet queued sits in the device's stream: when the sound of a given instant is heard. */
  private readonly heard = new HeardTimeline();
  /** The device's position as of the last tick, and its speed (samples a ms): read for every frame shown, so worked out once a tick. */
  private position: { atMs: number; consumed: number; samplesPerMs: number } | undefined;

  constructor(
    private readonly clock: PlayoutClock,
    private readonly wallClockUs: () => number,
    private readonly say: (line: string) => void,
  ) {
    this.playout = new AudioPlayout(clock, { leadMs: LEAD_MS, deviceLatencyMs: SdlSpeaker.latencyMs, waitForPictureMs: WAIT_FOR_PICTURE_MS });
    clock.writerSlackMs = STARTING_SLACK_MS;
  }

  /**
   * Loads what the device and the decoder need ahead of the first sound
   * (SDL, the decoder's WebAssembly); the device itself opens on the first
   * sound. Awaited before the receiver listens: stderr is quiet while SDL loads.
   */
  private preloading: Promise<unknown> | undefined;
  async preload(): Promise<void> {
    this.preloading = Promise.all([SdlSpeaker.load(), OpusPacketDecoder.open().then((decoder) => (this.decoder = decoder))]).catch(() => {});
    await this.preloading;
  }

  /** What the shared PlayoutClock must add for this output (see playoutMarginMs). */
  static get playoutMarginMs(): number {
    return playoutMarginMs(SdlSpeaker.latencyMs);
  }

  /** Whether sound is being played now: a device is open and sound came within the last second. */
  playing(nowMs: number): boolean {
    return this.speaker !== undefined && nowMs - this.lastReceivedMs < 1000;
  }

  /**
   * Whether the picture follows the sound's clock at `nowMs`: sound came
   * within the last second and a device is open or still opening. While it
   * opens (SDL's audio, some 100 ms as the stream starts), the frames wait
   * for their time as they will once it plays: shown at once then, the first
   * flash came 120 ms ahead of its beep.
   */
  leadsPicture(nowMs: number): boolean {
    return (this.speaker !== undefined || (this.opening !== undefined && !this.opened)) && nowMs - this.lastReceivedMs < 1000;
  }

  /**
   * Whether the sound is about to start: it leads the picture, and nothing
   * of it is queued yet. A frame shown by the clock then may be seen before
   * its sound is heard: a starting receiver is busy (its first frame decoded,
   * its window made ready) and its ticks late.
   */
  startPending(nowMs: number): boolean {
    return this.leadsPicture(nowMs) && !this.playout.hasStarted;
  }

  received(packet: ReceivedAudio, nowMs: number): void {
    this.opening ??= this.open();
    this.lastReceivedMs = nowMs;
    this.playout.received(packet, nowMs);
    this.tickIfLate();
  }

  /**
   * Runs tick() now if the timer's is overdue. A receiver catching up runs
   * what came in (datagrams, decoded frames) ahead of its timers: after the
   * window's first draw, 200 ms went without a tick while frames were shown,
   * and the sound's first 40 ms were left out as too late.
   */
  tickIfLate(): void {
    if (this.lastTickMs !== undefined && performance.now() - this.lastTickMs >= LATE_TICK_MS) this.tick();
  }

  /**
   * Whether the sound may start on a tick at `nowMs`. Not on a late tick
   * unless a sound packet was read after that tick was already overdue: the
   * receiver was busy (the device opening, the first frame decoded and its
   * window made ready: 130-280 ms in all), and the sound that came
   * meanwhile may still wait unread in the socket. Read, it comes late and
   * raises the clock's delay: the sound started before it would have its
   * first packet (the start of the first beep) at the old delay, then a
   * silence.
   */
  private mayStart(nowMs: number): boolean {
    if (this.lastTickMs === undefined || nowMs - this.lastTickMs < LATE_TICK_MS) return true;
    return this.lastReceivedMs - this.lastTickMs >= LATE_TICK_MS;
  }

  /** Resolves once the device is open, or known to be missing (said once); immediately if no sound has come. */
  async ready(): Promise<void> {
    await this.opening;
  }

  private async open(): Promise<void> {
    try {
      await this.preloading;
      [this.speaker, this.decoder] = await Promise.all([SdlSpeaker.open(), this.decoder ?? OpusPacketDecoder.open()]);
      this.playout.setDeviceLatency(this.speaker.latencyMs);
      this.speaker.volume = this.volume;
      this.speaker.isMuted = this.muted;
    } catch (error) {
      // Whatever fails (no device, a decoder that cannot load), the picture plays on: said once, never a crash.
      const why = error instanceof SpeakerUnavailableError ? error.message : `cannot play it (${error instanceof Error ? error.message : String(error)})`;
      this.speaker?.close();
      this.speaker = undefined;
      this.say(`udpvid receive: the stream has sound, but there is no sound output: ${why}; playing the picture only`);
    } finally {
      this.opened = true;
    }
  }

  /**
   * Queues what is due; call every few ms. Without a device the sound is
   * still taken in turn (and counted), unheard. The time is read here, as
   * the device's queue is: a caller's own `now` can be stale (a frame shown
   * first, 20 ms), and the sound was then queued that much later than
   * reckoned, apart from the frames shown by it.
   */
  tick(): void {
    const nowMs = performance.now();
    // Counted before any sound: a late first tick says the receiver was busy as the sound came (see mayStart).
    const mayStart = this.mayStart(nowMs);
    const lastTickMs = this.lastTickMs;
    this.lastTickMs = nowMs;
    if (!this.opening) return;
    // How late this process's timer fires: the device's queue must outlast it, or it runs dry between two calls.
    // While warming up, by the 90th percentile of its own gaps: a one-off stall (the window's first draw, 200 ms)
    // then set the 99th, and so raised the whole stream's delay 140 ms a second in (silence put in), for a second;
    // a machine under load (gaps of 50-60 ms) is still followed from the start, not by a correction seconds in.
    const warming = this.clock.warmingUp(nowMs);
    const gaps = warming ? this.warmUpGaps : this.tickGaps;
    if (lastTickMs !== undefined) gaps.add(nowMs - lastTickMs);
    if (gaps.count >= TICKS_MEASURED && gaps.count % TICKS_MEASURED === 0) {
      this.slackMs = Math.max(0, (gaps.percentile(warming ? 90 : 99) ?? 0) - TICK_MS);
      this.clock.writerSlackMs = this.slackMs;
    }
    const { speaker, decoder } = this;
    // Still opening: nothing is taken yet (taken now, the start of the sound would be lost, and the picture think it begun).
    if (!speaker && !this.opened) return;
    // What is still queued, by the smoothed line rather than the device's jumps (it takes its buffer at a time);
    // worked out again only when the queue is read, as the line's points change only then.
    let smoothed = this.deviceRate.consumedAt(nowMs);
    if (speaker && (smoothed === undefined || nowMs - this.lastObservedMs >= OBSERVE_MS - 1)) {
      this.deviceRate.observe(nowMs, speaker.written, speaker.queued);
      this.lastObservedMs = nowMs;
      smoothed = this.deviceRate.consumedAt(nowMs);
    }
    // A device clock slightly off (crystals differ by some 100 ppm) is followed by resampling, unheard;
    // one further off is kept in time by the playout's corrections at quiet moments instead.
    const measured = this.deviceRate.ratio;
    const deviceSpeed = Math.abs(measured - 1) <= MAX_RESAMPLED_DRIFT ? measured : 1;
    const consumed = speaker ? (smoothed ?? speaker.written - speaker.queued) : 0;
    const queued = speaker ? Math.max(0, speaker.written - consumed) : 0;
    this.position = speaker ? { atMs: nowMs, consumed, samplesPerMs: (measured * AUDIO_SAMPLE_RATE) / 1000 } : undefined;
    const queuedMs = (queued * 1000) / (AUDIO_SAMPLE_RATE * deviceSpeed);
    const actions = this.playout.due(nowMs, queuedMs, this.slackMs, mayStart);
    if (!speaker || !decoder) return;
    // One correction a call: the offsets of the actions after it were reckoned before it.
    let corrected = false;
    const queue = (samples: Float32Array, captureUs: number, offMs: number, durationSamples: number, played: boolean) => {
      // Measured once a packet: the loudest lately (for telling a quiet moment), and the readout's level (what was played).
      const squares = sumOfSquares(samples);
      const level = samples.length ? Math.sqrt(squares / samples.length) : 0;
      this.loudest = Math.max(level, this.loudest * LOUDEST_DECAY);
      if (played) this.measureLevel(squares, samples.length);
      if (!corrected) {
        if (!outOfTime(offMs)) this.outOfTimeSinceMs = undefined;
        else this.outOfTimeSinceMs ??= nowMs;
        const waitedMs = this.outOfTimeSinceMs === undefined ? 0 : nowMs - this.outOfTimeSinceMs;
        // Until the device's position is smoothed, what it reports steps a buffer at a time: only a gross offset is put right.
        const { padSamples, trimSamples } = smoothed === undefined && !grosslyOutOfTime(offMs) ? { padSamples: 0, trimSamples: 0 } : driftCorrection(offMs, isQuiet(level, this.loudest), durationSamples, waitedMs);
        if (padSamples > 0) speaker.write(this.resampler.push(new Float32Array(padSamples * OUTPUT_CHANNELS), deviceSpeed));
        if (trimSamples > 0) samples = samples.subarray(trimSamples * OUTPUT_CHANNELS);
        // What was left out of its start is not heard: the packet's sound begins that much later in its capture.
        captureUs = (captureUs + Math.round((trimSamples * 1e6) / AUDIO_SAMPLE_RATE)) >>> 0;
        corrected = padSamples > 0 || trimSamples > 0;
        if (corrected) {
          this.corrections++;
          this.outOfTimeSinceMs = undefined;
        }
      }
      const frames = samples.length / OUTPUT_CHANNELS;
      this.heard.add(captureUs, (frames * 1e6) / AUDIO_SAMPLE_RATE, speaker.written, (deviceSpeed * AUDIO_SAMPLE_RATE) / 1e6, nowMs);
      speaker.write(this.resampler.push(samples, deviceSpeed));
    };
    for (const action of actions) {
      if (action.kind === "silence") speaker.write(new Float32Array(Math.round(action.samples * deviceSpeed) * OUTPUT_CHANNELS));
      else if (action.kind === "conceal") queue(decoder.conceal(action.durationSamples), action.captureTimeUs, action.offMs, action.durationSamples, false);
      else {
        const samples = decoder.decode(action.packet.data, action.packet.durationSamples);
        const heardUs = this.wallClockUs() + (action.atMs - nowMs) * 1000;
        const latency = elapsedSinceCaptureUs(Math.round(heardUs) >>> 0, action.packet.captureTimeUs);
        if (latency !== undefined && !action.packet.captureAnchoredOnArrival) this.latency.add(latency / 1000);
        queue(samples, action.packet.captureTimeUs, action.offMs, action.packet.durationSamples, true);
      }
    }
  }

  /**
   * When the sound captured at `captureUs` is heard, local ms, as it was
   * queued (undefined: not queued yet, or long played): the picture is
   * shown by this, so it meets its sound as the sound really goes.
   */
  heardAtMs(captureUs: number, nowMs: number): number | undefined {
    const { speaker, position } = this;
    if (!speaker || !position) return undefined;
    const consumed = position.consumed + (nowMs - position.atMs) * position.samplesPerMs;
    return this.heard.heardAtMs(captureUs, nowMs, consumed, position.samplesPerMs, speaker.latencyMs);
  }

  /** The stream is over: plays out what is waiting and queued (at most `maxMs`), so its last sound is heard. */
  async drain(maxMs = 1000): Promise<void> {
    this.playout.ended();
    const until = performance.now() + maxMs;
    while (this.speaker && performance.now() < until && (this.playout.waiting > 0 || this.speaker.queued > 0)) {
      this.tick();
      await Bun.sleep(10);
    }
  }

  toggleMute(): void {
    this.muted = !this.muted;
    if (this.speaker) this.speaker.isMuted = this.muted;
  }

  /** One step louder (+1) or quieter (-1). */
  changeVolume(direction: 1 | -1): void {
    this.volume = Math.min(1, Math.max(0, this.volume + direction * VOLUME_STEP));
    if (this.speaker) this.speaker.volume = this.volume;
  }

  /** Whether sound has arrived (the stream has a sound track). */
  get hasSound(): boolean {
    return this.opening !== undefined;
  }

  /** For the overlay and the status line: undefined while no sound plays. */
  readout(nowMs: number, avOffsetMs: number | undefined): SoundReadout | undefined {
    if (!this.playing(nowMs)) return undefined;
    return { levelDb: this.levelDb, avOffsetMs: avOffsetMs ?? null, concealed: this.playout.stats.concealed, muted: this.muted, volume: this.volume };
  }

  stats(): SoundStats {
    const p = (n: number) => round(this.latency.percentile(n)!, 1);
    return {
      ...this.playout.stats,
      deviceSpeed: round(this.deviceRate.ratio, 5),
      corrections: this.corrections,
      latencyMs: this.latency.count > 0 ? { p50: p(50), p95: p(95), p99: p(99) } : null,
      levelDb: this.levelDb,
      volume: round(this.volume, 2),
      muted: this.muted,
      refused: this.decoder?.stats.refused ?? 0,
      decoder: this.decoder?.info ?? null,
    };
  }

  close(): void {
    this.speaker?.close();
    this.decoder?.close();
  }

  /** RMS over about a quarter second, as dBFS (48 000 interleaved values: half a second of stereo, a quarter of each side). */
  private measureLevel(sumOfSquares: number, count: number): void {
    this.levelSum += sumOfSquares;
    this.levelCount += count;
    if (this.levelCount < 48_000 / 2) return;
    const level = Math.sqrt(this.levelSum / this.levelCount);
    this.levelDb = level > 1e-6 ? round(20 * Math.log10(level), 1) : -120;
    this.levelSum = 0;
    this.levelCount = 0;
  }
}

/**
 * Every LEVEL_STRIDE-th stereo pair is enough for a level: a packet's 960
 * become 240, still 5 ms of sound, and the sum is scaled back to the
 * packet's length (the whole loop was a tenth of the sound's work a tick).
 */
const LEVEL_STRIDE = 4;

function sumOfSquares(samples: Float32Array): number {
  let sum = 0;
  let counted = 0;
  for (let i = 0; i + 1 < samples.length; i += 2 * LEVEL_STRIDE) {
    sum += samples[i]! * samples[i]! + samples[i + 1]! * samples[i + 1]!;
    counted += 2;
  }
  return counted === 0 ? 0 : (sum * samples.length) / counted;
}
