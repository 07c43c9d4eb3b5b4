import { describe, expect, test } from "bun:test";
import { element, matroskaCluster, matroskaStart, opusHead, vint } from "../../src/recorder/matroska.ts";
import { MatroskaTimeline, REORDER_US, TRACKS_WAIT_US } from "../../src/recorder/matroska-timeline.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("EBML and Matroska bytes", () => {
  test("sizes as variable-length integers: the shortest that holds them, all-ones reserved", () => {
    expect(hex(vint(0))).toBe("80");
    expect(hex(vint(5))).toBe("85");
    expect(hex(vint(126))).toBe("fe");
    // 127 in one byte would be 0xff, "unknown size": two bytes.
    expect(hex(vint(127))).toBe("407f");
    expect(hex(vint(300))).toBe("412c");
    expect(hex(vint(16382))).toBe("7ffe");
    expect(hex(vint(16383))).toBe("203fff");
    expect(hex(vint(2 ** 49))).toBe("0102000000000000");
    expect(() => vint(-1)).toThrow(RangeError);
    expect(() => vint(1.5)).toThrow(RangeError);
    expect(() => vint(2 ** 56)).toThrow(RangeError);
  });

  test("an element is its ID, its size and its body", () => {
    expect(hex(element(0xe7, Uint8Array.of(0x03, 0xe8)))).toBe("e78203e8");
    expect(hex(element(0x1f43b675))).toBe("1f43b67580");
  });

  test("OpusHead (RFC 7845 §5.1) for a stereo stream", () => {
    expect(hex(opusHead(2, 312))).toBe(hex(new TextEncoder().encode("OpusHead")) + "01" + "02" + "3801" + "80bb0000" + "0000" + "00");
  });

  test("a Cluster: its timestamp, then SimpleBlocks with track, signed relative ms and the keyframe flag", () => {
    const cluster = matroskaCluster([
      { track: 1, timestampMs: 1000, data: Uint8Array.of(0xaa) },
      { track: 2, timestampMs: 990, data: Uint8Array.of(0xbb, 0xcc) },
    ]);
    // Cluster(size 16) { Timestamp 1000 · SimpleBlock { track 1, +0, 0x80, aa } · SimpleBlock { track 2, −10, 0x80, bb cc } }
    expect(hex(cluster)).toBe("1f43b675" + "93" + "e78203e8" + "a385" + "81" + "0000" + "80" + "aa" + "a386" + "82" + "fff6" + "80" + "bbcc");
  });

  test("a Cluster refuses what it cannot say: nothing, a block beyond an int16 of ms, a negative start, a track past one byte", () => {
    expect(() => matroskaCluster([])).toThrow(RangeError);
    expect(() => matroskaCluster([{ track: 1, timestampMs: 0, data: new Uint8Array(1) }, { track: 1, timestampMs: 40_000, data: new Uint8Array(1) }])).toThrow(RangeError);
    expect(() => matroskaCluster([{ track: 1, timestampMs: -1, data: new Uint8Array(1) }])).toThrow(RangeError);
    expect(() => matroskaCluster([{ track: 127, timestampMs: 0, data: new Uint8Array(1) }])).toThrow(RangeError);
  });

  test("the stream's start: EBML header with DocType matroska, a Segment of unknown size, Info, then both tracks", () => {
    const start = matroskaStart(
      [
        { kind: "video", number: 1, codecId: "V_MJPEG", width: 320, height: 180 },
        { kind: "audio", number: 2, codecId: "A_OPUS", channels: 2, sampleRate: 48000 },
      ],
      "udpvid",
    );
    const text = hex(start);
    expect(text.startsWith("1a45dfa3")).toBe(true);
    expect(text).toContain(hex(element(0x4282, new TextEncoder().encode("matroska"))));
    expect(text).toContain("1853806701ffffffffffffff");
    // TimestampScale 1 000 000 ns: blocks in ms.
    expect(text).toContain("2ad7b1830f4240");
    expect(text).toContain(hex(element(0x86, new TextEncoder().encode("V_MJPEG"))));
    expect(text).toContain(hex(element(0x86, new TextEncoder().encode("A_OPUS"))));
    expect(text).toContain(hex(element(0x63a2, opusHead(2))));
    // PixelWidth 320, PixelHeight 180.
    expect(text).toContain("b0820140");
    expect(text).toContain("ba81b4");
    expect(() => matroskaStart([], "udpvid")).toThrow(RangeError);
  });
});

/** The SimpleBlocks of a stream, as (track, absolute ms) pairs, read back from its Clusters. */
function blocksOf(chunks: Uint8Array[]): { track: number; ms: number; data: number }[] {
  const out: { track: number; ms: number; data: number }[] = [];
  for (const chunk of chunks) {
    if (chunk[0] !== 0x1f || chunk[1] !== 0x43) continue;
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.length);
    // The cluster's size vint, then Timestamp (0xe7, size, value).
    let i = 4;
    const sizeLength = Math.clz32(chunk[i]!) - 23;
    i += sizeLength;
    const tsLength = chunk[i + 1]! & 0x7f;
    let base = 0;
    for (let j = 0; j < tsLength; j++) base = base * 256 + chunk[i + 2 + j]!;
    i += 2 + tsLength;
    while (i < chunk.length) {
      expect(chunk[i]).toBe(0xa3);
      const length = chunk[i + 1]! & 0x7f;
      out.push({ track: chunk[i + 2]! & 0x7f, ms: base + view.getInt16(i + 3), data: chunk[i + 6]! });
      i += 2 + length;
    }
  }
  return out;
}

const picture = (captureTimeUs: number, mark = 0) => ({ jpeg: Uint8Array.of(mark), width: 320, height: 180, captureTimeUs });
const sound = (captureTimeUs: number, mark = 0) => ({ data: Uint8Array.of(mark), channels: 2 as const, captureTimeUs });

describe("MatroskaTimeline", () => {
  test("waits for both tracks, then writes each in capture order on one timeline, from the earliest", () => {
    const timeline = new MatroskaTimeline("test");
    const chunks: Uint8Array[] = [];
    // Sound comes first (frames wait for their playout time); a frame captured before it comes after it.
    chunks.push(...timeline.addSound(sound(1_020_000, 1)));
    expect(timeline.started).toBe(false);
    chunks.push(...timeline.addPicture(picture(1_000_000, 2)));
    expect(timeline.started).toBe(true);
    for (let i = 1; i <= 150; i++) {
      chunks.push(...timeline.addSound(sound(1_020_000 + i * 20_000, 10)));
      if (i % 2 === 0) chunks.push(...timeline.addPicture(picture(1_000_000 + (i / 2) * 40_000, 20)));
    }
    chunks.push(...timeline.finish());
    const blocks = blocksOf(chunks);
    expect(blocks[0]).toEqual({ track: 1, ms: 0, data: 2 });
    expect(blocks[1]).toEqual({ track: 2, ms: 20, data: 1 });
    for (const track of [1, 2]) {
      const times = blocks.filter((b) => b.track === track).map((b) => b.ms);
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    }
    expect(blocks.filter((b) => b.track === 2)).toHaveLength(151);
    expect(blocks.filter((b) => b.track === 1)).toHaveLength(76);
    expect(timeline.counts).toEqual({ frames: 76, soundPackets: 151, dropped: 0 });
    // Written as it goes, a Cluster at a time, not all at the end.
    expect(chunks.length).toBeGreaterThan(3);
  });

  test("a stream without sound starts its one track once the sound has had its wait; sound after that is dropped and counted", () => {
    const timeline = new MatroskaTimeline("test");
    let started = -1;
    for (let i = 0; i < 40; i++) {
      timeline.addPicture(picture(i * 40_000));
      if (timeline.started && started < 0) started = i * 40_000;
    }
    expect(started).toBe(TRACKS_WAIT_US);
    timeline.addSound(sound(40 * 40_000));
    expect(timeline.counts.dropped).toBe(1);
    const blocks = blocksOf(timeline.finish());
    expect(blocks.every((b) => b.track === 1)).toBe(true);
  });

  test("packets that come later than their place on the timeline are dropped and counted, not written out of order", () => {
    const timeline = new MatroskaTimeline("test");
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      chunks.push(...timeline.addSound(sound(i * 20_000)));
      if (i % 2 === 0) chunks.push(...timeline.addPicture(picture(i * 20_000)));
    }
    // A resent sound packet from well past the reordering window (what is held spans one to two of it), and one within it.
    chunks.push(...timeline.addSound(sound(200 * 20_000 - 3 * REORDER_US + 10_000, 7)));
    chunks.push(...timeline.addSound(sound(200 * 20_000 - 100_000 + 10_000, 8)));
    chunks.push(...timeline.finish());
    expect(timeline.counts.dropped).toBe(1);
    const soundTimes = blocksOf(chunks).filter((b) => b.track === 2);
    expect(soundTimes.some((b) => b.data === 8)).toBe(true);
    for (let i = 1; i < soundTimes.length; i++) expect(soundTimes[i]!.ms).toBeGreaterThan(soundTimes[i - 1]!.ms);
  });

  test("capture times that wrap past 2^32 µs continue the timeline", () => {
    const timeline = new MatroskaTimeline("test");
    const chunks: Uint8Array[] = [];
    const start = 2 ** 32 - 1_000_000;
    for (let i = 0; i < 150; i++) {
      chunks.push(...timeline.addSound(sound((start + i * 20_000) % 2 ** 32)));
      chunks.push(...timeline.addPicture(picture((start + i * 20_000) % 2 ** 32)));
    }
    chunks.push(...timeline.finish());
    const times = blocksOf(chunks).filter((b) => b.track === 1).map((b) => b.ms);
    expect(times).toEqual(Array.from({ length: 150 }, (_, i) => i * 20));
  });

  test("a sender that restarts with another clock continues the recording after what it has", () => {
    const timeline = new MatroskaTimeline("test");
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) chunks.push(...timeline.addPicture(picture(5_000_000 + i * 20_000)), ...timeline.addSound(sound(5_000_000 + i * 20_000)));
    for (let i = 0; i < 100; i++) chunks.push(...timeline.addPicture(picture(900_000_000 + i * 20_000)), ...timeline.addSound(sound(900_000_000 + i * 20_000)));
    chunks.push(...timeline.finish());
    const times = blocksOf(chunks).filter((b) => b.track === 1).map((b) => b.ms);
    expect(times).toHaveLength(200);
    expect(times[100]! - times[99]!).toBe(40);
    expect(timeline.counts.dropped).toBe(0);
  });

  test("a long pause becomes a gap, in Clusters that each stay within an int16 of ms", () => {
    const timeline = new MatroskaTimeline("test");
    const chunks: Uint8Array[] = [];
    chunks.push(...timeline.addPicture(picture(0)), ...timeline.addSound(sound(0)));
    chunks.push(...timeline.addPicture(picture(50_000_000)), ...timeline.addSound(sound(50_000_000)));
    chunks.push(...timeline.finish());
    expect(blocksOf(chunks).map((b) => b.ms)).toEqual([0, 0, 50_000, 50_000]);
  });

  test("finishing with nothing written writes nothing; with a lone packet, a playable stream of it", () => {
    expect(new MatroskaTimeline("test").finish()).toEqual([]);
    const timeline = new MatroskaTimeline("test");
    expect(timeline.addSound(sound(123))).toEqual([]);
    const chunks = timeline.finish();
    expect(chunks[0]![0]).toBe(0x1a);
    expect(blocksOf(chunks)).toEqual([{ track: 2, ms: 0, data: 0 }]);
  });
});
