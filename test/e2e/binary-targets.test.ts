import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectRecordingMatchesSource, expectSenderAccounted } from "../helpers/accounting.ts";
import { arm64Command, buildTargets, DIST, prepareWine, type WineBox } from "../helpers/foreign-binaries.ts";
import { ffmpeg, makeClip, useSourceClip } from "../helpers/frames.ts";
import { compareSound } from "../helpers/sound-compare.ts";
import { finish, lastJson, loadedLibraries, startCommand, type Finished } from "../helpers/udpvid.ts";
import { expectWindowShowsStream, newestPid, withoutSystemSdl } from "../helpers/window-proof.ts";

// The binaries for other platforms that this host can run: windows-x64 under
// Debian's wine and linux-arm64 under qemu-user. Each must really start, and
// show its window with no system SDL: a binary that prints nothing and exits 0
// (as udpvid.exe once did) fails every test here.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);
const VERSION = packageJson.version.replace(/\./g, "\\.");

const run = (command: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Finished> => finish(startCommand(command, env), timeoutMs);

/** `receive` with a window, in a binary that carries none: one line naming the ways to watch without one. */
async function expectNoWindowMessage(command: string[], target: string): Promise<void> {
  const result = await run(command);
  expect(result.exitCode).toBe(1);
  const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("udpvid"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`this udpvid (${target}) has no window`);
  expect(lines[0]).toContain("--headless --record");
  expect(lines[0]).toContain("--protocol rtp --sdp");
}

/** Which JPEG path each side takes: the sharp fallback on one side, TurboJPEG on the other, so each target runs both. */
type JpegPaths = { sharpSide: "sender" | "receiver" };
const SHARP = { UDPVID_JPEG: "sharp" };

/** A headless receive and a send of the 2 s clip, both through `command`: every frame accounted for, what is shown intact and in order, each side on the path asked for. */
async function expectStreams(command: (args: string[]) => string[], env: Record<string, string>, record: string, paths: JpegPaths, frameReader: SendSummary["frameReader"]): Promise<void> {
  const receiverEnv = paths.sharpSide === "receiver" ? { ...env, ...SHARP } : env;
  const senderEnv = paths.sharpSide === "sender" ? { ...env, ...SHARP } : env;
  await using receiver = startCommand(command(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "5", "--json"]), receiverEnv);
  const port = await receiver.listening;
  // --adapt off: an emulated receiver falls behind, its reports read as a congested path and the
  // sender would shrink the picture; this checks the binaries carry every frame as encoded.
  const sent = await run(command(["send", fixture.clip, "--to", `127.0.0.1:${port}`, "--json", "--adapt", "off"]), senderEnv);
  expect(sent.exitCode).toBe(0);
  const received = await finish(receiver, 60_000);
  expect(received.exitCode).toBe(0);
  const summary = lastJson<ReceiveSummary>(received.stdout);
  const sentSummary = lastJson<SendSummary>(sent.stdout);
  expect(sentSummary.encoder).toEqual(paths.sharpSide === "sender" ? { name: "sharp", detail: "UDPVID_JPEG=sharp" } : { name: "turbojpeg", detail: "embedded" });
  expect(sentSummary.frameReader).toBe(frameReader);
  expect(summary.decoder).toEqual(paths.sharpSide === "receiver" ? { name: "sharp", output: "rgba", detail: "UDPVID_JPEG=sharp" } : { name: "turbojpeg", output: "i420", detail: "embedded" });
  const sentFrames = expectSenderAccounted(sentSummary, fixture.frames.length);
  // Emulated (qemu, wine) on a loaded machine, one side can stall long enough for a whole frame's
  // datagrams to be lost in a socket buffer: never seen, so neither shown nor counted. At most 2 of them.
  const accounted = summary.framesShown + summary.framesSkipped + summary.framesDroppedIncomplete;
  expect(accounted).toBeLessThanOrEqual(sentFrames);
  expect(accounted).toBeGreaterThanOrEqual(sentFrames - 2);
  expect(summary.framesCorrupt).toBe(0);
  expect(summary.framesShown).toBeGreaterThan(0);
  expectRecordingMatchesSource(record, fixture, WIDTH, HEIGHT, summary.framesShown);
}

/**
 * An emulated `receive --headless --audio`, the sound on SDL's disk driver
 * (written to `writtenAt`, named for the binary as `deviceFile`), from a
 * send by this clone: the sound decoded by the binary's own libopus. Under
 * emulation the device may run dry now and then, so the sound is checked
 * for being the source's, not for its timing (see keepsTime). An emulator
 * that usually keeps time (wine) is held to the timing unless this run
 * shows it did not: the receiver left sound out or put silence in to catch
 * up, or the device ran dry (as beside the suite's busy processes).
 */
async function expectPlaysSound(command: (args: string[]) => string[], env: Record<string, string>, writtenAt: string, deviceFile: string, keepsTime: boolean): Promise<void> {
  await using receiver = startCommand(command(["receive", "--headless", "--audio", "--port", "0", "--idle-timeout", "5", "--json"]), { ...env, SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: deviceFile });
  const port = await receiver.listening;
  const sent = await run(["node_modules/.bin/bun", "src/cli.ts", "send", soundClip(), "--to", `127.0.0.1:${port}`, "--json", "--adapt", "off"]);
  expect(sent.exitCode).toBe(0);
  const received = await finish(receiver, 60_000);
  expect(received.exitCode).toBe(0);
  const sound = lastJson<ReceiveSummary>(received.stdout).sound!;
  expect(sound.decoder).toEqual({ name: "libopus", detail: "embedded" });
  expect(sound.refused).toBe(0);
  expect(sound.played).toBeGreaterThanOrEqual((SOUND_SECONDS * 1000) / 20 / 2);
  const bytes = readFileSync(writtenAt);
  const output = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  // wine keeps close to real time: a whole second at least is the source's sound, in time.
  const bestSecond = keepsTime ? Math.max(...compareSound(soundSource(), output).perSecond) : 0;
  const dry = dryStretches(output);
  const fellBehind = sound.skippedBehind > 0 || sound.silences > 1 || dry > 0;
  if (keepsTime && (bestSecond >= 0.9 || !fellBehind)) {
    expect(bestSecond).toBeGreaterThanOrEqual(0.9);
  } else {
    if (keepsTime) console.log(`emulated receiver fell behind (best second ${bestSecond.toFixed(2)}): ${sound.skippedBehind} packets left out, ${sound.silences} silences put in, device dry ${dry} times`);
    // qemu does not keep time (nor wine, at times, beside busy processes): the receiver falls behind, its device runs dry (SDL then writes exact zeros) and it leaves
    // sound out to catch up (it played 62% of the clip, 0.7 s of sound beside the suite's busy processes), cut too
    // finely for a second to line up. What it did play is finite sound within the source's range of levels, from
    // its quiet hum to its beeps (a decoder's garbage is not), a quarter second of it at least, every packet accepted.
    const played = soundLevel(output);
    const range = levelRange(soundSource());
    expect(played.samples).toBeGreaterThanOrEqual(48_000 / 2);
    expect(output.every(Number.isFinite)).toBe(true);
    expect(played.rms).toBeGreaterThan(range.quietest / 2);
    expect(played.rms).toBeLessThan(range.loudest * 2);
  }
}

/**
 * Stretches of at least 10 ms of exact zeros between the first and the last
 * sound: SDL's silence when its queue ran dry (decoded sound, even quiet, is
 * never exactly zero for that long).
 */
function dryStretches(samples: Float32Array): number {
  const minimum = 2 * 480; // 10 ms of stereo at 48 kHz
  let first = 0;
  while (first < samples.length && samples[first] === 0) first++;
  let last = samples.length - 1;
  while (last > first && samples[last] === 0) last--;
  let stretches = 0;
  let zeros = 0;
  for (let i = first; i <= last; i++) {
    if (samples[i] !== 0) {
      zeros = 0;
      continue;
    }
    if (++zeros === minimum) stretches++;
  }
  return stretches;
}

/** RMS over the samples that are not exact zeros (SDL's silence when the queue ran dry), and how many there were. */
function soundLevel(samples: Float32Array): { rms: number; samples: number } {
  let sum = 0;
  let count = 0;
  for (const s of samples) {
    if (s === 0) continue;
    sum += s * s;
    count++;
  }
  return { rms: Math.sqrt(sum / Math.max(1, count)), samples: count };
}

/** The quietest and loudest RMS of the sound's 20 ms stretches (stereo, 48 kHz), silent ones aside. */
function levelRange(samples: Float32Array): { quietest: number; loudest: number } {
  const levels: number[] = [];
  for (let at = 0; at + 1920 <= samples.length; at += 1920) {
    const { rms, samples: count } = soundLevel(samples.subarray(at, at + 1920));
    if (count > 0) levels.push(rms);
  }
  return { quietest: Math.min(...levels), loudest: Math.max(...levels) };
}

/** A clip with video.mp4's sound, made once, and that sound as the device would play it (48 kHz stereo floats). */
const SOUND_SECONDS = 3;
let madeSoundClip: string | undefined;
const soundClip = () => (madeSoundClip ??= makeClip(fixture.dir, SOUND_SECONDS, WIDTH, "sound.mp4", true));
function soundSource(): Float32Array {
  const pcm = ffmpeg(["-i", soundClip(), "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-ar", "48000", "-"]);
  return new Float32Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 4);
}

describe("windows-x64 under wine", () => {
  let wine: WineBox;
  beforeAll(() => {
    buildTargets(["windows-x64"]);
    wine = prepareWine(join(fixture.dir, "windows"));
  }, 600_000);

  test("--version and --help print and exit 0", async () => {
    const version = await run(wine.command(["--version"]), wine.env);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(new RegExp(`^udpvid ${VERSION} \\([0-9a-f]{4,}, windows-x64\\)$`));
    const help = await run(wine.command(["send", "--help"]), wine.env);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: udpvid send");
    const usage = await run(wine.command(["frobnicate"]), wine.env);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain('unknown command "frobnicate"');
  }, 180_000);

  test("receive opens its window (SDL2.dll and the addon from the binary), shows the stream and quits on q", async () => {
    await expectWindowShowsStream({
      receiver: (args) => withoutSystemSdl(wine.command(args)),
      env: wine.env,
      clip: fixture,
      width: WIDTH,
      height: HEIGHT,
      timeoutMs: 90_000,
      // wine maps the DLLs it loads from their files: SDL2.dll beside sdl.node in udpvid's cache folder
      whileShowing: () => expect(loadedLibraries(newestPid("udpvid\\.exe receive"))).toMatch(/sdl-[0-9a-f]+\/sdl\/SDL2\.dll/i),
    });
  }, 240_000);

  test("send (sharp) → receive --headless (libturbojpeg), both udpvid.exe with their own ffmpeg: frames arrive intact", async () => {
    await expectStreams(wine.command, wine.env, join(wine.dir, "out.mjpeg"), { sharpSide: "sender" }, "stdout"); // Windows has no FIFOs
  }, 300_000);

  test("receive --headless --audio plays the sound, decoded by libopus.dll from the binary", async () => {
    const file = join(wine.dir, "sound.f32");
    // wine's Z: drive is the host's root.
    await expectPlaysSound(wine.command, wine.env, file, `Z:${file.replace(/\//g, "\\")}`, true);
  }, 180_000);
});

describe("linux-arm64 under qemu-user", () => {
  const binary = join(DIST, "udpvid-linux-arm64");
  beforeAll(() => buildTargets(["linux-arm64"]), 600_000);

  test("--version prints and exits 0", async () => {
    const version = await run(arm64Command(binary, ["--version"]));
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(new RegExp(`^udpvid ${VERSION} \\([0-9a-f]{4,}, linux-arm64\\)$`));
  }, 180_000);

  test("with no system libSDL2, receive opens its window, shows the stream and quits on q", async () => {
    await expectWindowShowsStream({
      receiver: (args) => withoutSystemSdl(arm64Command(binary, args)),
      env: { XDG_CACHE_HOME: join(fixture.dir, "arm64-window-cache") },
      clip: fixture,
      width: WIDTH,
      height: HEIGHT,
      timeoutMs: 90_000,
      // qemu maps the guest's libraries from their files: libSDL2 from the cache folder, beside the addon
      whileShowing: () => expect(loadedLibraries(newestPid("qemu-aarch64-static .*udpvid-linux-arm64 receive"))).toMatch(/arm64-window-cache\/udpvid\/[^/]+\/sdl-[0-9a-f]+\/sdl\/libSDL2-2\.0\.so\.0/),
    });
  }, 240_000);

  test("dist/SHA256SUMS keeps the sums of targets built earlier (windows-x64 above) and they check out", () => {
    const sums = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    expect(sums).toMatch(/^[0-9a-f]{64} {2}udpvid-windows-x64\.exe$/m);
    expect(sums).toMatch(/^[0-9a-f]{64} {2}udpvid-linux-arm64$/m);
    const check = Bun.spawnSync(["sha256sum", "--check", "SHA256SUMS"], { cwd: DIST, stdout: "pipe", stderr: "pipe" });
    expect(check.exitCode).toBe(0);
    expect(check.stdout.toString()).toContain("udpvid-windows-x64.exe: OK");
  });

  test("send (libturbojpeg) → receive --headless (sharp), both emulated: frames arrive intact", async () => {
    await expectStreams((args) => arm64Command(binary, args), { XDG_CACHE_HOME: join(fixture.dir, "arm64-cache") }, join(fixture.dir, "arm64.mjpeg"), { sharpSide: "receiver" }, "fifo worker");
  }, 300_000);

  test("receive --headless --audio plays the sound, decoded by the arm64 libopus from the binary", async () => {
    await expectPlaysSound((args) => arm64Command(binary, args), { XDG_CACHE_HOME: join(fixture.dir, "arm64-sound-cache") }, join(fixture.dir, "arm64-sound.f32"), join(fixture.dir, "arm64-sound.f32"), false);
  }, 180_000);

  test("its own ffmpeg decodes under qemu; as Bun's child it cannot start there (no binfmt_misc), so send says so and uses the host's", async () => {
    const cache = join(fixture.dir, "arm64-ffmpeg-cache");
    const sent = await run(arm64Command(binary, ["send", fixture.clip, "--to", "127.0.0.1:9", "--json"]), { XDG_CACHE_HOME: cache });
    expect(sent.exitCode).toBe(0);
    const ffmpeg = new Bun.Glob("udpvid/*/ffmpeg-*/ffmpeg/ffmpeg").scanSync({ cwd: cache, absolute: true }).next().value as string;
    expect(ffmpeg).toBeDefined();
    if (existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
      expect(sent.stderr).not.toContain("does not run here"); // the kernel hands arm64 children to qemu: the embedded one runs
    } else {
      expect(sent.stderr).toContain(`ffmpeg (${ffmpeg}) does not run here`);
      expect(sent.stderr).toMatch(/using \S+ffmpeg \(PATH\) instead/);
    }
    const decoded = await run(arm64Command(ffmpeg, ["-hide_banner", "-i", fixture.clip, "-frames:v", "5", "-f", "null", "-"]));
    expect(decoded.exitCode).toBe(0);
    expect(decoded.stderr).toMatch(/frame=\s*5/);
  }, 180_000);
});

describe("a binary built --headless (a server build)", () => {
  const outdir = () => join(fixture.dir, "headless-dist");
  beforeAll(() => {
    buildTargets(["linux-x64"]);
    buildTargets(["linux-x64"], ["--headless", "--outdir", outdir()]);
  }, 600_000);

  test("receive without --headless says in one line that this binary has no window, and how to watch anyway", async () => {
    await expectNoWindowMessage([join(outdir(), "udpvid-linux-x64"), "receive", "--port", "0"], "linux-x64");
  }, 60_000);

  test("it embeds no SDL and is smaller than the build with a window", () => {
    const headless = Bun.file(join(outdir(), "udpvid-linux-x64")).size;
    const full = Bun.file(join(DIST, "udpvid-linux-x64")).size;
    expect(full - headless).toBeGreaterThan(2 * 2 ** 20);
    expect(readFileSync(join(outdir(), "SHA256SUMS"), "utf8").trim().split("\n")).toHaveLength(1);
  });
});

describe("what the Linux binaries need from the system", () => {
  /** The highest version of `prefix` (GLIBC_, GLIBCXX_) among an ELF file's needed symbol versions. */
  const highest = (file: string, prefix: string): string => {
    const text = Bun.spawnSync(["readelf", "-V", "--wide", file]).stdout.toString();
    const versions = [...text.matchAll(new RegExp(`\\b${prefix}_([0-9.]+)`, "g"))].map((m) => m[1]!.split(".").map(Number));
    versions.sort((a, b) => a[0]! - b[0]! || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0));
    return versions.length ? versions.at(-1)!.join(".") : "none";
  };
  const asNumber = (version: string) => version.split(".").reduce((sum, part, i) => sum + Number(part) / 1000 ** i, 0);
  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");

  test.each(["linux-x64", "linux-arm64"])("%s: Bun and the window need glibc 2.17 and no libstdc++; sharp's libvips sets the floor the README states", (target) => {
    buildTargets([target]);
    expect(highest(join(DIST, `udpvid-${target}`), "GLIBC")).toBe("2.17");
    for (const file of ["sdl.node", "libSDL2-2.0.so.0"]) {
      const path = join(import.meta.dir, "..", "..", "build", "sdl", target, file);
      expect(asNumber(highest(path, "GLIBC"))).toBeLessThanOrEqual(asNumber("2.17"));
      expect(highest(path, "GLIBCXX")).toBe("none");
    }
    const libvips = new Bun.Glob(`build/native/@img+sharp-libvips-${target}@*/lib/libvips-cpp.so.*`).scanSync({ cwd: join(import.meta.dir, "..", ".."), absolute: true }).next().value as string;
    const glibc = highest(libvips, "GLIBC");
    const glibcxx = highest(libvips, "GLIBCXX");
    expect(readme).toContain(`glibc ≥ ${glibc} and libstdc++ from GCC ≥ 6 (\`libstdc++.so.6\`, GLIBCXX_${glibcxx})`);
    expect(readme).toContain("Bun itself and the window need only glibc 2.17");
  }, 600_000);
});
