import { describe, expect, test } from "bun:test";
import { expectEveryFrameAccounted, expectSenderAccounted, receivedCountsFromText, sentCountsFromText } from "../helpers/accounting.ts";
import { useSourceClip } from "../helpers/frames.ts";
import { CLI, finish, runUdpvid, startCommand, startUdpvid } from "../helpers/udpvid.ts";

// What a person sees on a terminal: a real pseudo-terminal from util-linux `script`,
// which merges stdout and stderr as a terminal would show them.
const fixture = useSourceClip(3, 320, 180);

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
function onTerminal(args: string[], env: Record<string, string | undefined> = {}) {
  // A pseudo-terminal starts 0 columns wide: give it a real width first.
  const command = `stty cols 160; exec ${[process.execPath, CLI, ...args].map(quote).join(" ")}`;
  return startCommand(["script", "-qfec", command, "/dev/null"], { TERM: "xterm", NO_COLOR: undefined, FORCE_COLOR: undefined, ...env });
}

const COLOUR = /\x1b\[3\dm/;
const FRAMES = 90; // 3 s at 30 fps
const PROGRESS = /█+░*(?:\x1b\[39m)? \d+\.\d\/3\.0 s \| \d+\.\d fps \| \d+\.\d Mbit\/s \| ETA \d+s/;

describe("send", () => {
  test("on a terminal, a file gets a coloured progress bar: position/duration, fps, Mbit/s and ETA", async () => {
    const result = await finish(onTerminal(["send", fixture.clip, "--to", "127.0.0.1:9"]), 20_000);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(PROGRESS);
    expect(result.stdout).toMatch(COLOUR);
    expectSenderAccounted(sentCountsFromText(result.stdout), FRAMES);
  });

  test("NO_COLOR keeps the bar and drops the colours", async () => {
    const result = await finish(onTerminal(["send", fixture.clip, "--to", "127.0.0.1:9"], { NO_COLOR: "1" }), 20_000);
    expect(result.stdout).toMatch(PROGRESS);
    expect(result.stdout).not.toMatch(COLOUR);
  });

  test("--quiet on a terminal: no bar, only the start line and the summary", async () => {
    const result = await finish(onTerminal(["send", fixture.clip, "--to", "127.0.0.1:9", "--quiet"]), 20_000);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain("ETA");
    expect(result.stdout).not.toContain("\r\x1b");
    expect(result.stdout).toContain("Streaming video to 127.0.0.1:9");
    expectSenderAccounted(sentCountsFromText(result.stdout), FRAMES);
  });

  test("off a terminal the output is plain lines: no bar, no carriage returns, no escape codes", async () => {
    const result = await runUdpvid(["send", fixture.clip, "--to", "127.0.0.1:9"], { FORCE_COLOR: undefined, NO_COLOR: undefined }, 20_000);
    expect(result.exitCode).toBe(0);
    const all = result.stdout + result.stderr;
    expect(all).not.toMatch(/[\r\x1b]/);
    expect(result.stdout.trim().split("\n")[0]).toStartWith("Streaming video to 127.0.0.1:9");
    expectSenderAccounted(sentCountsFromText(result.stdout), FRAMES);
  });
});

describe("receive", () => {
  test("on a terminal, one live status line: waiting, then receiving with fps and Mbit/s", async () => {
    await using receiver = onTerminal(["receive", "--headless", "--port", "0", "--idle-timeout", "1"]);
    const port = await receiver.listening;
    await Bun.sleep(700);
    const sent = await finish(startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`]), 20_000);
    const result = await finish(receiver, 10_000);
    expect(result.stdout).toContain(`\r\x1b[2K\x1b[33mwaiting on :${port}\x1b[39m  0.0 fps  0.0 Mbit/s  shown 0`);
    expect(result.stdout).toMatch(/\r\x1b\[2K\x1b\[32mreceiving\x1b\[39m {2}\d+\.\d fps {2}\d+\.\d Mbit\/s {2}loss 0\.0%/);
    // Rewritten in place: no status on lines of its own before the summary.
    const beforeSummary = result.stdout.slice(0, result.stdout.indexOf("Received "));
    expect(beforeSummary.split("\n").filter((line) => line.includes("fps"))).toHaveLength(1);
    expectEveryFrameAccounted(sentCountsFromText(sent.stdout), receivedCountsFromText(result.stdout), FRAMES);
  }, 30_000);

  test("--quiet on a terminal: no status line", async () => {
    await using receiver = onTerminal(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--quiet"]);
    const port = await receiver.listening;
    const sent = await finish(startUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`]), 20_000);
    const result = await finish(receiver, 10_000);
    expect(result.stdout).not.toContain("fps  ");
    expect(result.stdout).not.toContain("waiting on");
    expectEveryFrameAccounted(sentCountsFromText(sent.stdout), receivedCountsFromText(result.stdout), FRAMES);
  }, 30_000);
});

describe("errors", () => {
  test("the error prefix is red when colours are forced, plain with NO_COLOR", async () => {
    const forced = await runUdpvid(["send", "no-such-file.mp4"], { FORCE_COLOR: "1", NO_COLOR: undefined });
    expect(forced.exitCode).toBe(1);
    expect(forced.stderr).toStartWith("\x1b[31mudpvid:\x1b[39m ");
    const plain = await runUdpvid(["send", "no-such-file.mp4"], { FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(plain.stderr).toStartWith("udpvid: ");
    expect(plain.stderr).not.toContain("\x1b");
  });
});
