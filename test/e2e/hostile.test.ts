import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";
import { decodeFrames, psnr, useSourceClip } from "../helpers/frames.ts";
import { hostileDatagrams } from "../helpers/hostile-datagrams.ts";
import { finish, lastJson, rssMiB, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted } from "../helpers/accounting.ts";
import { waitUntil } from "../helpers/wait.ts";

// A real receiver process under attack and through faults; the stream it
// must still show is part of video.mp4 at 320x180.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);

/** The best PSNR of a JPEG against any source frame scaled to the JPEG's own size; throws if the JPEG is not whole. */
async function bestMatchAtItsSize(jpeg: Uint8Array, source: Uint8Array[]): Promise<number> {
  const { data, info } = await sharp(jpeg, { failOn: "warning" }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let best = 0;
  for (const frame of source) {
    const scaled = info.width === WIDTH && info.height === HEIGHT ? frame : await sharp(frame, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).resize(info.width, info.height, { fit: "fill", kernel: "linear" }).raw().toBuffer();
    best = Math.max(best, psnr(new Uint8Array(data), new Uint8Array(scaled)));
  }
  return best;
}

/** Frames in a recording so far (it is appended to as frames are shown). */
const recordedCount = (record: string) => (Bun.file(record).size > 0 ? splitMjpeg(readFileSync(record)).length : 0);

/**
 * Distinct source frames that some frame of `record` matches (PSNR > 30 dB).
 * Every pair is compared: a recording may also hold frames of other senders.
 */
function intactFrames(record: string, source: Uint8Array[]): number {
  return intactFrameIndices(record, source).size;
}

function intactFrameIndices(record: string, source: Uint8Array[]): Set<number> {
  const matched = new Set<number>();
  for (const frame of decodeFrames(record, WIDTH, HEIGHT, "mjpeg")) {
    let best = -1;
    let bestPsnr = 30;
    source.forEach((s, i) => {
      const value = psnr(frame, s);
      if (value > bestPsnr) [best, bestPsnr] = [i, value];
    });
    if (best >= 0) matched.add(best);
  }
  return matched;
}

test("a flood of 4000 hostile datagrams: the receiver keeps working, stays under its memory cap, counts every refusal, then plays a real stream", async () => {
  const record = join(fixture.dir, "after-fuzz.mjpeg");
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--max-memory", "16", "--record", record, "--json"]);
  const port = await receiver.listening;
  await Bun.sleep(300);
  const baseline = rssMiB(receiver.process.pid);
  let peak = baseline;

  const sample = await encodeJpeg(fixture.frames[0]!, WIDTH, HEIGHT, 80);
  const socket = await Bun.udpSocket({});
  let sent = 0;
  let burst = 0;
  for (const { bytes } of hostileDatagrams(7, sample)) {
    if (sent === 4000) break;
    socket.send(bytes, port, "127.0.0.1");
    sent++;
    // Paced well under the receiver's socket buffer, so the kernel drops nothing and every datagram is accounted for.
    if ((burst += bytes.length + 64) > 64 * 1024) {
      burst = 0;
      await Bun.sleep(4);
      peak = Math.max(peak, rssMiB(receiver.process.pid));
    }
  }
  await Bun.sleep(800); // the flood's streams fall silent, so another sender can take over
  // A well-formed stream whose JPEG header claims 60000x60000: assembled, then refused before decoding.
  const forged = new Uint8Array(sample);
  const sof = forged.findIndex((b, i) => b === 0xff && forged[i + 1] === 0xc0);
  forged.set([0xea, 0x60, 0xea, 0x60], sof + 5);
  for (let n = 0; n < 3; n++) {
    for (const d of packetizeV2(forged, { streamId: 0xbad, frameNumber: n, captureTimeUs: 0 })) socket.send(d, port, "127.0.0.1");
    await Bun.sleep(50);
  }
  sent += packetizeV2(forged, { streamId: 0xbad, frameNumber: 0, captureTimeUs: 0 }).length * 3;
  socket.close();
  await Bun.sleep(800);

  const streamed = await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--json"]);
  expect(streamed.exitCode).toBe(0);
  peak = Math.max(peak, rssMiB(receiver.process.pid));
  expect(receiver.process.exitCode).toBeNull(); // still alive after all that
  receiver.process.kill("SIGINT");
  const result = await finish(receiver, 10_000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<ReceiveSummary>(result.stdout);

  const streamedSummary = lastJson<{ datagrams: number; returnPath: { senderStatesSent: number } }>(streamed.stdout);
  const realDatagrams = streamedSummary.datagrams;
  // The sender's state, every half second beside the stream, arrives on the same port.
  expect(summary.datagramsReceived).toBe(sent + realDatagrams + streamedSummary.returnPath.senderStatesSent + 3 /* end of stream */);
  expect(Object.values(summary.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(summary.datagramsRejected);
  expect(summary.datagramsRejected).toBeGreaterThan(sent / 10);
  expect(summary.framesOversized).toBeGreaterThanOrEqual(3); // forged 60000x60000 headers reached the decoder and were refused unopened
  // Growth stays within the 16 MiB assembly cap, plus what the decoder and the JS heap use for the frames that did decode.
  expect(peak - baseline).toBeLessThan(16 + 48);
  // And the real stream after the storm: every frame it sent shown intact, or skipped for a newer one while decoding.
  const intact = intactFrames(record, fixture.frames);
  expect(intact).toBeGreaterThan(0);
  expect(intact + summary.framesSkipped).toBeGreaterThanOrEqual(lastJson<SendSummary>(streamed.stdout).frames);
}, 60_000);

describe("refusing strangers", () => {
  const keyFile = () => {
    const file = join(fixture.dir, "stream.key");
    writeFileSync(file, "11".repeat(32));
    return file;
  };

  test("--key on both sides: every datagram is sealed, frames arrive intact", async () => {
    const record = join(fixture.dir, "sealed.mjpeg");
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--key", keyFile(), "--record", record, "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    const sent = await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--key-env", "UDPVID_TEST_KEY", "--json"], { UDPVID_TEST_KEY: "11".repeat(32) });
    expect(sent.exitCode).toBe(0);
    const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expect(summary.datagramsRejected).toBe(0);
    expect(summary.quitBy).toBe("end-of-stream");
    expectEveryFrameAccounted(lastJson<SendSummary>(sent.stdout), summary, fixture.frames.length);
    expect(intactFrames(record, fixture.frames)).toBe(summary.framesShown);
  });

  test("a receiver without the key says once that the stream is encrypted, and shows nothing", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--json"]);
    const port = await receiver.listening;
    await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--key", keyFile(), "--fps", "60"]);
    await Bun.sleep(300);
    receiver.process.kill("SIGINT");
    const result = await finish(receiver);
    const summary = lastJson<ReceiveSummary>(result.stdout);
    expect(summary.framesShown).toBe(0);
    expect(summary.rejectedByReason["sealed-no-key"]).toBe(summary.datagramsReceived);
    expect(result.stderr.match(/is encrypted; pass its key with --key FILE/g)?.length).toBe(1);
  });

  test("a wrong key and an unkeyed sender are refused and counted, never shown", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--key", keyFile(), "--json"]);
    const port = await receiver.listening;
    await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--key-env", "K", "--fps", "60"], { K: "22".repeat(32) });
    await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--fps", "60"]);
    await Bun.sleep(300);
    receiver.process.kill("SIGINT");
    const result = await finish(receiver);
    const summary = lastJson<ReceiveSummary>(result.stdout);
    expect(summary.framesShown).toBe(0);
    expect(summary.rejectedByReason["bad-auth"]).toBeGreaterThan(100);
    expect(summary.rejectedByReason["not-sealed"]).toBeGreaterThan(100);
    expect(summary.datagramsRejected).toBe(summary.datagramsReceived);
    expect(result.stderr).toContain("fail authentication: wrong key, or forged");
  });

  test("--from accepts one source address only", async () => {
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--from", "127.0.0.2", "--json"]);
    const port = await receiver.listening;
    await runUdpvid(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--fps", "60"]);
    await Bun.sleep(300);
    receiver.process.kill("SIGINT");
    const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expect(summary.framesShown).toBe(0);
    expect(summary.rejectedByReason.stranger).toBe(summary.datagramsReceived);
    expect(summary.datagramsReceived).toBeGreaterThan(100);
  });
});

describe("restarts and faults", () => {
  test("a sender restarted mid-stream (new stream id, frames from 0) is followed at once: its first frames are shown", async () => {
    const clipB = join(fixture.dir, "mirrored.mp4");
    Bun.spawnSync(["ffmpeg", "-v", "error", "-i", fixture.clip, "-vf", "hflip", "-c:v", "libx264", "-crf", "18", "-y", clipB]);
    const framesB = decodeFrames(clipB, WIDTH, HEIGHT);
    const record = join(fixture.dir, "restart.mjpeg");
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--json"]);
    const port = await receiver.listening;
    await using first = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${port}`]);
    await Bun.sleep(1500);
    first.process.kill("SIGKILL"); // dies mid-frame: no end of stream
    const second = await runUdpvid(["send", clipB, "--to", `127.0.0.1:${port}`, "--json"]);
    expect(second.exitCode).toBe(0);
    receiver.process.kill("SIGINT");
    const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expect(summary.framesCorrupt).toBe(0);
    // The new stream is followed from its first frames (the very first may fall in the switch-over),
    // and every frame it sent is shown but for those a newer one overtook while decoding.
    const shownB = intactFrameIndices(record, framesB);
    expect(Math.min(...shownB)).toBeLessThanOrEqual(1);
    expect(shownB.size + summary.framesSkipped).toBeGreaterThanOrEqual(lastJson<SendSummary>(second.stdout).frames - 1);
  }, 30_000);

  test("a receiver started mid-stream shows the next complete frame, and only complete frames", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await using sender = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${port}`]);
    await Bun.sleep(1200);
    const record = join(fixture.dir, "mid-stream.mjpeg");
    await using receiver = startUdpvid(["receive", "--headless", "--port", String(port), "--record", record, "--idle-timeout", "2", "--json"]);
    await receiver.listening;
    await waitUntil(() => recordedCount(record) >= 30, 15_000);
    sender.process.kill("SIGINT"); // ends with end-of-stream datagrams
    const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expect(summary.quitBy).toBe("end-of-stream");
    expect(summary.framesCorrupt).toBe(0);
    expect(summary.framesShown).toBeGreaterThanOrEqual(30); // shown from the first complete frame on
    const recorded = splitMjpeg(new Uint8Array(readFileSync(record)));
    expect(recorded.length).toBe(summary.framesShown);
    // Complete frames, whatever rate the sender chose for this receiver: each one a whole JPEG (a truncated one
    // fails to decode here) that is a source frame at its own size and quality. Quality 30 at a quarter of the
    // size comes to about 24 dB; a frame with chunks missing (grey blocks) far below.
    for (const jpeg of recorded) expect(await bestMatchAtItsSize(jpeg, fixture.frames)).toBeGreaterThan(20);
  }, 30_000);

  test("the network going away for 5 s (relay killed, then restarted) is survived by both sides", async () => {
    const record = join(fixture.dir, "outage.mjpeg");
    await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "10", "--json"]);
    const receiverPort = await receiver.listening;
    const relayArgs = (listen: number) => ["relay", "--listen", String(listen), "--to", `127.0.0.1:${receiverPort}`];
    const firstRelay = startUdpvid(relayArgs(0));
    const relayPort = await firstRelay.listening;
    await using sender = startUdpvid(["send", fixture.clip, "--loop", "--to", `127.0.0.1:${relayPort}`, "--json"]);
    await waitUntil(() => recordedCount(record) >= 30, 15_000);
    firstRelay.process.kill("SIGKILL");
    await firstRelay.process.exited;
    await Bun.sleep(300); // what was already in the receiver's decoder is written
    const before = Bun.file(record).size;
    const framesBefore = recordedCount(record);
    await Bun.sleep(4700);
    expect(Bun.file(record).size).toBe(before); // nothing got through while the network was down
    expect(sender.process.exitCode).toBeNull();
    expect(receiver.process.exitCode).toBeNull();
    await using secondRelay = startUdpvid(relayArgs(relayPort));
    await secondRelay.listening;
    await waitUntil(() => recordedCount(record) >= framesBefore + 30, 15_000);
    sender.process.kill("SIGINT");
    const sent = await finish(sender);
    expect(sent.exitCode).toBe(0);
    const sendSummary = lastJson<{ errorReports: number; sendErrors: number }>(sent.stdout);
    expect(sendSummary.errorReports + sendSummary.sendErrors).toBeGreaterThan(0); // it noticed, counted, and kept going
    const summary = lastJson<ReceiveSummary>((await finish(receiver)).stdout);
    expect(summary.quitBy).toBe("end-of-stream");
    expect(summary.framesCorrupt).toBe(0);
    // Frames flowed again once the network was back.
    const recording = readFileSync(record);
    const framesAfter = [...splitMjpeg(recording)].length - [...splitMjpeg(recording.subarray(0, before))].length;
    expect(framesAfter).toBeGreaterThanOrEqual(30);
  }, 60_000);
});
