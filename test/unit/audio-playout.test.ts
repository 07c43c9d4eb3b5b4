import { describe, expect, test } from "bun:test";
import type { ReceivedAudio } from "../../src/reassembler/audio-reassembler.ts";
import { AudioPlayout, driftCorrection, isQuiet, playoutMarginMs, type PlayoutAction } from "../../src/session/audio-playout.ts";
import { PlayoutClock } from "../../src/session/playout-clock.ts";
import { seededRandom } from "../../src/util/random.ts";

const packet = (sequence: number): ReceivedAudio => ({
  sequence,
  data: Uint8Array.of(sequence & 0xff),
  captureTimeUs: (1_000_000 + sequence * 20_000) >>> 0,
  durationSamples: 960,
  channels: 2,
  recovered: false,
});

/** A device that plays its queue in real time: where each write lands (local ms), given the playout's actions. */
class SimulatedDevice {
  queuedMs = 0;
  private lastMs = 0;
  /** Each packet (or concealment) heard: when, and how far from its playout time at the moment it was queued (positive: early). */
  readonly heard: { sequence: number | "conceal"; atMs: number; offMs: number }[] = [];
  silences = 0;

  advance(nowMs: number): void {
    this.queuedMs = Math.max(0, this.queuedMs - (nowMs - this.lastMs));
    this.lastMs = nowMs;
  }

  /** As SoundOutput writes: at most one correction a call, the sound taken as quiet or not. */
  write(nowMs: number, actions: PlayoutAction[], deviceLatencyMs: number, quiet = true): void {
    let corrected = false;
    for (const action of actions) {
      if (action.kind === "silence") {
        this.silences++;
        this.queuedMs += action.samples / 48;
        continue;
      }
      const duration = action.kind === "play" ? action.packet.durationSamples : action.durationSamples;
      const fix: { padSamples: number; trimSamples: number } = corrected ? { padSamples: 0, trimSamples: 0 } : driftCorrection(action.offMs, quiet, duration);
      corrected ||= fix.padSamples + fix.trimSamples > 0;
      this.queuedMs += fix.padSamples / 48;
      const atMs = nowMs + this.queuedMs + deviceLatencyMs;
      const offMs = action.offMs - fix.padSamples / 48 + fix.trimSamples / 48;
      this.heard.push({ sequence: action.kind === "play" ? action.packet.sequence : "conceal", atMs: atMs - fix.trimSamples / 48, offMs });
      this.queuedMs += (duration - fix.trimSamples) / 48;
    }
  }
}

/** Runs `count` packets sent every 20 ms through a path (transit per packet) with a tick every `tickMs`, except where `stalled` says. */
function run(options: { count: number; transitMs: (n: number) => number | undefined; tickMs?: number; stalled?: (nowMs: number) => boolean }) {
  const deviceLatencyMs = 10;
  // As the receiver sets it: room to conceal a packet by its deadline.
  const clock = new PlayoutClock({ marginMs: playoutMarginMs(deviceLatencyMs) });
  const playout = new AudioPlayout(clock, { leadMs: 40, deviceLatencyMs });
  const device = new SimulatedDevice();
  const arrivals = Array.from({ length: options.count }, (_, n) => ({ n, atMs: n * 20 + (options.transitMs(n) ?? NaN) }))
    .filter((a) => !Number.isNaN(a.atMs))
    .sort((a, b) => a.atMs - b.atMs);
  const tickMs = options.tickMs ?? 10;
  let next = 0;
  for (let now = 0; now < options.count * 20 + 1000; now += 1) {
    while (next < arrivals.length && arrivals[next]!.atMs <= now) playout.received(packet(arrivals[next++]!.n), now);
    device.advance(now);
    if (now % tickMs === 0 && !options.stalled?.(now)) device.write(now, playout.due(now, device.queuedMs), deviceLatencyMs);
  }
  // Where each packet was heard against where the clock placed it (capture n·20 ms after the first, at the clock's delay).
  return { playout, device };
}

describe("AudioPlayout", () => {
  test("a path with jitter: every packet heard once, in order (one at most left out when the measured jitter replaces the starting guess), each near its playout time", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const random = seededRandom(seed);
      const { playout, device } = run({ count: 500, transitMs: () => 5 + random() * 15 });
      // After the last packet, a few more are concealed (the stream might go on) before silence.
      const heard = device.heard.map((h) => h.sequence);
      const played = heard.filter((h) => h !== "conceal") as number[];
      expect(played).toEqual([...played].sort((a, b) => a - b));
      expect(new Set(played).size).toBe(played.length);
      expect(played.length).toBeGreaterThanOrEqual(499);
      expect(playout.stats.skippedBehind).toBe(500 - played.length);
      // A few concealed after the last packet (the stream might have gone on), not counted: no gap was concealed.
      expect(heard.length - played.length).toBeLessThanOrEqual(3);
      expect(playout.stats).toMatchObject({ concealed: 0, late: 0 });
      expect(device.silences).toBeLessThanOrEqual(1);
      // After the clock has settled (its jitter measured), sound is heard where the clock says.
      for (const h of device.heard.slice(250).filter((h) => h.sequence !== "conceal")) expect(Math.abs(h.offMs)).toBeLessThan(LATE_OR_EARLY_MS);
    }
  });

  test("a packet that never comes is concealed in its place, for its length; the rest keep their times", () => {
    const { playout, device } = run({ count: 100, transitMs: (n) => (n === 50 || n === 51 ? undefined : 10) });
    const trailing = ["conceal", "conceal", "conceal"] as const;
    expect(device.heard.map((h) => h.sequence)).toEqual([...Array.from({ length: 50 }, (_, n) => n), "conceal", "conceal", ...Array.from({ length: 48 }, (_, n) => n + 52), ...trailing]);
    expect(playout.stats.concealed).toBe(2); // the two gaps; what followed the last packet is not counted
    // Contiguous around the gap: each write starts where the last ended (the clock settled long before).
    for (let i = 41; i < 60; i++) expect(device.heard[i]!.atMs - device.heard[i - 1]!.atMs).toBeCloseTo(20, 0);
  });

  test("after a stall (no writes for 200 ms), what ran behind is left out and the sound is back at its playout time: the offset never grows", () => {
    const { playout, device } = run({ count: 400, transitMs: () => 10, stalled: (now) => now >= 3000 && now < 3200 });
    expect(playout.stats.skippedBehind).toBeGreaterThan(0);
    const after = device.heard.filter((h) => h.atMs > 6000 && h.sequence !== "conceal");
    expect(after.length).toBeGreaterThan(50);
    for (const h of after) expect(Math.abs(h.offMs)).toBeLessThan(LATE_OR_EARLY_MS);
  });

  test("sound that starts late (the first packets slow, the path then faster) catches up: left out, never an offset that stays", () => {
    const { device } = run({ count: 300, transitMs: (n) => (n < 5 ? 60 - n * 10 : 10) });
    for (const h of device.heard.filter((h) => h.atMs > 4000 && h.sequence !== "conceal")) expect(Math.abs(h.offMs)).toBeLessThan(LATE_OR_EARLY_MS);
    // Stretched back, not left at the edge of the tolerance: the last second plays within 6 ms of its time (4 ms are left as they are).
    for (const h of device.heard.filter((h) => h.atMs > 5000 && h.sequence !== "conceal")) expect(Math.abs(h.offMs)).toBeLessThan(6);
  });

  test("a busy start (the first packets read together, 140 ms late): every packet heard, and within seconds as late as a start that was never busy", () => {
    const latency = (transitMs: (n: number) => number) => {
      const { playout, device } = run({ count: 300, transitMs });
      const heard = device.heard.filter((h) => h.sequence !== "conceal") as { sequence: number; atMs: number }[];
      // Heard at minus captured at (n·20 ms) of the first packet heard from `fromMs` on.
      const at = (fromMs: number) => {
        const first = heard.find((h) => h.atMs >= fromMs)!;
        return first.atMs - first.sequence * 20;
      };
      return { playout, heard, at };
    };
    const steady = latency(() => 30);
    const busy = latency((n) => Math.max(30, 170 + n * 0.5 - n * 20));
    // The burst's sound is heard too (it came whole, only late): nothing left out.
    expect(busy.heard.map((h) => h.sequence)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(busy.playout.stats.skippedBehind).toBe(0);
    // Later at first, then as late as a start that was never busy: the excess gone within 5 s, by steps left out at quiet moments.
    expect(busy.at(500) - steady.at(500)).toBeGreaterThan(50);
    expect(busy.at(3000) - steady.at(3000)).toBeLessThan(30);
    for (const fromMs of [5000, 5500, 5900]) expect(Math.abs(busy.at(fromMs) - steady.at(fromMs))).toBeLessThan(LATE_OR_EARLY_MS);
  });

  test("the sound starts only once the first frame is ready, and then with it; a picture that never comes holds it 1 s at most", () => {
    const start = (frameReadyAtMs: number | undefined) => {
      const clock = new PlayoutClock({ marginMs: playoutMarginMs(10) });
      const playout = new AudioPlayout(clock, { leadMs: 40, deviceLatencyMs: 10, waitForPictureMs: 1000 });
      let first: { atMs: number; sequence: number; nowMs: number } | undefined;
      for (let now = 0; now < 2000 && !first; now++) {
        // Sound packets every 20 ms, 10 ms after capture; frame 0 (captured with sound packet 0) ready at frameReadyAtMs.
        if (now % 20 === 10) playout.received(packet((now - 10) / 20), now);
        if (now === frameReadyAtMs) clock.pictureReady(packet(0).captureTimeUs, now);
        const played = playout.due(now, 0).find((a) => a.kind === "play");
        if (played?.kind === "play") first = { atMs: played.atMs, sequence: played.packet.sequence, nowMs: now };
      }
      return first!;
    };
    // Frame 0 ready 400 ms after its capture (a receiver warming up): nothing is handed out before, then sound from packet 0 on, heard no earlier than the frame can be shown.
    const withPicture = start(400);
    expect(withPicture.nowMs).toBeGreaterThanOrEqual(400);
    expect(withPicture.sequence).toBe(0);
    expect(withPicture.atMs).toBeGreaterThanOrEqual(400);
    // No picture: the sound starts 1 s after its first packet.
    const without = start(undefined);
    expect(without.nowMs).toBeGreaterThanOrEqual(1010);
    expect(without.nowMs).toBeLessThan(1100);
  });
});

describe("AudioPlayout's start after a busy spell", () => {
  // Packet 0 read at 10 ms; the receiver then busy until 200 ms (the device opening, frame 0 decoded and drawn), packets 1-9
  // waiting unread in the socket; frame 0 ready at 200 ms; the backlog read at 203 ms; ticks every 10 ms from 210 ms on.
  const startAfterBusySpell = (startOnLateTick: boolean) => {
    const clock = new PlayoutClock({ marginMs: playoutMarginMs(10) });
    // As SoundOutput starts it: the sound's margin above the picture's, so the backlog, not frame 0, sets the delay.
    clock.writerSlackMs = 30;
    const playout = new AudioPlayout(clock, { leadMs: 40, deviceLatencyMs: 10, waitForPictureMs: 1000 });
    const device = new SimulatedDevice();
    const actions: PlayoutAction[] = [];
    const tick = (now: number, mayStart = true) => {
      device.advance(now);
      const due = playout.due(now, device.queuedMs, 0, mayStart);
      actions.push(...due);
      device.write(now, due, 10);
    };
    playout.received(packet(0), 10);
    clock.pictureReady(packet(0).captureTimeUs, 200);
    // The tick run as frame 0 is ready: late (its timer starved), the backlog unread.
    tick(200, startOnLateTick);
    for (let n = 1; n <= 9; n++) playout.received(packet(n), 203);
    for (let now = 210; now <= 400; now += 10) {
      if (now % 20 === 10) playout.received(packet((now - 10) / 20), now);
      tick(now);
    }
    return { actions, device, clock };
  };

  test("a late tick does not start the sound: it starts once what came meanwhile is read, its first packet at the delay the rest play at", () => {
    const { actions, device, clock } = startAfterBusySpell(false);
    const played = actions.filter((a) => a.kind !== "silence");
    expect(played.slice(0, 5).map((a) => (a.kind === "play" ? a.packet.sequence : a.kind))).toEqual([0, 1, 2, 3, 4]);
    // Silence only ahead of packet 0: from there on the packets follow one another, each at its playout time.
    expect(actions.findIndex((a) => a.kind === "silence")).toBe(0);
    expect(actions.slice(1).some((a) => a.kind === "silence")).toBe(false);
    const first = device.heard[0]!;
    expect(first.sequence).toBe(0);
    expect(Math.abs(first.atMs - clock.playoutMs(packet(0).captureTimeUs)!)).toBeLessThanOrEqual(5);
  });

  test("started on the late tick, packet 0 goes at the old delay, heard 30 ms ahead of where the clock then has it, and a silence splits it from what follows", () => {
    const { actions, device, clock } = startAfterBusySpell(true);
    const afterFirst = actions.slice(actions.findIndex((a) => a.kind === "play") + 1);
    expect(afterFirst.some((a) => a.kind === "silence")).toBe(true);
    expect(clock.playoutMs(packet(0).captureTimeUs)! - device.heard[0]!.atMs).toBeGreaterThan(20);
  });
});

describe("AudioPlayout's late start", () => {
  test("the first sound queued after its playout time (the receiver busy) is played, not left out: the clock moves to it, and the rest follow on", () => {
    const clock = new PlayoutClock({ marginMs: playoutMarginMs(10) });
    const playout = new AudioPlayout(clock, { leadMs: 40, deviceLatencyMs: 10 });
    for (let n = 0; n < 10; n++) playout.received(packet(n), 10 + n * 20);
    const before = clock.playoutMs(packet(0).captureTimeUs)!;
    // The first call comes 100 ms after packet 0's playout time.
    const nowMs = before + 100;
    const actions = playout.due(nowMs, 0);
    const plays = actions.filter((a) => a.kind === "play");
    expect(plays[0]?.kind === "play" && plays[0].packet.sequence).toBe(0);
    expect(playout.stats.skippedBehind).toBe(0);
    // Heard at its (moved) playout time, and the clock moved that far: the frames captured with it follow.
    const first = plays[0]!;
    const after = clock.playoutMs(packet(0).captureTimeUs)!;
    expect(after - before).toBeGreaterThanOrEqual(100);
    expect(Math.abs(first.atMs - after)).toBeLessThanOrEqual(1);
    expect(first.offMs).toBeCloseTo(0, 5);
    expect(plays.map((a) => (a.kind === "play" ? a.packet.sequence : -1))).toEqual(plays.map((_, i) => i));
    expect(playout.hasStarted).toBe(true);
  });
});

describe("driftCorrection", () => {
  test("in time: nothing; off at a quiet moment: put right (silence added when early, sound left out when late); loud: only when far off", () => {
    expect(driftCorrection(3, true, 960)).toEqual({ padSamples: 0, trimSamples: 0 });
    expect(driftCorrection(5, true, 960)).toEqual({ padSamples: 240, trimSamples: 0 });
    expect(driftCorrection(8, true, 960)).toEqual({ padSamples: 384, trimSamples: 0 });
    expect(driftCorrection(-8, true, 960)).toEqual({ padSamples: 0, trimSamples: 384 });
    expect(driftCorrection(-8, false, 960)).toEqual({ padSamples: 0, trimSamples: 0 });
    // Loud and 16 ms off: put right only once no quiet moment came for 300 ms; 31 ms off: at once.
    expect(driftCorrection(-16, false, 960, 100)).toEqual({ padSamples: 0, trimSamples: 0 });
    expect(driftCorrection(-16, false, 960, 300)).toEqual({ padSamples: 0, trimSamples: 768 });
    expect(driftCorrection(-31, false, 960, 0)).toEqual({ padSamples: 0, trimSamples: 959 }); // never the whole packet
  });

  test("quiet: silent outright, or well below the loudest sound lately", () => {
    expect(isQuiet(0.01, 0)).toBe(true);
    expect(isQuiet(0.035, 0.35)).toBe(true); // the clip's hum after its beep
    expect(isQuiet(0.3, 0.35)).toBe(false);
    expect(isQuiet(0.05, 0.06)).toBe(false);
  });
});

/** The playout's own tolerance: 4 ms are left as they are; quiet sound (as here) is put right beyond that. */
const LATE_OR_EARLY_MS = 5;
