import { expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted } from "../helpers/accounting.ts";
import { decodeFrames, matchFrames, tempDir } from "../helpers/frames.ts";
import { CLI, finish, lastJson, startUdpvid } from "../helpers/udpvid.ts";
import { waitFor } from "../helpers/wait.ts";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";
import { existsSync, readFileSync } from "node:fs";

// Sources other than a file: a generated pattern, and any ffmpeg input with its options.

test("--test-pattern streams ffmpeg's testsrc2 from its first frame, intact and in order", async () => {
  const dir = tempDir();
  const record = join(dir, "pattern.mjpeg");
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  await using sender = startUdpvid(["send", "--test-pattern", "--width", "320", "--height", "180", "--to", `127.0.0.1:${port}`, "--json"]);
  // Until the receiver has recorded 25 frames (each written whole as it is shown), however long a loaded machine takes to start.
  await waitFor(() => (existsSync(record) && splitMjpeg(readFileSync(record)).length >= 25 ? true : undefined), 20_000, "25 frames recorded");
  sender.process.kill("SIGINT");
  const sent = await finish(sender);
  expect(sent.exitCode).toBe(0);
  const frames = lastJson<{ frames: number }>(sent.stdout).frames;
  expect(frames).toBeGreaterThan(20);
  const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
  expect(summary.framesCorrupt).toBe(0);
  // The same pattern, scaled as udpvid has ffmpeg scale it, stored losslessly.
  const reference = join(dir, "reference.mkv");
  const made = Bun.spawnSync(
    ["ffmpeg", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-frames:v", String(frames + 5), "-vf", "scale=320:180:flags=area", "-c:v", "ffv1", "-y", reference],
    { stdin: "ignore" },
  );
  expect(made.exitCode).toBe(0);
  const matches = matchFrames(decodeFrames(record, 320, 180, "mjpeg"), decodeFrames(reference, 320, 180));
  expect(matches.length).toBe(summary.framesShown);
  expect(matches[0]!.sourceIndex).toBe(0);
  for (const [i, m] of matches.entries()) {
    expect(m.psnr).toBeGreaterThan(30);
    if (i > 0) expect(m.sourceIndex).toBeGreaterThan(matches[i - 1]!.sourceIndex);
  }
}, 30_000);

test("--input-format and --input-option reach ffmpeg: a 1 s lavfi source sends 25 frames and ends", async () => {
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  await using sender = startUdpvid(["send", "testsrc=size=320x240:rate=25", "--input-format", "lavfi", "--input-option", "t=1", "--to", `127.0.0.1:${port}`, "--json"]);
  const sent = await finish(sender);
  expect(sent.exitCode).toBe(0);
  const summary = lastJson<SendSummary>(sent.stdout);
  expect(summary.width).toBe(320);
  expectEveryFrameAccounted(summary, lastJson<ReceiveSummary>((await finish(receiver)).stdout), 25);
});

test("with no FILE and no ./video.mp4, send says how to pick a source (exit 2)", () => {
  const result = Bun.spawnSync([process.execPath, CLI, "send"], { cwd: tempDir(), stdin: "ignore" });
  expect(result.exitCode).toBe(2);
  expect(result.stderr.toString()).toContain("no FILE given and no ./video.mp4 here");
  expect(result.stderr.toString().trim().split("\n")).toHaveLength(1);
});
