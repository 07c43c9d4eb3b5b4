import { describe, expect, test } from "bun:test";
import { isOpusTags, OggFormatError, OggPacketReader, opusPacketSamples, parseOpusHead } from "../../src/source/ogg-opus.ts";

/** One Ogg page holding `segments` (lacing values) over `body`. */
function page(lacing: number[], body: Uint8Array, type = 0): Uint8Array {
  const header = new Uint8Array(27 + lacing.length);
  header.set([0x4f, 0x67, 0x67, 0x53, 0, type]);
  header[26] = lacing.length;
  header.set(lacing, 27);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("OggPacketReader", () => {
  test("packets from lacing values: a 255 run goes on, a shorter segment ends a packet; fed a byte at a time too", () => {
    // Packet A: 300 bytes (255 + 45); packet B: 10 bytes; packet C: 255 bytes exactly (255 + 0).
    const body = new Uint8Array([...bytes(300, 1), ...bytes(10, 2), ...bytes(255, 3)]);
    const stream = page([255, 45, 10, 255, 0], body);
    const whole = new OggPacketReader().push(stream);
    expect(whole.map((p) => [p.length, p[0]])).toEqual([
      [300, 1],
      [10, 2],
      [255, 3],
    ]);
    const reader = new OggPacketReader();
    const trickled = [...stream].flatMap((b) => reader.push(Uint8Array.of(b)));
    expect(trickled.map((p) => p.length)).toEqual([300, 10, 255]);
  });

  test("a packet continued on the next page comes out whole", () => {
    const reader = new OggPacketReader();
    expect(reader.push(page([255], bytes(255, 7)))).toEqual([]);
    const [packet] = reader.push(page([20], bytes(20, 8), 1));
    expect(packet!.length).toBe(275);
    expect(packet![0]).toBe(7);
    expect(packet![274]).toBe(8);
  });

  test("what is not Ogg is refused with a reason, never misread", () => {
    expect(() => new OggPacketReader().push(new TextEncoder().encode("RIFF....WAVEfmt ............"))).toThrow(OggFormatError);
    const badVersion = page([1], bytes(1, 0));
    badVersion[4] = 1;
    expect(() => new OggPacketReader().push(badVersion)).toThrow(OggFormatError);
  });
});

describe("Opus headers and packets", () => {
  test("OpusHead: channels and pre-skip; OpusTags is recognised; anything else is neither", () => {
    const head = Uint8Array.from([...new TextEncoder().encode("OpusHead"), 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    expect(parseOpusHead(head)).toEqual({ channels: 2, preSkip: 312, inputSampleRate: 48000 });
    expect(parseOpusHead(head.subarray(0, 12))).toBeUndefined();
    expect(isOpusTags(new TextEncoder().encode("OpusTags\0\0\0\0"))).toBe(true);
    expect(isOpusTags(head)).toBe(false);
  });

  test("samples per packet from the TOC byte (RFC 6716 §3.1)", () => {
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 0))).toBe(960); // CELT 20 ms, one frame
    expect(opusPacketSamples(Uint8Array.of((28 << 3) | 0))).toBe(120); // CELT 2.5 ms
    expect(opusPacketSamples(Uint8Array.of((1 << 3) | 1))).toBe(1920); // SILK 20 ms, two frames
    expect(opusPacketSamples(Uint8Array.of((3 << 3) | 3, 2))).toBe(5760); // SILK 60 ms × 2
    expect(opusPacketSamples(Uint8Array.of((3 << 3) | 3, 3))).toBeUndefined(); // 180 ms: more than a packet may hold
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 3))).toBeUndefined(); // frame count missing
    expect(opusPacketSamples(new Uint8Array(0))).toBeUndefined();
  });

  test("ffmpeg's own Ogg Opus: a head, tags, then 20 ms packets that add up to the clip", async () => {
    const ffmpeg = Bun.spawn(
      ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=1", "-ac", "2", "-c:a", "libopus", "-b:a", "96k", "-frame_duration", "20", "-f", "ogg", "pipe:1"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const reader = new OggPacketReader();
    const packets: Uint8Array[] = [];
    for await (const chunk of ffmpeg.stdout) packets.push(...reader.push(chunk));
    expect(await ffmpeg.exited).toBe(0);
    expect(parseOpusHead(packets[0]!)).toMatchObject({ channels: 2 });
    expect(isOpusTags(packets[1]!)).toBe(true);
    const audio = packets.slice(2).map(opusPacketSamples);
    expect(audio.every((n) => n === 960)).toBe(true);
    // One second plus the encoder's pre-skip, in 20 ms packets.
    expect(audio.length).toBeGreaterThanOrEqual(50);
    expect(audio.length).toBeLessThanOrEqual(52);
  });
});
