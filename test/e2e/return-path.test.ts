import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { feedbackKey, FeedbackType, serializeFeedback } from "../../src/protocol/feedback.ts";
import { serializeNack } from "../../src/protocol/feedback-nack.ts";
import { deserializeV2, V2_HEADER_SIZE, V2_MAGIC, V2_SALT_SIZE } from "../../src/protocol/v2.ts";
import { sendPosition } from "../../src/packetizer/send-order.ts";
import { expectEveryFrameAccounted, expectRecordingMatchesSource } from "../helpers/accounting.ts";
import { useSourceClip } from "../helpers/frames.ts";
import { finish, lastJson, startUdpvid } from "../helpers/udpvid.ts";
import { streamThroughRelay } from "../helpers/through-relay.ts";

// v2's return path over real sockets: a receiver asks, through a lossy relay,
// for what parity cannot rebuild, and the sender resends it; and a sender
// that is fed forged or hostile feedback keeps to its rules.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(3, WIDTH, HEIGHT);

/** send → relay (impairments) → receive, every frame accounted for and every frame shown its source frame. */
async function throughRelay(relayArgs: string[], sendArgs: string[], receiveArgs: string[], record: string) {
  const run = await streamThroughRelay(fixture.clip, relayArgs, sendArgs, receiveArgs, record);
  expectEveryFrameAccounted(run.send, run.receive, fixture.frames.length);
  expect(run.receive.framesCorrupt).toBe(0);
  expectRecordingMatchesSource(record, fixture, WIDTH, HEIGHT, run.receive.framesShown);
  return run;
}

describe("retransmission through a lossy relay", () => {
  // Bursts of loss too long for the parity of one group, at a 20 ms round trip.
  const bursty = ["--burst-loss", "5:8", "--delay", "10", "--seed", "3"];

  test("bursts that parity alone cannot repair: the receiver asks, the sender resends, frames are saved", async () => {
    const withFeedback = await throughRelay(bursty, [], [], join(fixture.dir, "feedback.mjpeg"));
    const fecOnly = await throughRelay(bursty, ["--no-feedback", "--fec", "25"], ["--no-feedback"], join(fixture.dir, "fec-only.mjpeg"));
    expect(withFeedback.relay.datagramsLost).toBeGreaterThan(0);
    const path = withFeedback.receive.returnPath!;
    expect(path.nacksSent).toBeGreaterThan(0);
    expect(path.chunksRetransmitted).toBeGreaterThan(0);
    expect(path.framesSavedByRetransmission).toBeGreaterThan(0);
    expect(path.rttMs).toBeGreaterThan(15); // 10 ms each way through the relay
    expect(withFeedback.send.returnPath!.chunksResent).toBeGreaterThan(0);
    expect(withFeedback.send.returnPath!.reportsReceived).toBeGreaterThan(10);
    // The same loss pattern (same seed) without a return path loses frames that retransmission saved.
    expect(fecOnly.receive.returnPath).toBeNull();
    expect(fecOnly.send.returnPath).toBeNull();
    expect(withFeedback.receive.framesDroppedIncomplete).toBeLessThan(fecOnly.receive.framesDroppedIncomplete);
  }, 120_000);

  test("a lossy way back (10% of feedback lost) still gets the frames through", async () => {
    const run = await throughRelay([...bursty, "--reverse-loss", "10"], [], [], join(fixture.dir, "reverse.mjpeg"));
    expect(run.relay.reverse.datagramsIn).toBeGreaterThan(0);
    expect(run.relay.reverse.datagramsLost).toBeGreaterThan(0);
    expect(run.receive.returnPath!.framesSavedByRetransmission).toBeGreaterThan(0);
    expect(run.receive.framesDroppedIncomplete).toBeLessThanOrEqual(3);
  }, 60_000);

  test("on a clean path the parity falls away and nothing is asked", async () => {
    const run = await throughRelay(["--delay", "5"], [], [], join(fixture.dir, "clean.mjpeg"));
    expect(run.receive.returnPath!.nacksSent).toBe(0);
    // From the blind 25% to none, or, with nothing lost, to the controller's insurance floor (fec-controller.ts):
    // 1% when the round trip leaves room for only one resend round, 2% for none. On this 2-core machine, loaded by
    // the suite, the sender's smoothed round trip has spiked past 45 and 90 ms in full runs.
    expect(run.send.returnPath!.parityPercent).toBeLessThanOrEqual(2);
    // Nothing lost on the way: every frame the sender sent was shown or skipped for a newer one (throughRelay
    // already accounts for every source frame; a paced sender may skip one it is too late for on a busy machine).
    expect(run.receive.framesDroppedIncomplete).toBe(0);
    expect(run.receive.framesShown + run.receive.framesSkipped).toBe(run.send.frames);
  }, 60_000);
});

describe("hostile feedback at the sender", () => {
  /** A test socket that plays the receiver: it learns the sender's port from the stream and can answer from itself or from a stranger. */
  async function fakeReceiver() {
    const seen: Uint8Array[] = [];
    let senderPort = 0;
    const socket = await Bun.udpSocket({
      hostname: "127.0.0.1",
      socket: {
        data: (_s, data, port) => {
          senderPort = port;
          // The stream's datagrams (the sender's state comes beside them, on the same socket).
          if (data[0] === V2_MAGIC && seen.length < 20_000) seen.push(Uint8Array.from(data));
        },
      },
    });
    return { socket, seen, senderPort: () => senderPort, [Symbol.dispose]: () => socket.close() };
  }

  /** NACKs for every chunk of the frames seen so far, as one receiver would never ask. */
  function nackEverything(seen: Uint8Array[], streamId: number): Uint8Array[] {
    const byFrame = new Map<number, number[]>();
    for (const d of seen) {
      const p = deserializeV2(d);
      if (p.endOfStream) continue;
      const positions = byFrame.get(p.frameNumber) ?? [];
      positions.push(sendPosition(p.dataChunks, p.groups * p.parityPerGroup, p.parity, p.chunkIndex));
      byFrame.set(p.frameNumber, positions);
    }
    return [...byFrame].map(([frameNumber, positions]) => serializeNack([{ frameNumber, positions }])).map((body) => serializeFeedback({ type: FeedbackType.nack, streamId, receiverId: 9, body }));
  }

  test("a NACK flood from the destination is capped at a share of the rate; the same from a stranger is refused and counted", async () => {
    using receiver = await fakeReceiver();
    await using sender = startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${receiver.socket.port}`, "--json"]);
    const stranger = await Bun.udpSocket({ hostname: "127.0.0.1" });
    // Flood while the stream runs: every chunk seen so far, again and again, from both.
    const deadline = performance.now() + 2500;
    while (performance.now() < deadline) {
      await Bun.sleep(20);
      if (receiver.seen.length === 0) continue;
      const streamId = deserializeV2(receiver.seen[0]!).streamId;
      for (const nack of nackEverything(receiver.seen.slice(-400), streamId)) {
        receiver.socket.send(nack, receiver.senderPort(), "127.0.0.1");
        stranger.send(nack, receiver.senderPort(), "127.0.0.1");
      }
    }
    const summary = lastJson<SendSummary>((await finish(sender, 30_000)).stdout);
    stranger.close();
    const path = summary.returnPath!;
    expect(path.feedbackRefused.stranger).toBeGreaterThan(10);
    expect(path.chunksRequested).toBeGreaterThan(1000);
    expect(path.chunksNotResent).toBeGreaterThan(path.chunksResent);
    // Resent bytes stay within the budget: at most 30% of the first transmissions (payload plus headers and parity).
    const firstTransmission = summary.payloadBytes * (1 + summary.overheadPercent / 100);
    const resentBytes = summary.bytes - firstTransmission;
    expect(resentBytes).toBeGreaterThan(0);
    expect(resentBytes).toBeLessThan(0.3 * firstTransmission * 1.02);
    expectEveryFrameAccounted(summary, { framesShown: summary.frames, framesSkipped: 0, framesDroppedIncomplete: 0, framesCorrupt: 0 }, fixture.frames.length);
  }, 60_000);

  test("with --key, unsealed or wrongly sealed feedback never acts", async () => {
    using receiver = await fakeReceiver();
    const keyFile = join(fixture.dir, "stream.key");
    await Bun.write(keyFile, "00".repeat(32));
    await using sender = startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${receiver.socket.port}`, "--key", keyFile, "--json"]);
    const deadline = performance.now() + 2000;
    while (performance.now() < deadline) {
      await Bun.sleep(50);
      if (receiver.seen.length === 0) continue;
      const first = receiver.seen[0]!;
      const streamId = deserializeV2(first).streamId;
      const salt = first.subarray(V2_HEADER_SIZE, V2_HEADER_SIZE + V2_SALT_SIZE);
      const body = serializeNack([{ frameNumber: 0, positions: [0, 1, 2] }]);
      receiver.socket.send(serializeFeedback({ type: FeedbackType.nack, streamId, receiverId: 1, body }), receiver.senderPort(), "127.0.0.1");
      const wrongKey = feedbackKey(new Uint8Array(32).fill(7), salt);
      receiver.socket.send(serializeFeedback({ type: FeedbackType.nack, streamId, receiverId: 1, body }, wrongKey), receiver.senderPort(), "127.0.0.1");
    }
    const path = lastJson<SendSummary>((await finish(sender, 30_000)).stdout).returnPath!;
    expect(path.feedbackRefused["not-sealed"]).toBeGreaterThan(5);
    expect(path.feedbackRefused["bad-auth"]).toBeGreaterThan(5);
    expect(path.chunksResent).toBe(0);
    expect(path.nacksReceived).toBe(0);
  }, 60_000);
});
