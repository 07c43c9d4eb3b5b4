import { afterEach, describe, expect, test } from "bun:test";
import { OggPacketReader, parseOpusHead } from "../../src/source/ogg-opus.ts";
import { OpusPacketDecoder, OUTPUT_CHANNELS } from "../../src/decoder/opus-decoder.ts";
import { NativeOpusDecoder, NativeOpusError } from "../../src/native/opus.ts";

/** A 440 Hz tone at half scale (lavfi's sine is at 1/8), `seconds` long, as ffmpeg's libopus packs it (20 ms packets); the Opus header's pre-skip with it. */
function tonePackets(seconds: number, channels = 1): { packets: Uint8Array[]; preSkip: number } {
  const made = Bun.spawnSync([
    "ffmpeg", "-v", "error", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds},volume=4${channels === 2 ? ",aformat=channel_layouts=stereo" : ""}`,
    "-c:a", "libopus", "-b:a", "96k", "-frame_duration", "20", "-f", "ogg", "pipe:1",
  ]);
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  const [head, , ...packets] = new OggPacketReader().push(made.stdout);
  return { packets, preSkip: parseOpusHead(head!)!.preSkip };
}

/** The tone the packets carry, left channel, from sample `from` for `length` samples. */
function sine(from: number, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * 440 * (from + i)) / 48_000);
  return out;
}

function left(interleaved: Float32Array): Float32Array {
  const out = new Float32Array(interleaved.length / OUTPUT_CHANNELS);
  for (let i = 0; i < out.length; i++) out[i] = interleaved[i * OUTPUT_CHANNELS]!;
  return out;
}

/** Pearson correlation of two equally long signals. */
function correlation(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

function rms(samples: Float32Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/** Decodes every packet in turn, joined, with the pre-skip left out. */
function decodeAll(decoder: OpusPacketDecoder, packets: Uint8Array[], preSkip: number): Float32Array {
  // Copied: what decode returns is good until the next call.
  const parts = packets.map((p) => decoder.decode(p, 960).slice());
  const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined.subarray(preSkip * OUTPUT_CHANNELS);
}

const opened: OpusPacketDecoder[] = [];
async function open(force?: "wasm"): Promise<OpusPacketDecoder> {
  const before = process.env.UDPVID_OPUS;
  if (force) process.env.UDPVID_OPUS = force;
  else delete process.env.UDPVID_OPUS;
  try {
    const decoder = await OpusPacketDecoder.open();
    opened.push(decoder);
    return decoder;
  } finally {
    if (before === undefined) delete process.env.UDPVID_OPUS;
    else process.env.UDPVID_OPUS = before;
  }
}
afterEach(() => {
  for (const decoder of opened.splice(0)) decoder.close();
});

describe("OpusPacketDecoder: native libopus (the system's here), libopus's WebAssembly build as the fallback", () => {
  test("opens native libopus where it loads, and names it; UDPVID_OPUS=wasm forces the WebAssembly build", async () => {
    const native = await open();
    expect(native.info).toEqual({ name: "libopus", detail: "libopus.so.0" });
    const wasm = await open("wasm");
    expect(wasm.info).toEqual({ name: "libopus-wasm", detail: "opus-decoder (UDPVID_OPUS=wasm)" });
  });

  test("a 1 s tone decodes to that tone on both, stereo from a mono stream, and the two agree sample for sample", async () => {
    const { packets, preSkip } = tonePackets(1);
    const [native, wasm] = [await open(), await open("wasm")];
    const fromNative = decodeAll(native, packets, preSkip);
    const fromWasm = decodeAll(wasm, packets, preSkip);
    expect(fromNative.length).toBe(fromWasm.length);
    expect(fromNative.length).toBeGreaterThanOrEqual(48_000 * OUTPUT_CHANNELS);
    // Mono is played on both sides.
    for (let i = 0; i < 2000; i += 2) expect(fromNative[i + 1]).toBe(fromNative[i]!);
    // The tone itself, past the codec's first few ms.
    const middle = left(fromNative).subarray(4800, 43_200);
    expect(correlation(middle, sine(4800, middle.length))).toBeGreaterThan(0.99);
    expect(rms(middle)).toBeCloseTo(0.5 / Math.SQRT2, 1);
    // The same libopus, built two ways: float rounding apart at most.
    let worst = 0;
    for (let i = 0; i < fromNative.length; i++) worst = Math.max(worst, Math.abs(fromNative[i]! - fromWasm[i]!));
    expect(worst).toBeLessThan(1e-3);
    expect(native.stats).toEqual({ decoded: packets.length, concealed: 0, refused: 0 });
  });

  test("concealment goes on with the tone for a lost packet, exactly as long as asked, and fades over a long gap", async () => {
    const { packets } = tonePackets(0.5);
    for (const decoder of [await open(), await open("wasm")]) {
      for (const p of packets.slice(0, 20)) decoder.decode(p, 960);
      const concealed = decoder.conceal(960).slice(); // kept past the next call
      expect(concealed.length).toBe(960 * OUTPUT_CHANNELS);
      expect(rms(left(concealed))).toBeGreaterThan(0.1);
      // Not a multiple of libopus's 2.5 ms steps: still exactly that long.
      expect(decoder.conceal(100).length).toBe(100 * OUTPUT_CHANNELS);
      let last: Float32Array = concealed;
      for (let i = 0; i < 20; i++) last = decoder.conceal(960);
      expect(rms(left(last))).toBeLessThan(rms(left(concealed)) / 4);
      expect(decoder.stats.concealed).toBe(22);
    }
  });

  test("hostile packets are refused and concealed, never thrown; good packets after them decode as before", async () => {
    const { packets, preSkip } = tonePackets(1, 2);
    const clean = decodeAll(await open(), packets, preSkip);
    const decoder = await open();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32);
    const hostile = [
      new Uint8Array(0),
      new Uint8Array(4000), // longer than any Opus packet
      Uint8Array.of(0xff), // code 3 with no frame count
      Uint8Array.of(0x03, 0xff, 0xff), // code 3: 63 frames, padding past the end
    ];
    for (let i = 0; i < 300; i++) {
      const p = packets[i % packets.length]!.slice();
      for (let flip = 0; flip < 4; flip++) p[Math.floor(random() * p.length)]! ^= 1 << Math.floor(random() * 8);
      hostile.push(p.subarray(0, 1 + Math.floor(random() * p.length)));
    }
    for (const p of hostile) {
      const out = decoder.decode(p, 960);
      expect(out.length % OUTPUT_CHANNELS).toBe(0);
      expect(out.every(Number.isFinite)).toBe(true);
    }
    expect(decoder.stats.refused).toBeGreaterThanOrEqual(4);
    expect(decoder.stats.refused).toBe(decoder.stats.concealed);
    // The decoder's state carries on from what it last decoded: the tone is back within a packet or two.
    const after = decodeAll(decoder, packets, preSkip);
    const tail = (s: Float32Array) => left(s).subarray(9600, 43_200);
    expect(correlation(tail(after), tail(clean))).toBeGreaterThan(0.999);
  });

  test("the native shell refuses what libopus must not be handed, with its reason", () => {
    const native = NativeOpusDecoder.load(2);
    expect(() => native.decode(new Uint8Array(0))).toThrow(NativeOpusError);
    expect(() => native.decode(new Uint8Array(4000))).toThrow("an Opus packet of 4000 bytes");
    expect(() => native.decode(Uint8Array.of(0xff))).toThrow(/libopus refused the packet \(error -\d\)/);
    expect(native.version).toMatch(/^libopus 1\./);
    native.close();
    expect(() => native.conceal(960)).toThrow("the decoder is closed");
    native.close(); // twice is harmless
  });
});
