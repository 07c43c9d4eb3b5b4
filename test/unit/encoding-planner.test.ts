import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { EncodingPlanner, quantiserScale, SCALE_STEPS, type EncodingChoice } from "../../src/rate/encoding-planner.ts";

const CEILING = { quality: 80, width: 1280, height: 720 };

/** A picture whose JPEG is k · pixels · S(q)^−γ bytes: γ 0.4 is a plain picture, 0.9 a grainy one (as measured with sharp). */
const modelPicture = (k: number, gamma: number) => (c: EncodingChoice) => k * c.width * c.height * quantiserScale(c.quality) ** -gamma;

/** Runs `frames` frames at a payload rate; returns each choice and the bytes it gave. */
function run(planner: EncodingPlanner, picture: (c: EncodingChoice) => number, bps: number | undefined, frames: number) {
  const out: { choice: EncodingChoice; bytes: number }[] = [];
  for (let i = 0; i < frames; i++) {
    const choice = planner.choose(bps, 30);
    const bytes = picture(choice);
    planner.encoded(choice, bytes);
    out.push({ choice, bytes });
  }
  return out;
}

describe("EncodingPlanner", () => {
  test("no limit: the ceiling, every frame", () => {
    const planner = new EncodingPlanner(CEILING);
    for (const { choice } of run(planner, modelPicture(1, 0.9), undefined, 10)) {
      expect(choice).toEqual({ quality: 80, scale: 1, width: 1280, height: 720, frameStride: 1 });
    }
  });

  for (const gamma of [0.4, 0.9]) {
    test(`a budget between the floor and the ceiling is met by quality alone within a few frames (γ ${gamma})`, () => {
      const picture = modelPicture(2, gamma);
      const atCeiling = picture({ quality: 80, scale: 1, width: 1280, height: 720, frameStride: 1 });
      const atFloor = picture({ quality: 30, scale: 1, width: 1280, height: 720, frameStride: 1 });
      const budget = Math.sqrt(atCeiling * atFloor);
      const frames = run(new EncodingPlanner(CEILING), picture, budget * 8 * 30, 30);
      for (const { choice, bytes } of frames.slice(6)) {
        expect(choice.scale).toBe(1);
        expect(choice.frameStride).toBe(1);
        expect(bytes / budget).toBeGreaterThan(0.85);
        expect(bytes / budget).toBeLessThan(1.15);
      }
    });
  }

  test("quality first, then size, then frame rate: each only when the one before is at its floor", () => {
    const picture = modelPicture(2, 0.9);
    const planner = new EncodingPlanner(CEILING, { minQuality: 30 });
    let previous: EncodingChoice | undefined;
    // The budget falls 10% a frame, from ample to nothing.
    for (let bps = 60e6; bps > 50e3; bps *= 0.9) {
      const { choice } = run(planner, picture, bps, 1)[0]!;
      if (previous && choice.scale < previous.scale) expect(previous.quality).toBeLessThanOrEqual(30 + 3);
      if (previous && choice.frameStride > previous.frameStride) expect(previous.scale).toBe(SCALE_STEPS.at(-1)!);
      expect(choice.quality).toBeGreaterThanOrEqual(30);
      expect(choice.quality).toBeLessThanOrEqual(80);
      previous = choice;
    }
    expect(previous!.scale).toBe(0.25);
    expect(previous!.frameStride).toBe(4);
    expect(previous!.width).toBe(320);
    expect(previous!.height).toBe(180);
  });

  test("when the budget comes back, so do size, frame rate and quality", () => {
    const picture = modelPicture(2, 0.9);
    const planner = new EncodingPlanner(CEILING);
    run(planner, picture, 100e3, 30);
    const back = run(planner, picture, 80e6, 30).at(-1)!.choice;
    expect(back).toEqual({ quality: 80, scale: 1, width: 1280, height: 720, frameStride: 1 });
  });

  test("a steady budget near a size boundary does not flap between sizes", () => {
    const picture = modelPicture(2, 0.9);
    for (let bps = 2e6; bps < 12e6; bps *= 1.07) {
      const planner = new EncodingPlanner(CEILING);
      const frames = run(planner, picture, bps, 90).slice(10);
      let changes = 0;
      for (let i = 1; i < frames.length; i++) if (frames[i]!.choice.scale !== frames[i - 1]!.choice.scale) changes++;
      expect(changes).toBe(0);
    }
  });

  test("a --min-quality above --quality is the ceiling", () => {
    const planner = new EncodingPlanner({ ...CEILING, quality: 50 }, { minQuality: 70 });
    const { choice } = run(planner, modelPicture(2, 0.9), 1e6, 1)[0]!;
    expect(choice.quality).toBe(50);
  });

  test("with real JPEGs of a real frame (sharp), the bytes land near the budget", async () => {
    const width = 640;
    const height = 360;
    const rgb = spawnSync("ffmpeg", ["-loglevel", "error", "-ss", "2", "-i", join(import.meta.dir, "..", "..", "video.mp4"), "-frames:v", "1", "-vf", `scale=${width}:${height}`, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"], {
      maxBuffer: 1 << 24,
    }).stdout;
    expect(rgb.length).toBe(width * height * 3);
    const planner = new EncodingPlanner({ quality: 90, width, height }, { minQuality: 10 });
    const full = (await encodeJpeg(new Uint8Array(rgb), width, height, 90)).length;
    const budget = full * 0.45;
    const sizes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const choice = planner.choose(budget * 8 * 30, 30);
      expect(choice.scale).toBe(1);
      const bytes = (await encodeJpeg(new Uint8Array(rgb), width, height, choice.quality)).length;
      planner.encoded(choice, bytes);
      sizes.push(bytes);
    }
    for (const bytes of sizes.slice(4)) {
      expect(bytes / budget).toBeGreaterThan(0.8);
      expect(bytes / budget).toBeLessThan(1.1);
    }
  });
});
