import { describe, expect, test } from "bun:test";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { endpoint } from "../../src/feedback/feedback-gate.ts";
import { RtpJpegWireFormat, V2WireFormat, type WireFormat } from "../../src/packetizer/wire-format.ts";
import { deserializeFeedback, FeedbackType } from "../../src/protocol/feedback.ts";
import { deserializeSenderState } from "../../src/protocol/feedback-sender-state.ts";
import { deserializeV2 } from "../../src/protocol/v2.ts";
import { pictureBytesPerMs, SendPipeline, type SendPipelineOptions } from "../../src/session/send-pipeline.ts";
import { ReceiverFeedback } from "../../src/feedback/receiver-feedback.ts";
import { StreamAssembler } from "../../src/reassembler/stream-assembler.ts";

// The pipeline's own decisions, given the time; wired to a receiver over a lossy network in return-path-sim.test.ts.

const RECEIVER = endpoint("10.0.0.2", 9999);
const jpeg = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 13) & 0xff);
/** A real JPEG: RTP/JPEG reads its header. */
const picture = await encodeJpeg(new Uint8Array(16 * 16 * 3).fill(200), 16, 16);

function pipeline(fields: Partial<SendPipelineOptions> = {}): SendPipeline {
  return new SendPipeline({
    wire: new V2WireFormat({ datagramSize: 1200 }),
    fps: 30,
    sourceFps: 30,
    leaveOutWhileProbing: true,
    lowLatency: false,
    ceiling: { quality: 80, width: 1280, height: 720 },
    adapt: "auto",
    fecPercent: 20,
    fecFixed: false,
    receivers: new Set([RECEIVER]),
    historyBytes: 1 << 20,
    retransmitShare: 0.3,
    ...fields,
  });
}

/** Plans, "encodes" and sends frame after frame at 30 fps from `fromMs`; returns what went out. */
function run(p: SendPipeline, frames: number, fromMs = 0) {
  const out: ({ index: number; windowMs: number; datagrams: Uint8Array[] } | undefined)[] = [];
  for (let i = 0; i < frames; i++) {
    const now = fromMs + (i * 1000) / 30;
    const plan = p.plan(now);
    const encoded = plan.encoding === "skip" ? undefined : picture;
    if (encoded) p.encoded(plan, encoded.length);
    const frame = p.frame(plan, encoded, now, now * 1000);
    if (frame) p.sent(frame, now + frame.windowMs, frame.windowMs);
    out.push(frame);
  }
  return out;
}

describe("SendPipeline", () => {
  test("one frame counter: plans are numbered in source order, each number once", () => {
    const p = pipeline({ adapt: "off" });
    const plans = [0, 1, 2, 3].map((i) => p.plan(i * 33));
    expect(plans.map((plan) => plan.index)).toEqual([0, 1, 2, 3]);
    expect(plans.every((plan) => plan.encoding !== "skip")).toBe(true);
  });

  test("not adapting: every frame sent, spread over its interval, numbered on the wire as planned, with the blind parity", () => {
    const p = pipeline({ adapt: "off" });
    const sent = run(p, 5);
    expect(sent.every((f) => f !== undefined && f.windowMs > 20)).toBe(true);
    expect(sent.map((f) => deserializeV2(f!.datagrams[0]!).frameNumber)).toEqual([0, 1, 2, 3, 4]);
    expect(p.status(200).counts).toMatchObject({ frames: 5, framesSkipped: 0, framesSkippedForRate: 0, fecPercent: 20 });
    expect(p.status(200).position).toBe(5);
  });

  test("adapting: the probe goes at once; frames due before a receiver answers are left out, counted once as left out for rate", () => {
    const p = pipeline();
    const sent = run(p, 4);
    expect(sent[0]!.windowMs).toBe(0);
    expect(sent.slice(1)).toEqual([undefined, undefined, undefined]);
    const { counts, rate, position } = p.status(150);
    expect(counts).toMatchObject({ frames: 1, framesSkipped: 0, framesSkippedForRate: 3 });
    expect(position).toBe(4);
    expect(rate.reason).toBe("starting");
  });

  test("unpaced (--fps max): nothing is left out while the probe is unanswered", () => {
    const p = pipeline({ fps: undefined, leaveOutWhileProbing: false });
    const sent = run(p, 4);
    expect(sent.every((f) => f !== undefined && f.windowMs === 0)).toBe(true);
    expect(p.status(150).counts.framesSkippedForRate).toBe(0);
  });

  test("a frame the plan skips is not sent, and counted once", () => {
    const p = pipeline({ adapt: "off" });
    p.frame(p.plan(0), jpeg(100), 0, 0);
    expect(p.frame(p.plan(33), undefined, 33, 33_000)).toBeUndefined();
    expect(p.status(40).counts).toMatchObject({ frames: 1, framesSkippedForRate: 1 });
  });

  test("receivers are told the stream's state once it has begun, under its stream id", () => {
    const wire = new V2WireFormat({ datagramSize: 1200 });
    const p = pipeline({ wire });
    expect(p.announcement(0)).toBeUndefined(); // nothing sent yet
    run(p, 1);
    const envelope = deserializeFeedback(p.announcement(50)!);
    expect(envelope).toMatchObject({ type: FeedbackType.senderState, streamId: wire.streamId });
    expect(deserializeSenderState(envelope.body)).toMatchObject({ reason: "starting", width: 1280, height: 720 });
  });

  test("no return path (a protocol without one, or nobody heard): no announcements, nothing resent, never adapting", () => {
    const rtp: WireFormat = new RtpJpegWireFormat({ datagramSize: 1200, fps: 30 });
    for (const p of [pipeline({ wire: rtp }), pipeline({ receivers: undefined })]) {
      expect(p.hearsReceivers).toBe(false);
      const sent = run(p, 3);
      expect(sent.every((f) => f !== undefined)).toBe(true); // no probe to wait for
      expect(p.announcement(200)).toBeUndefined();
      expect(p.received(sent[0]!.datagrams[0]!, "10.0.0.2", 9999, 200)).toEqual([]);
      expect(p.status(200).rate).toMatchObject({ adapt: false, reason: "fixed" });
      expect(p.status(200).returnPath).toBeUndefined();
    }
    const rtpPipeline = pipeline({ wire: rtp, adapt: "off" });
    run(rtpPipeline, 1);
    expect(rtpPipeline.status(50).counts.fecPercent).toBe(0); // RTP carries no parity
  });

  test("hostile datagrams on the return path are refused and counted, never answered", () => {
    const p = pipeline({ adapt: "off" });
    run(p, 3);
    for (const junk of [new Uint8Array(0), Uint8Array.of(1, 2, 3), jpeg(1500)]) expect(p.received(junk, "10.0.0.2", 9999, 200)).toEqual([]);
    const refused = Object.values(p.status(200).returnPath!.feedbackRefused).reduce((a, b) => a + b, 0);
    expect(refused).toBe(3);
  });

  test("the end of the stream comes after every frame number used, and when the last frame's interval ends", () => {
    const p = pipeline({ adapt: "off" });
    run(p, 3, 1000);
    expect(p.endDueMs()).toBeCloseTo(1000 + 3 * (1000 / 30));
    const [end] = p.endOfStream(0).map(deserializeV2);
    expect(end!.endOfStream).toBe(true);
    expect(end!.frameNumber).toBe(3);
  });

  test("the end waits for the last frame's repairs: a datagram of it lost on the way is asked for and resent before receivers give up", () => {
    const lastFrameShown = (lingering: boolean) => {
      const p = pipeline({ adapt: "off", fecPercent: 0, fecFixed: true });
      const assembler = new StreamAssembler({ maxMemoryBytes: 64 << 20, feedback: new ReceiverFeedback({}) });
      const shown = new Set<number>();
      const deliver = (datagrams: Uint8Array[], now: number) => {
        for (const d of datagrams) for (const e of assembler.push(d, now, "10.0.0.1", 5000)) if (e.kind === "frame") shown.add(e.frame.frameNumber!);
      };
      for (let i = 0; i < 3; i++) {
        const now = i * 33;
        const plan = p.plan(now);
        const frame = p.frame(plan, jpeg(5000), now, now * 1000)!;
        p.sent(frame, now, 0);
        // The last frame's last datagram is lost on the way.
        deliver(i === 2 ? frame.datagrams.slice(0, -1) : frame.datagrams, now + 5);
      }
      const endAt = lingering ? p.repairsCloseMs()! : p.endDueMs()!;
      for (let now = 70; now < endAt; now += 5) {
        for (const e of assembler.expire(now)) if (e.kind === "frame") shown.add(e.frame.frameNumber!);
        for (const reply of assembler.replies(now)) deliver(p.received(reply.datagram, "10.0.0.2", 9999, now + 5), now + 10);
      }
      deliver(p.endOfStream(0), endAt);
      return shown.has(2);
    };
    expect(lastFrameShown(false)).toBe(false); // ending when the last frame's interval is over: too soon
    expect(lastFrameShown(true)).toBe(true);
    expect(pipeline({ receivers: undefined }).repairsCloseMs()).toBeUndefined(); // nobody heard: nothing to wait for
  });
});

describe("pictureBytesPerMs (--max-rate's share for the picture)", () => {
  test("no cap, no share; without sound the picture has the whole cap", () => {
    expect(pictureBytesPerMs(undefined, true)).toBeUndefined();
    expect(pictureBytesPerMs(8_000_000, false)).toBe(1000);
  });

  test("the sound's rate comes off the cap, so picture and sound together stay under it", () => {
    // 8 Mbit/s less 160 kbit/s of sound: 7.84 Mbit/s, 980 bytes a ms.
    expect(pictureBytesPerMs(8_000_000, true)).toBeCloseTo(980, 6);
  });

  test("a cap too small for both leaves the picture half of it", () => {
    expect(pictureBytesPerMs(200_000, true)).toBeCloseTo(12.5, 6);
  });
});
