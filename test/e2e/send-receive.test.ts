import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted, expectRecordingMatchesSource } from "../helpers/accounting.ts";
import { useSourceClip } from "../helpers/frames.ts";
import { SENDER_REASONS } from "../../src/protocol/feedback-sender-state.ts";
import { finish, lastJson, loadedLibraries, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";

// Part of video.mp4 (2 s at 320x180) streamed over real loopback sockets
// into a headless receiver that records what it shows.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

describe.each(["v2", "legacy"] as const)("send → receive over loopback, %s protocol", (protocol) => {
  test("every recorded frame decodes and matches the source frame it came from", async () => {
    const record = join(fixture.dir, `${protocol}.mjpeg`);
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    // --headless never loads SDL: neither the addon nor the library is mapped into the process.
    expect(loadedLibraries(receiver.process.pid)).not.toMatch(/sdl\.node|libSDL2/);
    const sent = await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--protocol", protocol, "--json"]);
    expect(sent.exitCode).toBe(0);
    const sendSummary = lastJson<SendSummary>(sent.stdout);
    expect(sendSummary.sendErrors).toBe(0);

    const received = await finish(receiver);
    expect(received.exitCode).toBe(0);
    const summary = lastJson<ReceiveSummary>(received.stdout);
    expectEveryFrameAccounted(sendSummary, summary, fixture.frames.length);
    // Decoding is part of the latency; only v2 carries the capture time latency is measured from.
    expect(summary.decodeMs!.p50).toBeGreaterThan(0);
    expect(summary.decodeMs!.p99).toBeGreaterThanOrEqual(summary.decodeMs!.p50);
    if (protocol === "v2") expect(summary.latencyMs!.p50).toBeGreaterThan(summary.decodeMs!.p50);
    else expect(summary.latencyMs).toBeNull();
    expect(summary.datagramsRejected).toBe(0);
    expect(summary.recorded).toBe(summary.framesShown);
    // The receiver heard what the sender aims at and why (v2 has a return path; the lab's protocol none).
    if (protocol === "v2") {
      expect(sendSummary.returnPath!.senderStatesSent).toBeGreaterThan(0);
      // What it said last (every half second) may differ from the sender's end state, but never from what it can say.
      expect(SENDER_REASONS).toContain(summary.sender!.reason as (typeof SENDER_REASONS)[number]);
      expect(summary.sender!.width).toBeLessThanOrEqual(WIDTH);
      expect(summary.sender!.height).toBeLessThanOrEqual(HEIGHT);
      expect(summary.sender!.quality).toBeGreaterThan(0);
      expect(summary.sender!.quality).toBeLessThanOrEqual(80);
    } else expect(summary.sender).toBeNull();

    expectRecordingMatchesSource(record, fixture, WIDTH, HEIGHT, summary.framesShown);
  });
});

test("a v2 stream's end makes a receiver with --idle-timeout exit at once", async () => {
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "30", "--json"]);
  const port = await receiver.listening;
  await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--fps", "60"]);
  // Timed from the sender's end: well under the 30 s of silence that would also end it.
  const ended = performance.now();
  const result = await finish(receiver, 20_000);
  expect(performance.now() - ended).toBeLessThan(15_000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<{ streamEnded: boolean; quitBy: string; framesShown: number }>(result.stdout);
  expect(summary.streamEnded).toBe(true);
  expect(summary.quitBy).toBe("end-of-stream");
  expect(summary.framesShown).toBeGreaterThan(0);
});
