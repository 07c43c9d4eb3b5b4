import { afterAll, expect, test } from "bun:test";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/frames.ts";

// The speaker against real SDL, its sound on the disk driver (which writes
// what a device would play), in a process of its own: SDL picks its audio
// driver from the environment as it loads.
const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the speaker takes an empty write as nothing (SDL would refuse it), and plays what it is given", async () => {
  const soundFile = join(dir, "played.f32");
  const script = join(dir, "speaker.ts");
  writeFileSync(
    script,
    `import { SdlSpeaker } from ${JSON.stringify(join(import.meta.dir, "../../src/speaker/sdl-speaker.ts"))};
const speaker = await SdlSpeaker.open();
speaker.write(new Float32Array(0));
const afterEmpty = speaker.written;
const tone = new Float32Array(4800 * 2).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * Math.floor(i / 2)) / 48000));
speaker.write(tone);
const writtenAfterTone = speaker.written;
while (speaker.queued > 0) await Bun.sleep(10);
await Bun.sleep(100);
speaker.close();
console.log(JSON.stringify({ driver: speaker.driver, afterEmpty, writtenAfterTone }));
`,
  );
  const proc = Bun.spawn([process.execPath, script], { env: { ...process.env, SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: soundFile }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([proc.stdout.text(), proc.stderr.text(), proc.exited]);
  expect(code, err).toBe(0);
  const result = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(result).toEqual({ driver: "disk", afterEmpty: 0, writtenAfterTone: 4800 });
  // The tone was played: the file holds at least its 100 ms, and its loudest sample is the tone's.
  expect(statSync(soundFile).size).toBeGreaterThanOrEqual(4800 * 2 * 4);
  const bytes = readFileSync(soundFile);
  const played = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  expect(played.reduce((loudest, s) => Math.max(loudest, Math.abs(s)), 0)).toBeCloseTo(0.5, 2);
}, 30_000);
