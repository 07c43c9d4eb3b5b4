import { expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted, expectIncreasing } from "../helpers/accounting.ts";
import { decodeFrames, matchFrames, useSourceClip } from "../helpers/frames.ts";
import { finish, lastJson, runUdpvid, startUdpvid, type Running } from "../helpers/udpvid.ts";

// One sender, two receivers, over loopback: a multicast group, and a list of destinations.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

/** Waits for a receiver to end and checks it got the whole stream: every frame sent accounted for, what it shows intact and in order. */
async function expectWholeClip(sent: SendSummary, receiver: Running, record: string): Promise<void> {
  const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
  expectEveryFrameAccounted(sent, summary, fixture.frames.length);
  const matches = matchFrames(decodeFrames(record, WIDTH, HEIGHT, "mjpeg"), fixture.frames);
  expect(matches).toHaveLength(summary.framesShown);
  expectIncreasing(matches.map((m) => m.sourceIndex));
  for (const m of matches) expect(m.psnr).toBeGreaterThan(30);
}

test("multicast: two receivers joined to one group on one port both get every frame intact", async () => {
  const group = "239.255.42.7";
  const port = 20000 + Math.floor(Math.random() * 20000);
  const records = [join(fixture.dir, "group-a.mjpeg"), join(fixture.dir, "group-b.mjpeg")];
  await using a = startUdpvid(["receive", "--headless", "--port", String(port), "--group", group, "--record", records[0]!, "--idle-timeout", "1", "--json"]);
  await using b = startUdpvid(["receive", "--headless", "--port", String(port), "--group", group, "--record", records[1]!, "--idle-timeout", "1", "--json"]);
  await Promise.all([a.listening, b.listening]);
  const sent = await runUdpvid(["send", fixture.clip, "--to", `${group}:${port}`, "--ttl", "1", "--fps", "60", "--json"]);
  expect(sent.exitCode).toBe(0);
  const summary = lastJson<SendSummary>(sent.stdout);
  await Promise.all([expectWholeClip(summary, a, records[0]!), expectWholeClip(summary, b, records[1]!)]);
}, 40_000);

test("several destinations: --to A,B streams to both", async () => {
  const records = [join(fixture.dir, "list-a.mjpeg"), join(fixture.dir, "list-b.mjpeg")];
  await using a = startUdpvid(["receive", "--headless", "--port", "0", "--record", records[0]!, "--idle-timeout", "1", "--json"]);
  await using b = startUdpvid(["receive", "--headless", "--port", "0", "--record", records[1]!, "--idle-timeout", "1", "--json"]);
  const ports = await Promise.all([a.listening, b.listening]);
  const sent = await runUdpvid(["send", fixture.clip, "--to", ports.map((p) => `127.0.0.1:${p}`).join(","), "--fps", "60", "--json"]);
  expect(sent.exitCode).toBe(0);
  const summary = lastJson<SendSummary>(sent.stdout);
  expect(summary.to).toBe(ports.map((p) => `127.0.0.1:${p}`).join(","));
  await Promise.all([expectWholeClip(summary, a, records[0]!), expectWholeClip(summary, b, records[1]!)]);
}, 40_000);

test("a unicast port stays exclusive: a second receiver on it is told the port is in use", async () => {
  await using first = startUdpvid(["receive", "--headless", "--port", "0"]);
  const port = await first.listening;
  const second = await runUdpvid(["receive", "--headless", "--port", String(port)]);
  expect(second.exitCode).not.toBe(0);
  expect(second.stderr).toContain("already in use");
});

test.each([
  [["receive", "--group", "10.0.0.1"], "--group must be a multicast address"],
  [["receive", "--interface", "127.0.0.1"], "add --group"],
  [["send", "--ttl", "0"], "--ttl must be"],
  [["send", "--to", "127.0.0.1:9,nohostport"], "is not HOST:PORT"],
])("usage error %p → exit 2: %s", async (args, message) => {
  const result = await runUdpvid(args);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain(message);
});
