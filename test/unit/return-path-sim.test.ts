import { describe, expect, test } from "bun:test";
import { ReceiverFeedback } from "../../src/feedback/receiver-feedback.ts";
import { endpoint } from "../../src/feedback/feedback-gate.ts";
import { V2WireFormat } from "../../src/packetizer/wire-format.ts";
import { StreamAssembler } from "../../src/reassembler/stream-assembler.ts";
import { seededRandom } from "../../src/util/random.ts";
import { SendPipeline, type FramePlan } from "../../src/session/send-pipeline.ts";

// The v2 stages wired together in memory, pion-style: the sender's pipeline
// (encoding plan, pacing, wire format, return path), a simulated network each
// way (delay, seeded loss), the receiver's assembler with its return path. A fake clock in 1 ms steps; no
// sockets, no timers.

interface Link {
  delayMs: number;
  /** Probability a datagram is lost; with `burst`, the mean length of a loss burst (Gilbert–Elliott). */
  loss: number;
  burst?: number;
}

function lossModel(link: Link, random: () => number): () => boolean {
  if (!link.burst) return () => random() < link.loss;
  // Two states: good (no loss) and bad (all lost); mean bad run = burst, overall loss = link.loss.
  const leaveBad = 1 / link.burst;
  const enterBad = (link.loss * leaveBad) / (1 - link.loss);
  let bad = false;
  return () => {
    bad = bad ? random() >= leaveBad : random() < enterBad;
    return bad;
  };
}

interface SimOptions {
  forward: Link;
  reverse: Link;
  feedback: boolean;
  frames?: number;
  seed?: number;
  /** Bytes of a frame at full size and quality 80; smaller pictures shrink with their area and quality. */
  frameBytes?: number;
  latencyMs?: number;
  adapt?: "on" | "off";
}

const FPS = 30;
const RECEIVER = endpoint("10.0.0.2", 9999);

function simulate(options: SimOptions) {
  const frames = options.frames ?? 300;
  const random = seededRandom(options.seed ?? 1);
  const lostForward = lossModel(options.forward, random);
  const lostReverse = lossModel(options.reverse, random);
  const pipeline = new SendPipeline({
    wire: new V2WireFormat({ datagramSize: 1200 }),
    fps: FPS,
    sourceFps: FPS,
    leaveOutWhileProbing: true,
    lowLatency: false,
    ceiling: { quality: 80, width: 1280, height: 720 },
    adapt: options.adapt ?? "off",
    fecPercent: 25,
    fecFixed: false,
    receivers: options.feedback ? new Set([RECEIVER]) : undefined,
    historyBytes: 32 << 20,
    retransmitShare: 0.3,
  });
  const receiverFeedback = options.feedback ? new ReceiverFeedback({ latencyMs: options.latencyMs }) : undefined;
  const assembler = new StreamAssembler({ maxMemoryBytes: 64 << 20, feedback: receiverFeedback });
  const toReceiver: { atMs: number; datagram: Uint8Array }[] = [];
  const toSender: { atMs: number; datagram: Uint8Array }[] = [];
  const completed = new Set<number>();
  let firstSent = 0;
  let resent = 0;
  const parity: number[] = [];
  const send = (datagrams: Uint8Array[], fromMs: number, spanMs: number) =>
    datagrams.forEach((datagram, i) => {
      if (!lostForward()) toReceiver.push({ atMs: fromMs + (spanMs * i) / datagrams.length + options.forward.delayMs, datagram });
    });
  // A stand-in encoder: the planned picture's bytes follow its area and quality.
  const encode = (plan: FramePlan) => {
    if (plan.encoding === "skip") return undefined;
    const { scale, quality } = plan.encoding;
    return Uint8Array.from({ length: Math.max(500, Math.round((options.frameBytes ?? 40_000) * scale * scale * (quality / 80))) }, (_, i) => (i * 7 + plan.index) & 0xff);
  };
  const endMs = frames * 33 + 1000;
  for (let now = 0; now < endMs; now++) {
    if (now % 33 === 0 && now / 33 < frames) {
      const plan = pipeline.plan(now);
      const jpeg = encode(plan);
      if (jpeg) pipeline.encoded(plan, jpeg.length);
      const frame = pipeline.frame(plan, jpeg, now, now * 1000);
      if (frame) {
        parity.push(pipeline.status(now).counts.fecPercent);
        firstSent += frame.datagrams.length;
        send(frame.datagrams, now, frame.windowMs);
        pipeline.sent(frame, now + frame.windowMs, frame.windowMs);
      }
    }
    toReceiver.sort((a, b) => a.atMs - b.atMs);
    while (toReceiver.length > 0 && toReceiver[0]!.atMs <= now) {
      for (const event of assembler.push(toReceiver.shift()!.datagram, now, "10.0.0.1", 5000)) if (event.kind === "frame") completed.add(event.frame.frameNumber!);
    }
    if (now % 10 === 0) {
      for (const event of assembler.expire(now)) if (event.kind === "frame") completed.add(event.frame.frameNumber!);
      for (const reply of assembler.replies(now)) {
        expect(`${reply.address}:${reply.port}`).toBe("10.0.0.1:5000"); // back to where the stream came from
        if (!lostReverse()) toSender.push({ atMs: now + options.reverse.delayMs, datagram: reply.datagram });
      }
    }
    while (toSender.length > 0 && toSender[0]!.atMs <= now) {
      const resend = pipeline.received(toSender.shift()!.datagram, "10.0.0.2", 9999, now);
      resent += resend.length;
      send(resend, now, 1);
    }
  }
  const status = pipeline.status(endMs);
  return { completed: completed.size, frames, firstSent, resent, parity, sender: status.returnPath!, rate: status.rate, counts: status.counts, receiver: receiverFeedback };
}

describe("the return path in memory: sender, lossy network both ways, receiver", () => {
  test("5% loss in bursts of 8 at a 20 ms round trip: retransmission completes what parity alone cannot", () => {
    const link = { delayMs: 10, loss: 0.05, burst: 8 };
    const withFeedback = simulate({ forward: link, reverse: { delayMs: 10, loss: 0 }, feedback: true });
    const fecOnly = simulate({ forward: link, reverse: { delayMs: 10, loss: 0 }, feedback: false });
    expect(withFeedback.completed / withFeedback.frames).toBeGreaterThanOrEqual(0.99);
    expect(withFeedback.completed).toBeGreaterThan(fecOnly.completed);
    expect(withFeedback.resent).toBeGreaterThan(0);
    expect(withFeedback.resent).toBeLessThanOrEqual(0.3 * withFeedback.firstSent);
    expect(withFeedback.sender.rttMs).toBeGreaterThan(18);
    expect(withFeedback.sender.rttMs).toBeLessThan(45);
    expect(withFeedback.receiver!.stats.framesSavedByRetransmission).toBeGreaterThan(0);
  });

  test("a clean path: nothing asked, the parity falls to none once reports come", () => {
    const run = simulate({ forward: { delayMs: 5, loss: 0 }, reverse: { delayMs: 5, loss: 0 }, feedback: true, frames: 120 });
    expect(run.completed).toBe(120);
    expect(run.resent).toBe(0);
    expect(run.parity[0]).toBe(25); // blind until the first report
    expect(run.parity.at(-1)).toBe(0);
  });

  test("15% random loss, and 10% of the feedback lost on the way back: still ≥ 98% of frames", () => {
    const run = simulate({ forward: { delayMs: 10, loss: 0.15 }, reverse: { delayMs: 10, loss: 0.1 }, feedback: true, seed: 4 });
    expect(run.completed / run.frames).toBeGreaterThanOrEqual(0.98);
    expect(run.resent).toBeLessThanOrEqual(0.3 * run.firstSent);
    expect(run.parity.at(-1)).toBeGreaterThan(5); // heavy loss keeps parity up
  });

  test("a long round trip (80 ms) against a 120 ms budget: more parity, since only one retransmission fits", () => {
    const short = simulate({ forward: { delayMs: 10, loss: 0.03 }, reverse: { delayMs: 10, loss: 0 }, feedback: true, seed: 7, latencyMs: 120 });
    const long = simulate({ forward: { delayMs: 40, loss: 0.03 }, reverse: { delayMs: 40, loss: 0 }, feedback: true, seed: 7, latencyMs: 120 });
    const tail = (xs: number[]) => xs.slice(-100).reduce((a, b) => a + b, 0) / 100;
    expect(tail(long.parity)).toBeGreaterThan(tail(short.parity));
    expect(long.completed / long.frames).toBeGreaterThanOrEqual(0.99);
  });

  test("adapting, 15% random loss with room to spare: a lossy link is not a narrow one; full picture, the loss repaired (3 seeds)", () => {
    for (const seed of [1, 2, 3]) {
      const run = simulate({ forward: { delayMs: 10, loss: 0.15 }, reverse: { delayMs: 10, loss: 0 }, feedback: true, seed, adapt: "on" });
      expect(run.rate).toMatchObject({ adapt: true, reason: "loss repaired", quality: 80, scale: 1, fps: 30 });
      expect(run.counts.framesSkippedForRate).toBeLessThan(10); // only those due before the probe's answer
      expect(run.completed / run.frames).toBeGreaterThanOrEqual(0.95);
    }
  });
});
