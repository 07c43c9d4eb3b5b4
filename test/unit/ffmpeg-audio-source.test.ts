import { describe, expect, test } from "bun:test";
import { FfmpegAudioSource, type AudioSourceOptions } from "../../src/source/ffmpeg-audio-source.ts";
import { SourceError } from "../../src/source/ffmpeg-source.ts";

const lavfi = (graph: string): AudioSourceOptions => ({ ffmpeg: "ffmpeg", input: graph, inputFormat: "lavfi", audioStream: 0, encoder: "libopus" });

describe("FfmpegAudioSource (Debian's ffmpeg)", () => {
  test("a 2 s tone: 20 ms Opus packets in order on the source's timeline, from the encoder's pre-skip to the end", async () => {
    const source = await FfmpegAudioSource.open(lavfi("sine=frequency=440:sample_rate=44100:duration=2"));
    expect(source.head.channels).toBe(1); // mono stays mono (resampled to 48 kHz)
    const packets = [];
    for await (const p of source.packets()) packets.push(p);
    expect(packets[0]!.startSample).toBe(-source.head.preSkip);
    for (let i = 1; i < packets.length; i++) expect(packets[i]!.startSample).toBe(packets[i - 1]!.startSample + packets[i - 1]!.durationSamples);
    expect(packets.every((p) => p.durationSamples === 960 && p.data.length > 0)).toBe(true);
    const end = packets.at(-1)!.startSample + packets.at(-1)!.durationSamples;
    expect(end).toBeGreaterThanOrEqual(2 * 48_000);
    expect(end).toBeLessThan(2 * 48_000 + 960);
  });

  test("5.1 is folded to stereo; ffmpeg's own encoder works too where libopus is missing", async () => {
    const surround = await FfmpegAudioSource.open(lavfi("sine=duration=0.2,aformat=channel_layouts=5.1"));
    expect(surround.head.channels).toBe(2);
    surround.close();
    const native = await FfmpegAudioSource.open({ ...lavfi("sine=sample_rate=48000:duration=0.5,aformat=channel_layouts=stereo"), encoder: "opus" });
    let count = 0;
    for await (const p of native.packets()) count += p.durationSamples > 0 ? 1 : 0;
    expect(count).toBeGreaterThanOrEqual(25);
  });

  test("a source without that audio stream is refused with a plain reason", async () => {
    const error = await FfmpegAudioSource.open({ ...lavfi("testsrc=duration=1"), audioStream: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain("has no audio stream 0");
  });
});
