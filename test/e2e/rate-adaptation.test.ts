import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";
import { expectEveryFrameAccounted, expectIncreasing } from "../helpers/accounting.ts";
import { matchFramesAtTheirSize, useSourceClip } from "../helpers/frames.ts";
import { streamThroughRelay } from "../helpers/through-relay.ts";
import { runUdpvid } from "../helpers/udpvid.ts";

// A sender that follows the link: through the relay's bottleneck (real
// processes, real sockets), a stream about three times the link's rate is
// brought under it by quality and picture size, and every frame shown is its
// source frame at whatever size it arrived.
const WIDTH = 640;
const HEIGHT = 360;
const fixture = useSourceClip(5, WIDTH, HEIGHT);
/** About 4 Mbit/s at quality 80 on this clip: a third of it fits. */
const LINK = ["--rate", "1.2", "--queue-ms", "100", "--delay", "10", "--seed", "4"];

const throughBottleneck = (sendArgs: string[], record: string) => streamThroughRelay(fixture.clip, LINK, sendArgs, [], record);

describe("rate adaptation through a bottleneck", () => {
  test("the stream fits a link a third of its rate, by quality and size; every frame shown is its source frame at its size", async () => {
    const record = join(fixture.dir, "adapted.mjpeg");
    const adapted = await throughBottleneck([], record);
    const fixed = await throughBottleneck(["--adapt", "off"], join(fixture.dir, "fixed.mjpeg"));

    // Every frame of the source accounted for: sent, skipped to keep up, or left out to fit; none corrupt.
    expectEveryFrameAccounted(adapted.send, adapted.receive, fixture.frames.length);
    expect(adapted.receive.framesCorrupt).toBe(0);
    // It adapted: cut back, and ended under the link at a lower quality or a smaller picture.
    const rate = adapted.send.rate;
    expect(rate.adapt).toBe(true);
    expect(rate.decreases).toBeGreaterThan(0);
    expect(rate.targetMbps!).toBeLessThan(1.2 * 1.15);
    expect(rate.quality < 80 || rate.scale < 1).toBe(true);
    expect(rate.trace.length).toBeGreaterThan(5);
    // Frames shown: each is a source frame, at its own size, in order.
    const jpegs = splitMjpeg(new Uint8Array(readFileSync(record)));
    expect(jpegs).toHaveLength(adapted.receive.framesShown);
    const matches = await matchFramesAtTheirSize(jpegs, fixture.frames, WIDTH, HEIGHT);
    // JPEG at quality 30 on a quarter-size picture comes to about 24 dB here; a broken one (grey blocks where chunks were missing) far below.
    for (const m of matches) expect(m.psnr).toBeGreaterThan(20);
    expectIncreasing(matches.map((m) => m.sourceIndex));
    expect(matches.some((m) => m.width < WIDTH)).toBe(true);
    // Most of the stream got through; without adaptation far less did, and the queue dropped far more.
    expect(adapted.receive.framesShown).toBeGreaterThan(0.7 * fixture.frames.length);
    expect(fixed.send.rate.adapt).toBe(false);
    expect(fixed.receive.framesShown).toBeLessThan(adapted.receive.framesShown / 2);
    expect(adapted.relay.datagramsQueueDropped).toBeLessThan(fixed.relay.datagramsQueueDropped / 4);
  }, 120_000);

  test("--adapt on where nothing reports, and --min-quality out of range, are refused with a reason", async () => {
    for (const [args, message] of [
      [["--adapt", "on", "--protocol", "legacy"], "--adapt on needs the receivers' reports, which only v2 has"],
      [["--adapt", "on", "--no-feedback"], "--adapt on needs the receivers' reports: drop --no-feedback"],
      [["--adapt", "sometimes"], "--adapt must be one of"],
      [["--min-quality", "0"], "--min-quality"],
      [["--adapt", "on", "--to", "239.1.2.3:9999"], "multicast receivers send none"],
    ] as const) {
      const result = await runUdpvid(["send", fixture.clip, ...args]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});
