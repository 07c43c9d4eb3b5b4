import { describe, expect, test } from "bun:test";
import { ReceiverFeedback } from "../../src/feedback/receiver-feedback.ts";
import { SenderFeedback } from "../../src/feedback/sender-feedback.ts";
import { endpoint } from "../../src/feedback/feedback-gate.ts";
import { V2WireFormat } from "../../src/packetizer/wire-format.ts";
import { StreamAssembler } from "../../src/reassembler/stream-assembler.ts";
import { seededRandom } from "../../src/util/random.ts";

// The v2 stages wired together in memory, pion-style: the sender's wire format
// and feedback, a simulated network each way (delay, seeded loss), the
// receiver's assembler with its return path. A fake clock in 1 ms steps; no
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

function simulate(options: { forward: Link; reverse: Link; feedback: boolean; frames?: number; seed?: number; frameBytes?: number; latencyMs?: number }) {
  const frames = options.frames ?? 300;
  const random = seededRandom(options.seed ?? 1);
  const lostForward = lossModel(options.forward, random);
  const lostReverse = lossModel(options.reverse, random);
  const wire = new V2WireFormat({ datagramSize: 1200, fecPercent: 25 });
  const sender = new SenderFeedback({
    destinations: new Set([endpoint("10.0.0.2", 9999)]),
    streamId: wire.streamId,
    historyBytes: 32 << 20,
    retransmitShare: 0.3,
    blindFecPercent: 25,
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
  const endMs = frames * 33 + 1000;
  for (let now = 0; now < endMs; now++) {
    if (now % 33 === 0 && now / 33 < frames) {
      const index = now / 33;
      wire.fecPercent = sender.parityPercent(now);
      parity.push(wire.fecPercent);
      const jpeg = Uint8Array.from({ length: options.frameBytes ?? 40_000 }, (_, i) => (i * 7 + index) & 0xff);
      const datagrams = wire.packetize(jpeg, index, now * 1000);
      firstSent += datagrams.length;
      send(datagrams, now, 20);
      sender.frameSent(index, datagrams, now, now + 20);
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
      const resend = sender.received(toSender.shift()!.datagram, "10.0.0.2", 9999, now);
      resent += resend.length;
      send(resend, now, 1);
    }
  }
  return { completed: completed.size, frames, firstSent, resent, parity, sender: sender.stats(endMs), receiver: receiverFeedback };
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
});
