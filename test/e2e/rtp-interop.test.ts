import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFrames, matchFrames, psnr, useSourceClip } from "../helpers/frames.ts";
import { finish, lastJson, runUdpvid, startCommand, startUdpvid } from "../helpers/udpvid.ts";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import { expectIncreasing, expectReceiverAccounted, expectRecordingMatchesSource } from "../helpers/accounting.ts";
import { waitUntil } from "../helpers/wait.ts";

// RTP/JPEG (RFC 2435) against real programs from Debian: ffmpeg and GStreamer.
// RTP/JPEG needs sizes in multiples of 8: 2 s of video.mp4 at 320x176.
const WIDTH = 320;
const HEIGHT = 176;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

test("ffmpeg receives udpvid's RTP/JPEG stream through the SDP file udpvid writes, and its frames are the source's", async () => {
  const sdp = join(fixture.dir, "udpvid.sdp");
  const out = join(fixture.dir, "from-udpvid.mjpeg");
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Looping, so ffmpeg (started once the SDP exists) sees 30 whole frames whenever it joins.
  await using sender = startUdpvid(["send", fixture.clip, "--protocol", "rtp", "--width", String(WIDTH), "--height", String(HEIGHT), "--loop", "--to", `127.0.0.1:${port}`, "--sdp", sdp]);
  await waitUntil(() => existsSync(sdp), 20_000);
  expect(readFileSync(sdp, "utf8")).toContain("a=rtpmap:26 JPEG/90000");
  const ffmpeg = startCommand(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-protocol_whitelist", "file,udp,rtp", "-i", sdp, "-frames:v", "30", "-c", "copy", "-f", "mjpeg", "-y", out]);
  const result = await finish(ffmpeg, 20_000);
  sender.kill();
  expect(result.exitCode).toBe(0);
  const received = decodeFrames(out, WIDTH, HEIGHT, "mjpeg");
  expect(received.length).toBeGreaterThanOrEqual(29);
  // Each frame ffmpeg rebuilt is one of the clip's frames (the loop may wrap, so search them all).
  for (const frame of received) expect(Math.max(...fixture.frames.map((source) => psnr(frame, source)))).toBeGreaterThan(30);
}, 40_000);

test("ffmpeg -f rtp sends RTP/JPEG to udpvid receive, which records every frame intact and in order", async () => {
  const record = join(fixture.dir, "from-ffmpeg.mjpeg");
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  const scale = `scale=${WIDTH}:${HEIGHT}`;
  const ffmpeg = Bun.spawnSync(
    ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", fixture.clip, "-vf", scale, "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "4", "-huffman", "default", "-f", "rtp", `rtp://127.0.0.1:${port}`],
    { stdin: "ignore", stdout: "ignore" },
  );
  expect(ffmpeg.exitCode).toBe(0);
  const result = await finish(receiver);
  const summary = lastJson<ReceiveSummary>(result.stdout);
  expect(summary).toMatchObject({ framesCorrupt: 0, datagramsRejected: 0, framesDroppedIncomplete: 0 });
  // ffmpeg sends every frame; each was shown, or skipped for a newer one while decoding.
  expectReceiverAccounted(summary, fixture.frames.length);
  expectRecordingMatchesSource(record, fixture, WIDTH, HEIGHT, summary.framesShown);
}, 40_000);

test("GStreamer's rtpjpegpay sends to udpvid receive, which records intact frames", async () => {
  const record = join(fixture.dir, "from-gstreamer.mjpeg");
  const reference = join(fixture.dir, "gstreamer.rgb");
  const source = ["videotestsrc", "num-buffers=45", "pattern=ball"];
  const caps = (format: string) => `video/x-raw,format=${format},width=${WIDTH},height=${HEIGHT},framerate=30/1`;
  // The same JPEGs decoded by GStreamer itself, to compare with (same encoder, same settings: deterministic).
  const encode = [caps("I420"), "!", "jpegenc", "quality=90"];
  const raw = Bun.spawnSync(["gst-launch-1.0", "-q", ...source, "!", ...encode, "!", "jpegdec", "!", "videoconvert", "!", caps("RGB"), "!", "filesink", `location=${reference}`], {
    stdin: "ignore",
  });
  expect(raw.exitCode).toBe(0);
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  const gst = Bun.spawnSync(
    ["gst-launch-1.0", "-q", ...source, "is-live=true", "!", ...encode, "!", "rtpjpegpay", "!", "udpsink", "host=127.0.0.1", `port=${port}`],
    { stdin: "ignore" },
  );
  expect(gst.exitCode).toBe(0);
  const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
  expect(summary).toMatchObject({ framesCorrupt: 0, datagramsRejected: 0, framesDroppedIncomplete: 0 });
  expectReceiverAccounted(summary, 45);
  expect(summary.recorded).toBe(summary.framesShown);
  const size = WIDTH * HEIGHT * 3;
  const bytes = readFileSync(reference);
  const expected = Array.from({ length: bytes.length / size }, (_, i) => new Uint8Array(bytes.subarray(i * size, (i + 1) * size)));
  expect(expected).toHaveLength(45);
  const matches = matchFrames(decodeFrames(record, WIDTH, HEIGHT, "mjpeg"), expected);
  expect(matches).toHaveLength(summary.framesShown);
  expectIncreasing(matches.map((m) => m.sourceIndex));
  for (const m of matches) expect(m.psnr).toBeGreaterThan(35);
}, 40_000);

test("a picture RTP/JPEG cannot describe gets a one-line fix, exit code 2", async () => {
  const result = await runUdpvid(["send", fixture.clip, "--protocol", "rtp", "--width", "322", "--height", "180", "--to", "127.0.0.1:9"]);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain("multiples of 8");
  expect(result.stderr).toContain("--width 320 --height 176");
  expect(result.stderr).not.toContain("    at ");
});

test("--sdp without --protocol rtp, and --key with RTP, are usage errors", async () => {
  const sdp = await runUdpvid(["send", fixture.clip, "--sdp", join(fixture.dir, "x.sdp")]);
  expect(sdp.exitCode).toBe(2);
  expect(sdp.stderr).toContain("--protocol rtp");
  const key = await runUdpvid(["send", fixture.clip, "--protocol", "rtp", "--key-env", "NO_SUCH_VAR_SET", "--to", "127.0.0.1:9"], { NO_SUCH_VAR_SET: "0".repeat(64) });
  expect(key.exitCode).toBe(2);
  expect(key.stderr).toContain("cannot be encrypted");
});

test("an SDP file that cannot be written is a one-line error, and nothing is left running", async () => {
  const result = await runUdpvid(["send", fixture.clip, "--protocol", "rtp", "--width", "320", "--height", "176", "--sdp", "/nonexistent/dir/x.sdp", "--to", "127.0.0.1:9"], {}, 10_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain("cannot write --sdp /nonexistent/dir/x.sdp: ENOENT");
  expect(result.stderr).not.toContain("    at ");
});
