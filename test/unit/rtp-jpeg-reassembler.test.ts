import { expect, test } from "bun:test";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { decodeJpeg } from "../../src/decoder/jpeg-decoder.ts";
import { packetizeRtpJpeg, RtpStream } from "../../src/packetizer/rtp-jpeg-packetizer.ts";
import { parseBaselineJpeg } from "../../src/protocol/jpeg-baseline.ts";
import { deserializeRtp, serializeRtp } from "../../src/protocol/rtp.ts";
import { deserializeRtpJpeg, serializeRtpJpeg } from "../../src/protocol/rtp-jpeg.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { RtpJpegReassembler } from "../../src/reassembler/rtp-jpeg-reassembler.ts";

const WIDTH = 320;
const HEIGHT = 240;

async function frame(seed: number): Promise<Uint8Array> {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * (7 + seed) + (i >> 9) * 13) & 0xff;
  return encodeJpeg(rgb, WIDTH, HEIGHT, 80);
}

const pixels = async (jpeg: Uint8Array) => (await decodeJpeg(jpeg)).rgba;

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test("packets: within the datagram size, consecutive sequence numbers across the wrap, one timestamp, the marker on the last only", async () => {
  const stream = new RtpStream(0x1234, 0xfffe);
  const packets = packetizeRtpJpeg(await frame(1), 90_000, stream, 1400);
  expect(packets.length).toBeGreaterThan(3);
  const parsed = packets.map(deserializeRtp);
  for (const [i, p] of parsed.entries()) {
    expect(packets[i]!.length).toBeLessThanOrEqual(1400);
    expect(p).toMatchObject({ payloadType: 26, timestamp: 90_000, ssrc: 0x1234, sequence: (0xfffe + i) & 0xffff, marker: i === parsed.length - 1 });
  }
  expect(stream.nextSequence).toBe((0xfffe + packets.length) & 0xffff);
  const first = deserializeRtpJpeg(parsed[0]!.payload);
  expect(first).toMatchObject({ fragmentOffset: 0, type: 1, q: 255, width: WIDTH, height: HEIGHT });
  expect(first.quantTables).toHaveLength(2);
  const offsets = parsed.map((p) => deserializeRtpJpeg(p.payload).fragmentOffset);
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
});

test("packets in any order rebuild a JPEG that decodes to the sender's exact pixels", async () => {
  const jpeg = await frame(2);
  const packets = packetizeRtpJpeg(jpeg, 3000, RtpStream.random(), 1000);
  const reassembler = new RtpJpegReassembler();
  const frames = shuffled(packets, 7).map((p) => reassembler.push(deserializeRtp(p), 0)).filter((f) => f !== undefined);
  expect(frames).toHaveLength(1);
  expect(frames[0]!.timestamp).toBe(3000);
  expect(await pixels(frames[0]!.jpeg)).toEqual(await pixels(jpeg));
  expect(reassembler.stats).toMatchObject({ framesCompleted: 1, packetsLost: 0 });
  expect(reassembler.stats.packetsReordered).toBeGreaterThan(0);
  expect(reassembler.bufferedBytes).toBe(0);
});

test("a lost packet loses only its frame: counted lost and dropped, never shown, and the next frame is whole", async () => {
  const stream = RtpStream.random();
  const one = packetizeRtpJpeg(await frame(3), 0, stream, 1200);
  const two = packetizeRtpJpeg(await frame(4), 3000, stream, 1200);
  const reassembler = new RtpJpegReassembler();
  const shown = [...one.filter((_, i) => i !== 2), ...two].map((p) => reassembler.push(deserializeRtp(p), 0)).filter((f) => f !== undefined);
  expect(shown.map((f) => f.timestamp)).toEqual([3000]);
  expect(reassembler.stats).toMatchObject({ packetsLost: 1, framesDroppedIncomplete: 1, framesCompleted: 1 });
  expect(reassembler.bufferedBytes).toBe(0);
});

test("duplicates are counted and ignored; late packets of a shown frame too", async () => {
  const packets = packetizeRtpJpeg(await frame(5), 10, RtpStream.random(), 1200);
  const reassembler = new RtpJpegReassembler();
  reassembler.push(deserializeRtp(packets[0]!), 0);
  reassembler.push(deserializeRtp(packets[0]!), 0);
  for (const p of packets.slice(1)) reassembler.push(deserializeRtp(p), 0);
  expect(reassembler.push(deserializeRtp(packets[1]!), 0)).toBeUndefined();
  expect(reassembler.stats).toMatchObject({ packetsDuplicate: 1, framesCompleted: 1, packetsLate: 1 });
});

test("follows one SSRC: a stranger's packets are ignored until the stream has been silent a second", async () => {
  const jpeg = await frame(6);
  const ours = packetizeRtpJpeg(jpeg, 0, new RtpStream(1, 0), 1200);
  const theirs = packetizeRtpJpeg(jpeg, 0, new RtpStream(2, 0), 1200);
  const reassembler = new RtpJpegReassembler();
  reassembler.push(deserializeRtp(ours[0]!), 0);
  for (const p of theirs) expect(reassembler.push(deserializeRtp(p), 500)).toBeUndefined();
  expect(reassembler.stats.packetsOtherStream).toBe(theirs.length);
  const taken = theirs.map((p) => reassembler.push(deserializeRtp(p), 2000)).filter((f) => f !== undefined);
  expect(taken.map((f) => f.ssrc)).toEqual([2]);
});

test("Q below 128 means Annex K tables scaled for Q, not sent in-band", async () => {
  const jpeg = await encodeJpeg(new Uint8Array(64 * 32 * 3).fill(90), 64, 32, 60);
  const parts = parseBaselineJpeg(jpeg);
  const payload = serializeRtpJpeg({ typeSpecific: 0, fragmentOffset: 0, type: 1, q: 60, width: 64, height: 32, scan: parts.scan });
  const packet = serializeRtp({ marker: true, payloadType: 26, sequence: 1, timestamp: 5, ssrc: 9, payload });
  const rebuilt = new RtpJpegReassembler().push(deserializeRtp(packet), 0)!;
  expect(await pixels(rebuilt.jpeg)).toEqual(await pixels(jpeg));
});

test("hostile streams stay within the memory cap, and frames over the size limit are refused", () => {
  const reassembler = new RtpJpegReassembler({ maxBufferedBytes: 64 * 1024, maxFrameBytes: 32 * 1024, maxFramesInFlight: 4 });
  const scan = new Uint8Array(1000);
  const packet = (sequence: number, timestamp: number, fragmentOffset: number) =>
    deserializeRtp(serializeRtp({ marker: false, payloadType: 26, sequence, timestamp, ssrc: 1, payload: serializeRtpJpeg({ typeSpecific: 0, fragmentOffset, type: 1, q: 50, width: 64, height: 64, scan }) }));
  // Frames that never complete, each at a new timestamp and offset.
  for (let i = 0; i < 2000; i++) {
    reassembler.push(packet(i, 100 + (i % 500), (i * 1000) % 0xff_ffff), 0);
    expect(reassembler.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(reassembler.toJSON().framesInFlight).toBeLessThanOrEqual(4);
  }
  // One frame growing past 32 KiB.
  const fill = () => {
    for (let k = 0; k < 40; k++) reassembler.push(packet(3000 + k, 9000, k * 1000), 0);
  };
  expect(fill).toThrow("RTP/JPEG frame over 32768 bytes");
  expect(reassembler.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
  const notJpeg = deserializeRtp(serializeRtp({ marker: true, payloadType: 96, sequence: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(8) }));
  expect(() => reassembler.push(notJpeg, 0)).toThrow("not JPEG");
});
