import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { deserializeV2, V2_MAGIC } from "../../src/protocol/v2.ts";
import { expectEveryFrameAccounted, expectSenderAccounted } from "../helpers/accounting.ts";
import { makeClip, tempDir } from "../helpers/frames.ts";
import { waitUntil } from "../helpers/wait.ts";
import { finish, lastJson, runUdpvid, startUdpvid, VIDEO } from "../helpers/udpvid.ts";

function expectOneLineError(result: { stderr: string }, text: string) {
  const lines = result.stderr.trim().split("\n");
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain(text);
  expect(result.stderr).not.toContain("    at ");
}

describe("entry point", () => {
  test("--version prints the package version", async () => {
    const result = await runUdpvid(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(`udpvid ${packageJson.version}`);
  });

  test.each(["send", "receive"])("%s --help lists its options", async (command) => {
    const result = await runUdpvid([command, "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Usage: udpvid ${command}`);
    expect(result.stdout).toContain(command === "send" ? "--to HOST:PORT" : "--idle-timeout SECONDS");
    expect(result.stdout).toContain("legacy protocol has no integrity");
  });

  test.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["send", "--bogus"], "unknown option --bogus"],
    [["receive", "--verbose"], "unknown option --verbose"],
    [["send", "--quality", "0"], "--quality must be a whole number from 1 to 100"],
    [["send", "--quality", "high"], "--quality must be a whole number"],
    [["send", "--fps", "0"], "--fps must be a number from 0.1 to 1000"],
    [["send", "--fps=-3"], "--fps must be a number"],
    [["send", "--protocol", "srt"], "--protocol must be one of v2, legacy, rtp"],
    [["send", "--to", "nowhere"], '--to: "nowhere" is not HOST:PORT'],
    [["send", "--to", "127.0.0.1:70000"], "port must be a whole number from 1 to 65535"],
    [["send", "--mtu", "20"], "--mtu must be a whole number"],
    [["send", "a.mp4", "b.mp4"], 'unexpected argument "b.mp4"'],
    [["receive", "--port"], "option --port needs a value"],
    [["receive", "--port", "x"], "--port: port must be a whole number"],
    [["receive", "--idle-timeout", "0"], "--idle-timeout must be a number"],
    [["receive", "--headless=yes"], "option --headless takes no value"],
    [["send", "--width", "-5"], '--width must be a whole number from 16 to 16384, got "-5"'],
    [["send", "--quality", "101"], "--quality must be a whole number from 1 to 100"],
    [["receive", "--port", "65536"], "--port: port must be a whole number from 0 to 65535"],
    [["send", "--to", "127.0.0.1"], '--to: "127.0.0.1" is not HOST:PORT'],
    [["receive", "--key-env", "UDPVID_TEST_UNSET_KEY"], "environment variable UDPVID_TEST_UNSET_KEY is not set"],
    [["receive", "--key", "/nonexistent/key"], "--key: cannot read /nonexistent/key: no such file"],
    [["receive", "--max-memory", "1"], "--max-memory must be a whole number from 4"],
    [["keygen", "extra"], 'keygen takes no arguments, got "extra"'],
  ])("usage error %p → exit 2 and one line: %s", async (args, message) => {
    const result = await runUdpvid(args);
    expect(result.exitCode).toBe(2);
    expectOneLineError(result, message);
  });
});

describe("send: bad input gets a clear message", () => {
  const dir = tempDir();

  test("a missing file", async () => {
    const result = await runUdpvid(["send", join(dir, "missing.mp4")]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "missing.mp4: no such file");
  });

  test("a directory", async () => {
    const sub = join(dir, "folder");
    mkdirSync(sub);
    const result = await runUdpvid(["send", sub]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "is a directory, not a video file");
  });

  test("a file that is not a video", async () => {
    const notVideo = join(dir, "notes.mp4");
    writeFileSync(notVideo, "this is text, not video\n".repeat(100));
    const result = await runUdpvid(["send", notVideo]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "cannot decode");
  });

  test("a video with no video stream", async () => {
    const audio = join(dir, "tone.mp4");
    Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", "-y", audio]);
    const result = await runUdpvid(["send", audio]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "tone.mp4 has no video stream (audio only?)");
  });

  test("--to a host name that does not resolve", async () => {
    const result = await runUdpvid(["send", "--to", "no-such-host.invalid:9999"]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, '--to: cannot resolve host "no-such-host.invalid": check the name, or give an IP address');
  });

  test.each([
    ["20 raw bytes", new Uint8Array(20).fill(7), "(20 bytes)"],
    ["62 hex digits", "ab".repeat(31), "(62 bytes)"],
    ["base64 of 16 bytes", Buffer.alloc(16, 1).toString("base64"), "(24 bytes)"],
  ])("a key file of the wrong length: %s", async (_name, content, size) => {
    const file = join(dir, "bad.key");
    writeFileSync(file, content);
    const result = await runUdpvid(["send", "--key", file]);
    expect(result.exitCode).toBe(2);
    expectOneLineError(result, `key file ${file} does not hold a 256-bit key ${size}: expected 32 raw bytes, 64 hex digits or base64 of 32 bytes`);
  });

  test("keygen makes keys that send and receive accept, and --key with legacy is refused", async () => {
    const made = await runUdpvid(["keygen"]);
    expect(made.exitCode).toBe(0);
    expect(made.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const file = join(dir, "good.key");
    writeFileSync(file, made.stdout);
    const legacy = await runUdpvid(["send", "--key", file, "--protocol", "legacy"]);
    expect(legacy.exitCode).toBe(2);
    expectOneLineError(legacy, "the legacy protocol cannot be encrypted");
  });

  test("no working ffmpeg: one error naming all four places", async () => {
    const result = await runUdpvid(["send", "--ffmpeg", "/nonexistent/ffmpeg"]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "no working ffmpeg");
    for (const place of ["--ffmpeg", "FFMPEG_BIN", "ffmpeg-static", "PATH"]) expect(result.stderr).toContain(place);
  });

  test("FFMPEG_BIN is used when --ffmpeg is not given", async () => {
    const result = await runUdpvid(["send", "--to", "127.0.0.1:9"], { FFMPEG_BIN: "/nonexistent/ffmpeg-from-env" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("FFMPEG_BIN: /nonexistent/ffmpeg-from-env does not exist");
  });

  test("an ffmpeg that is a file but not a program: a not-executable one is named, one that cannot run fails with one clear line", async () => {
    const notExecutable = join(dir, "ffmpeg-no-x");
    writeFileSync(notExecutable, "#!/bin/sh\n");
    const refused = await runUdpvid(["send", VIDEO, "--to", "127.0.0.1:9", "--ffmpeg", notExecutable]);
    expect(refused.exitCode).toBe(1);
    expectOneLineError(refused, `--ffmpeg: ${notExecutable} is not executable`);
    const garbage = join(dir, "ffmpeg-garbage");
    writeFileSync(garbage, new Uint8Array(64).fill(0x7f), { mode: 0o755 });
    const broken = await runUdpvid(["send", VIDEO, "--to", "127.0.0.1:9", "--ffmpeg", garbage]);
    expect(broken.exitCode).toBe(1);
    expectOneLineError(broken, `ffmpeg (${garbage}) does not run`);
  });

  test("nobody listening: the sender keeps going, counts refused datagrams, exits 0", async () => {
    const clip = makeClip(dir, 1, 160);
    // Port 9 (discard) on loopback: nothing listens, so the kernel answers ICMP port unreachable.
    const result = await runUdpvid(["send", clip, "--to", "127.0.0.1:9", "--json"]);
    expect(result.exitCode).toBe(0);
    const summary = lastJson<SendSummary>(result.stdout);
    expectSenderAccounted(summary, 30);
    expect(summary.errorReports).toBeGreaterThan(0);
    expect(summary.lastError).toContain("ECONNREFUSED");
  });
});

describe("receive: bad input gets a clear message", () => {
  test("a port in use", async () => {
    await using first = startUdpvid(["receive", "--headless", "--port", "0"]);
    const port = await first.listening;
    const result = await runUdpvid(["receive", "--headless", "--port", String(port)]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, `port ${port} on 0.0.0.0 is already in use`);
  });

  test("a recording path that cannot be written", async () => {
    const result = await runUdpvid(["receive", "--headless", "--port", "0", "--record", "/nonexistent/dir/out.mjpeg"]);
    expect(result.exitCode).toBe(1);
    expectOneLineError(result, "cannot write the recording to /nonexistent/dir/out.mjpeg");
    const mkv = await runUdpvid(["receive", "--headless", "--port", "0", "--record", "/nonexistent/dir/out.mkv"]);
    expect(mkv.exitCode).toBe(1);
    expectOneLineError(mkv, "cannot write the recording to /nonexistent/dir/out.mkv");
  });

  test("Ctrl-C stops cleanly with a summary", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--json"]);
    await receiver.listening;
    receiver.process.kill("SIGINT");
    const result = await finish(receiver, 5000);
    expect(result.exitCode).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ quitBy: "signal", framesShown: 0 });
  });
});

describe("send options", () => {
  const dir = tempDir();
  const clip = makeClip(dir, 1, 320);

  test.each([
    [["--width", "160"], 160, 90],
    [["--height", "90"], 160, 90],
    [["--width", "200", "--height", "50"], 200, 50],
    [[], 320, 180],
  ])("scaling %p gives %ix%i", async (args, width, height) => {
    const result = await runUdpvid(["send", clip, "--to", "127.0.0.1:9", "--fps", "1000", "--json", ...args]);
    expect(result.exitCode).toBe(0);
    const summary = lastJson<{ width: number; height: number; frames: number; framesSkipped: number; framesSkippedForRate: number }>(result.stdout);
    expect(summary).toMatchObject({ width, height });
    // At 1000 fps, falling behind skips frames; before any report the stream starts at 10 Mbit/s, which leaves some out.
    expect(summary.frames + summary.framesSkipped + summary.framesSkippedForRate).toBe(30);
  });

  test("--loop repeats the file until Ctrl-C, which stops cleanly with a summary", async () => {
    // A socket that watches the stream: Ctrl-C once it has seen more frames than one pass over the 30-frame clip holds.
    const seen = new Set<number>();
    const socket = await Bun.udpSocket({
      port: 0,
      socket: {
        data: (_socket, datagram) => {
          if (datagram[0] !== V2_MAGIC) return; // the sender's state, beside the stream
          const packet = deserializeV2(new Uint8Array(datagram));
          if (!packet.endOfStream) seen.add(packet.frameNumber);
        },
      },
    });
    await using _socket = { [Symbol.asyncDispose]: async () => socket.close() };
    await using sender = startUdpvid(["send", clip, "--to", `127.0.0.1:${socket.port}`, "--fps", "60", "--loop", "--json"]);
    await waitUntil(() => seen.size > 30, 30_000);
    expect(seen.size).toBeGreaterThan(30);
    sender.process.kill("SIGINT");
    const result = await finish(sender, 10_000);
    expect(result.exitCode).toBe(0);
    const summary = lastJson<SendSummary>(result.stdout);
    expect(summary.stoppedByUser).toBe(true);
    expect(summary.frames).toBeGreaterThanOrEqual(seen.size); // more than one pass over a 30-frame clip
  }, 45_000);

  test("--fps max sends every frame unpaced, faster than real time, and skips none", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    // 30 frames at 5 fps: paced, they would take 6 s; unpaced, a fraction of that even on a busy machine.
    const slowSource = ["testsrc=size=320x180:rate=5", "--input-format", "lavfi", "--input-option", "t=6"];
    const sent = await runUdpvid(["send", ...slowSource, "--to", `127.0.0.1:${port}`, "--fps", "max", "--json"]);
    const summary = lastJson<SendSummary>(sent.stdout);
    expect(summary.frames).toBe(30);
    expect(summary.framesSkipped).toBe(0);
    expect(summary.seconds).toBeLessThan(3);
    expect(sent.stderr).toContain("unpaced");
    const received = lastJson<{ framesReceived: number; framesCorrupt: number }>((await finish(receiver)).stdout);
    expect(received.framesCorrupt).toBe(0);
    expect(received.framesReceived).toBeGreaterThan(0);
  });

  test("--low-latency sends each frame in one burst, still in real time, and frames arrive whole", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    const sent = await runUdpvid(["send", clip, "--to", `127.0.0.1:${port}`, "--low-latency", "--json"]);
    const summary = lastJson<SendSummary>(sent.stdout);
    expect(summary.seconds).toBeGreaterThan(0.99);
    const received = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expectEveryFrameAccounted(summary, received, 30);
  });

  test("IPv6 loopback works end to end", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--bind", "::1", "--port", "0", "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    const sent = await runUdpvid(["send", clip, "--to", `[::1]:${port}`, "--json"]);
    expect(sent.exitCode).toBe(0);
    const received = await finish(receiver);
    expectEveryFrameAccounted(lastJson<SendSummary>(sent.stdout), lastJson<ReceiveSummary>(received.stdout), 30);
  });
});
