import { expect, test } from "bun:test";
import { join } from "node:path";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectIncreasing, expectReceiverAccounted, expectSenderAccounted } from "../helpers/accounting.ts";
import { decodeFrames, matchFrames, useSourceClip } from "../helpers/frames.ts";
import { finish, lastJson, ROOT, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";

// The original lab programs' byte format, spoken by small Python/OpenCV peers
// (Debian's python3-opencv, hence /usr/bin/python3 rather than whatever python3 is first on PATH).
const PYTHON = "/usr/bin/python3";
const PEERS = join(ROOT, "test", "peers");
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

function expectMatchesSource(frames: Uint8Array[]) {
  const matches = matchFrames(frames, fixture.frames);
  for (const m of matches) expect(m.psnr).toBeGreaterThan(30);
  expectIncreasing(matches.map((m) => m.sourceIndex));
}

test("the lab's Python server → udpvid receive", async () => {
  const record = join(fixture.dir, "from-lab.mjpeg");
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  const server = Bun.spawn([PYTHON, join(PEERS, "lab_server.py"), fixture.clip, "127.0.0.1", String(port)], { stdout: "pipe", stderr: "pipe" });
  expect(await server.exited).toBe(0);
  expect(await new Response(server.stdout).text()).toContain(`sent ${fixture.frames.length} frames`);

  const result = await finish(receiver);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<ReceiveSummary>(result.stdout);
  expect(summary.datagramsRejected).toBe(0);
  // The lab's server sends every frame, unpaced beyond its own sleep: each shown, or overtaken while decoding.
  expectReceiverAccounted(summary, fixture.frames.length);
  const recorded = decodeFrames(record, WIDTH, HEIGHT, "mjpeg");
  expect(recorded.length).toBe(summary.framesShown);
  expectMatchesSource(recorded);
});

test("udpvid send --protocol legacy → the lab's Python client", async () => {
  const out = join(fixture.dir, "to-lab.mjpeg");
  const client = Bun.spawn([PYTHON, join(PEERS, "lab_client.py"), "0", out, "2"], { stdout: "pipe", stderr: "pipe" });
  const reader = client.stdout.getReader();
  let text = "";
  while (!/Listening on [\d.]+:(\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`lab client did not start: ${await new Response(client.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  const port = Number(/Listening on [\d.]+:(\d+)/.exec(text)![1]);
  const sent = await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--protocol", "legacy", "--json"]);
  expect(sent.exitCode).toBe(0);
  const frames = expectSenderAccounted(lastJson<SendSummary>(sent.stdout), fixture.frames.length);
  expect(await client.exited).toBe(0);
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
  const counts = /decoded (\d+) failed (\d+)/.exec(text);
  expect(counts).not.toBeNull();
  expect(Number(counts![2])).toBe(0);
  // The lab's client decodes every datagram it gets, skipping none: all that udpvid sent.
  expect(Number(counts![1])).toBe(frames);
  const received = decodeFrames(out, WIDTH, HEIGHT, "mjpeg");
  expect(received.length).toBe(Number(counts![1]));
  expectMatchesSource(received);
});
