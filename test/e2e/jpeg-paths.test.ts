import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted, expectRecordingMatchesSource } from "../helpers/accounting.ts";
import { useSourceClip } from "../helpers/frames.ts";
import { CLI, finish, lastJson, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";
import { expectWindowShowsStream } from "../helpers/window-proof.ts";

// Both JPEG paths, end to end: TurboJPEG (planes in, planes out, an IYUV texture in the
// window), udpvid's default wherever libturbojpeg loads, and sharp (RGB in, RGBA out),
// the fallback where it does not (UDPVID_JPEG=sharp asks for it here). Each must deliver
// pictures that match their source, and say which path it took.
const WIDTH = 640;
const HEIGHT = 360;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

describe.each([
  ["turbojpeg", {}, "i420"],
  ["sharp", { UDPVID_JPEG: "sharp" }, "rgba"],
] as const)("the %s path", (name, env, output) => {
  test("send → receive --headless --record: every frame shown matches its source (PSNR > 30), and both summaries name the path", async () => {
    const record = join(fixture.dir, `${name}.mjpeg`);
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"], env);
    const port = await receiver.listening;
    const sent = await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--json"], env);
    expect(sent.exitCode).toBe(0);
    const received = await finish(receiver);
    expect(received.exitCode).toBe(0);
    const sentSummary = lastJson<SendSummary>(sent.stdout);
    const summary = lastJson<ReceiveSummary>(received.stdout);
    expect(sentSummary.encoder.name).toBe(name);
    expect(summary.decoder).toMatchObject({ name, output });
    expect(summary.framesShown).toBeGreaterThan(fixture.frames.length / 2);
    expectEveryFrameAccounted(sentSummary, summary, fixture.frames.length);
    expectRecordingMatchesSource(record, fixture, WIDTH, HEIGHT, summary.framesShown);
  }, 30_000);

  test("the window shows the stream at its size, a frame matching its source (PSNR > 28)", async () => {
    const udpvid = (args: string[]) => [process.execPath, CLI, ...args];
    const summary = await expectWindowShowsStream({ receiver: udpvid, sender: udpvid, env, clip: fixture, width: WIDTH, height: HEIGHT, timeoutMs: 20_000 });
    expect(summary.decoder).toMatchObject({ name, output });
  }, 40_000);
});
