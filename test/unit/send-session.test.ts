import { describe, expect, test } from "bun:test";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { deserializeLegacy } from "../../src/protocol/legacy.ts";
import { deserializeRtp } from "../../src/protocol/rtp.ts";
import { deserializeV2 } from "../../src/protocol/v2.ts";
import { LegacyWireFormat, RtpJpegWireFormat, V2WireFormat, wireFormatFor, type WireFormat } from "../../src/packetizer/wire-format.ts";
import { LATE_SLACK_MS, SendSession, type FrameDecision } from "../../src/session/send-session.ts";

const jpeg = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 13) & 0xff);

/** A wire format that records what it was asked for: one 10-byte datagram per frame. */
function recordingWire(): WireFormat & { calls: { index: number; captureTimeUs: number; parityPercent: number }[] } {
  const calls: { index: number; captureTimeUs: number; parityPercent: number }[] = [];
  return {
    protocol: "v2",
    carriesParity: true,
    returnPath: undefined,
    calls,
    packetize: (_jpeg, index, captureTimeUs, parityPercent) => (calls.push({ index, captureTimeUs, parityPercent }), [new Uint8Array(10)]),
    endOfStream: (frames) => [Uint8Array.of(frames)],
    refusePicture: () => undefined,
    describe: () => undefined,
    audioPacketizer: () => undefined,
    audioPortOffset: 0,
  };
}

describe("SendSession: pacing decisions, given the time", () => {
  test("frame i is due at start + i/fps, from when the first frame was ready; capture times follow the schedule", () => {
    const wire = recordingWire();
    const session = new SendSession({ fps: 25, lowLatency: false, wire });
    expect(session.dueMs(0, 1000, 5_000_000)).toBe(1000); // the clock starts here
    for (let i = 0; i < 5; i++) {
      const due = session.dueMs(i, 9999, 0)!;
      expect(due).toBe(1000 + i * 40);
      expect(session.frame(i, jpeg(100), due + 1, 0, 25).kind).toBe("send");
    }
    expect(wire.calls.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    expect(wire.calls.map((c) => c.captureTimeUs)).toEqual([0, 1, 2, 3, 4].map((i) => 5_000_000 + i * 40_000));
    expect(session.endDueMs()).toBe(1000 + 5 * 40); // the last frame keeps its interval on screen
  });

  test("each frame's datagrams are spread over most of its interval, or sent at once with lowLatency", () => {
    const spread = new SendSession({ fps: 10, lowLatency: false, wire: recordingWire() });
    spread.dueMs(0, 0, 0);
    expect((spread.frame(0, jpeg(10), 0, 0, 0) as Extract<FrameDecision, { kind: "send" }>).windowMs).toBeCloseTo(70); // 0.7 × 100 ms
    // Late by 80 ms: only the 20 ms left before the next frame is due.
    expect((spread.frame(1, jpeg(10), 180, 0, 0) as Extract<FrameDecision, { kind: "send" }>).windowMs).toBeCloseTo(20);
    const burst = new SendSession({ fps: 10, lowLatency: true, wire: recordingWire() });
    burst.dueMs(0, 0, 0);
    expect((burst.frame(0, jpeg(10), 0, 0, 0) as Extract<FrameDecision, { kind: "send" }>).windowMs).toBe(0);
  });

  test("a frame more than an interval (or 50 ms) late is skipped and counted; later frames keep their schedule", () => {
    const wire = recordingWire();
    const session = new SendSession({ fps: 30, lowLatency: false, wire });
    session.dueMs(0, 0, 0);
    expect(session.frame(0, jpeg(10), 0, 0, 0).kind).toBe("send");
    const due1 = session.dueMs(1, 0, 0)!;
    expect(session.frame(1, jpeg(10), due1 + LATE_SLACK_MS + 1, 0, 0).kind).toBe("skip");
    const due2 = session.dueMs(2, 0, 0)!;
    expect(due2).toBeCloseTo(2000 / 30);
    expect(session.frame(2, jpeg(10), due2, 0, 0).kind).toBe("send");
    expect(session.counts()).toMatchObject({ frames: 2, framesSkipped: 1 });
    expect(wire.calls.map((c) => c.index)).toEqual([0, 2]); // the skipped index is not reused
  });

  test("unpaced: nothing is due, nothing is skipped, capture time is now", () => {
    const wire = recordingWire();
    const session = new SendSession({ fps: undefined, lowLatency: false, wire });
    expect(session.dueMs(0, 0, 0)).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(session.frame(i, jpeg(10), 10_000 * i, 777 + i, 0).kind).toBe("send");
    expect(wire.calls.map((c) => c.captureTimeUs)).toEqual([777, 778, 779]);
    expect(session.endDueMs()).toBeUndefined();
  });

  test("counts: payload, overhead of headers and parity, the last parity used, the end-of-stream signal after all frames", () => {
    const wire = recordingWire();
    const session = new SendSession({ fps: undefined, lowLatency: false, wire });
    session.frame(0, jpeg(40), 0, 0, 30);
    session.frame(1, jpeg(60), 0, 0, 25);
    expect(wire.calls.map((c) => c.parityPercent)).toEqual([30, 25]);
    expect(session.counts()).toEqual({ protocol: "v2", frames: 2, framesSkipped: 0, framesSkippedForRate: 0, payloadBytes: 100, overheadPercent: -80, fecPercent: 25 });
    expect([...session.endOfStream(0)[0]!]).toEqual([2]);
  });

  test("a protocol without parity is asked for none, whatever the share", () => {
    const wire = { ...recordingWire(), carriesParity: false };
    const session = new SendSession({ fps: undefined, lowLatency: false, wire });
    session.frame(0, jpeg(40), 0, 0, 30);
    expect(wire.calls[0]!.parityPercent).toBe(0);
    expect(session.counts().fecPercent).toBe(0);
  });

  test("a frame left out for rate keeps its slot: the next frame keeps its own number, due time and capture time", () => {
    const wire = recordingWire();
    const session = new SendSession({ fps: 10, lowLatency: false, wire });
    expect(session.dueMs(0, 1000, 5_000_000)).toBe(1000);
    session.frame(0, jpeg(40), 1000, 5_000_000, 0);
    session.skipForRate(1);
    expect(session.dueMs(2, 1100, 5_100_000)).toBe(1200);
    const decision = session.frame(2, jpeg(40), 1200, 5_200_000, 0);
    expect(decision.kind === "send" && decision.index).toBe(2);
    expect(wire.calls).toEqual([
      { index: 0, captureTimeUs: 5_000_000, parityPercent: 0 },
      { index: 2, captureTimeUs: 5_200_000, parityPercent: 0 },
    ]);
    expect(session.counts()).toMatchObject({ frames: 2, framesSkipped: 0, framesSkippedForRate: 1 });
    expect(session.position).toBe(3);
  });
});

describe("WireFormat: one per protocol", () => {
  const options = { datagramSize: 1200, fps: 30 };

  test("v2: numbered chunks of one stream id, parity, and an end marker", () => {
    const wire = wireFormatFor({ protocol: "v2", ...options });
    expect(wire).toBeInstanceOf(V2WireFormat);
    const packets = wire.packetize(jpeg(5000), 7, 123, 25).map(deserializeV2);
    expect(new Set(packets.map((p) => p.streamId))).toEqual(new Set([(wire as V2WireFormat).streamId]));
    expect(wire.returnPath?.streamId).toBe((wire as V2WireFormat).streamId);
    expect(wire.carriesParity).toBe(true);
    expect(packets.every((p) => p.frameNumber === 7 && p.captureTimeUs === 123)).toBe(true);
    expect(packets.some((p) => p.parity)).toBe(true);
    expect(wire.packetize(jpeg(5000), 8, 123, 0).map(deserializeV2).some((p) => p.parity)).toBe(false);
    expect(wire.describe({ address: "10.0.0.2", family: 4, port: 9999, fps: 30 })).toBeUndefined();
    const [end] = wire.endOfStream(8, 0).map(deserializeV2);
    expect(end!.endOfStream).toBe(true);
  });

  test("RTP/JPEG: 90 kHz timestamps per frame index, no end signal, pictures in 8-pixel units only", async () => {
    const wire = wireFormatFor({ protocol: "rtp", ...options }) as RtpJpegWireFormat;
    expect(wire).toBeInstanceOf(RtpJpegWireFormat);
    const picture = await encodeJpeg(new Uint8Array(16 * 16 * 3).fill(200), 16, 16);
    const t0 = deserializeRtp(wire.packetize(picture, 0)[0]!).timestamp;
    const t3 = deserializeRtp(wire.packetize(picture, 3)[0]!).timestamp;
    expect((t3 - t0) >>> 0).toBe(9000); // 3 frames at 30 fps
    expect(wire.endOfStream()).toEqual([]);
    expect(wire.returnPath).toBeUndefined();
    expect(wire.carriesParity).toBe(false);
    // The SDP names the stream's own SSRC as its session, and where it goes.
    const sdp = wire.describe({ address: "10.0.0.2", family: 4, port: 5004, fps: 30 });
    expect(sdp).toContain(`o=- ${wire.stream.ssrc >>> 0} 1 IN IP4`);
    expect(sdp).toContain("c=IN IP4 10.0.0.2");
    expect(sdp).toContain("m=video 5004 RTP/AVP 26");
    expect(wire.refusePicture(1280, 720)).toBeUndefined();
    expect(wire.refusePicture(1282, 720)).toContain("--width 1280 --height 720");
  });

  test("legacy: the lab's marker chunks, the last one marked", () => {
    const wire = wireFormatFor({ protocol: "legacy", ...options });
    expect(wire).toBeInstanceOf(LegacyWireFormat);
    const chunks = wire.packetize(jpeg(70_000), 0, 0, 0).map(deserializeLegacy);
    expect(chunks.at(-1)!.last).toBe(true);
    expect(chunks.slice(0, -1).every((c) => !c.last)).toBe(true);
    expect(wire.endOfStream(1, 0)).toEqual([]);
  });
});
