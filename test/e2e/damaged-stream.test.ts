import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";
import { tempDir } from "../helpers/frames.ts";
import { seededRandom } from "../../src/util/random.ts";
import { finish, lastJson, startUdpvid } from "../helpers/udpvid.ts";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import { expectIncreasing } from "../helpers/accounting.ts";

// A real receiver fed over a real socket with streams that lost datagrams:
// it must record exactly the frames that arrived whole, never a damaged one.
let dir: string;
let frames: Uint8Array[];

beforeAll(async () => {
  dir = tempDir();
  const random = seededRandom(7);
  // Noisy 1280x720 pictures at high quality: several 65500-byte legacy chunks each.
  frames = await Promise.all(
    Array.from({ length: 12 }, async () => {
      const rgb = Uint8Array.from({ length: 1280 * 720 * 3 }, () => random() * 256);
      return encodeJpeg(rgb, 1280, 720, 95);
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function splitRecording(bytes: Uint8Array): Buffer[] {
  return splitMjpeg(bytes).map((jpeg) => Buffer.from(jpeg));
}

/** Each recorded JPEG is, byte for byte, one of `expected`, in their order: a frame overtaken while decoding may be missing, nothing else may. */
function expectByteExactInOrder(recorded: Buffer[], expected: Buffer[]): void {
  const indices = recorded.map((jpeg) => expected.findIndex((e) => e.equals(jpeg)));
  expect(indices).not.toContain(-1);
  expectIncreasing(indices);
}

async function sendDamaged(protocol: "legacy" | "v2", port: number, damaged: (frame: number) => boolean, fecPercent = 0) {
  const socket = await Bun.udpSocket({});
  for (let n = 0; n < frames.length; n++) {
    const datagrams =
      protocol === "legacy" ? packetizeLegacy(frames[n]!) : packetizeV2(frames[n]!, { streamId: 5, frameNumber: n, captureTimeUs: 0 }, { datagramSize: 1400, fecPercent });
    const dropAt = damaged(n) ? Math.floor(datagrams.length / 2) : -1;
    for (let i = 0; i < datagrams.length; i++) {
      if (i === dropAt) continue;
      socket.send(datagrams[i]!, port, "127.0.0.1");
      // Paced under the receiver's socket buffer (~208 KiB): loopback must not drop on its own.
      if (protocol === "legacy" || i % 8 === 7) await Bun.sleep(1);
    }
    await Bun.sleep(60); // time to decode: on a quiet machine no frame is overtaken (on a busy one, some may be)
  }
  socket.close();
}

test.each(["legacy", "v2"] as const)("%s: frames that lost a datagram are never shown; the rest all are", async (protocol) => {
  const record = join(dir, `${protocol}.mjpeg`);
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  const damaged = (n: number) => n % 3 === 1;
  await sendDamaged(protocol, port, damaged);
  const result = await finish(receiver);
  expect(result.exitCode).toBe(0);

  const intact = frames.filter((_, n) => !damaged(n)).map((f) => Buffer.from(f));
  const recorded = splitRecording(readFileSync(record));
  const summary = lastJson<ReceiveSummary>(result.stdout);
  expect(recorded.length).toBe(summary.framesShown);
  expect(summary.framesShown).toBeGreaterThan(0);
  expectByteExactInOrder(recorded, intact);
  if (protocol === "v2") {
    // v2 knows a frame is damaged from its chunk count, before decoding: the count is exact.
    expect(summary.framesDroppedIncomplete).toBe(frames.length - intact.length);
    expect(summary.framesCorrupt).toBe(0);
    expect(summary.framesShown + summary.framesSkipped).toBe(intact.length);
  } else {
    // legacy cannot see the hole until the frame fails to decode, unless a newer frame overtook it first.
    expect(summary.framesCorrupt).toBeLessThanOrEqual(frames.length - intact.length);
    expect(summary.framesShown + summary.framesSkipped + summary.framesCorrupt).toBe(frames.length);
  }
});

test("v2 with FEC: the same losses are repaired and every frame is shown, byte-exact", async () => {
  const record = join(dir, "fec.mjpeg");
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "1", "--json"]);
  const port = await receiver.listening;
  await sendDamaged("v2", port, (n) => n % 3 === 1, 10);
  const result = await finish(receiver);
  const recorded = splitRecording(readFileSync(record));
  const summary = lastJson<ReceiveSummary>(result.stdout);
  expect(recorded.length).toBe(summary.framesShown);
  expectByteExactInOrder(recorded, frames.map((f) => Buffer.from(f)));
  expect(summary).toMatchObject({ framesDroppedIncomplete: 0, framesCorrupt: 0 });
  expect(summary.framesShown + summary.framesSkipped).toBe(frames.length);
  expect(summary.framesRecovered).toBe(4);
  expect(summary.datagramsRecovered).toBe(4);
  expect(summary.datagramsLost).toBe(4);
});
