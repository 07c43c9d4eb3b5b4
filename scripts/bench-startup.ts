// Start-up time of `udpvid send` to its first datagram on the wire, measured
// from outside (a socket that timestamps the first arrival): the compiled
// binary with a cold cache (first run: natives unpacked) and a warm one, and
// from source with Bun, with the system's ffmpeg and with a static one, side
// by side in one run. Then the whole send of the 10 s video.mp4, process
// start to exit.
//   bun run build --target linux-x64 && bun run bench:startup [--runs 7] [--whole-runs 3] [--before DIR]
// --before DIR: a folder with an earlier build's udpvid-linux-x64 (git worktree add /tmp/before COMMIT, then
// bun run build --target linux-x64 --outdir DIR there), run in the same rounds and listed with its size.
// Writes bench/results/startup.md.
import { machineLine, saveResult } from "./bench/report.ts";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "udpvid-linux-x64");
const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, "whole-runs": { type: "string", default: "3" }, before: { type: "string" } } });
const BEFORE = values.before ? join(values.before, "udpvid-linux-x64") : undefined;
if (BEFORE && !existsSync(BEFORE)) throw new Error(`--before: no ${BEFORE}`);
/** The earlier build's commit, as its --version prints it. */
const beforeCommit = BEFORE ? (/\(([0-9a-f]{7,})/.exec(Bun.spawnSync([BEFORE, "--version"]).stdout.toString())?.[1] ?? "an earlier commit") : undefined;
/** The static ffmpeg the linux-x64 binary embeds (fetched by the build): what ffmpeg-static also installs, a single file with no shared libraries. */
const STATIC_FFMPEG = new Bun.Glob("build/native/@ffmpeg-installer+linux-x64@*/ffmpeg").scanSync({ cwd: ROOT, absolute: true }).next().value as string | undefined;
if (!STATIC_FFMPEG) throw new Error("no static ffmpeg in build/native: run bun run build --target linux-x64 first");
const systemFfmpeg = Bun.which("ffmpeg");
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), "udpvid-startup-"));

/** Milliseconds from spawning `command` to the first datagram it sends to our socket. */
async function timeToFirstDatagram(command: string[], env: Record<string, string>): Promise<number> {
  let first: (() => void) | undefined;
  const arrived = new Promise<void>((resolve) => (first = resolve));
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: () => first?.() } });
  const started = performance.now();
  const child = Bun.spawn([...command, "send", join(ROOT, "video.mp4"), "--to", `127.0.0.1:${socket.port}`], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "ignore",
  });
  const timeout = setTimeout(() => child.kill(), 20_000);
  await arrived;
  const elapsed = performance.now() - started;
  clearTimeout(timeout);
  child.kill();
  await child.exited;
  socket.close();
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: { name: string; times: number[] }[] = [];
const warmCache = join(work, "warm");
await timeToFirstDatagram([BINARY], { XDG_CACHE_HOME: warmCache }); // fills the warm cache
const cases: [string, () => [string[], Record<string, string>]][] = [
  ["binary, cold cache (first run: unpacks ffmpeg, stored zstd-compressed, and libturbojpeg)", () => [[BINARY], { XDG_CACHE_HOME: mkdtempSync(join(work, "cold-")) }]],
  ["binary, warm cache", () => [[BINARY], { XDG_CACHE_HOME: warmCache }]],
  // The path before TurboJPEG, in the same run: loading libturbojpeg must not make the start slower than it was.
  ["binary, warm cache, sharp instead (UDPVID_JPEG=sharp: libvips loads while ffmpeg starts)", () => [[BINARY], { XDG_CACHE_HOME: warmCache, UDPVID_JPEG: "sharp" }]],
  // The frames through ffmpeg's stdout, as before the FIFO reader: its mkfifo and its worker must not make the start slower.
  ["binary, warm cache, frames through ffmpeg's stdout (UDPVID_FRAME_READER=stdout: no FIFO, no worker)", () => [[BINARY], { XDG_CACHE_HOME: warmCache, UDPVID_FRAME_READER: "stdout" }]],
  ...(BEFORE
    ? ([
        [`the binary before, ${beforeCommit}: cold cache`, () => [[BEFORE], { XDG_CACHE_HOME: mkdtempSync(join(work, "cold-before-")) }]],
        [`the binary before, ${beforeCommit}: warm cache`, () => [[BEFORE], { XDG_CACHE_HOME: join(work, "warm-before") }]],
      ] as typeof cases)
    : []),
  [`from source: bun src/cli.ts, the system's ffmpeg (${systemFfmpeg})`, () => [[process.execPath, join(ROOT, "src", "cli.ts")], {}]],
  ["from source: bun src/cli.ts, a static ffmpeg (FFMPEG_BIN)", () => [[process.execPath, join(ROOT, "src", "cli.ts")], { FFMPEG_BIN: STATIC_FFMPEG }]],
];
if (BEFORE) await timeToFirstDatagram([BEFORE], { XDG_CACHE_HOME: join(work, "warm-before") });
for (const [name, make] of cases) rows.push({ name, times: [] });
// Interleaved, so a noisy moment on this shared machine hits every case alike.
for (let i = 0; i < runs; i++) {
  for (const [index, [, make]] of cases.entries()) {
    const [command, env] = make();
    rows[index]!.times.push(await timeToFirstDatagram(command, env));
  }
}

/** Milliseconds from spawning `udpvid send video.mp4` (10.0 s) to its exit. */
async function wholeSend(command: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([...command, "send", join(ROOT, "video.mp4"), "--to", "127.0.0.1:9", "--quiet"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "ignore" });
  if ((await child.exited) !== 0) throw new Error(`${command.join(" ")} send failed`);
  return performance.now() - started;
}
// The whole send from a warm cache only: a cold start is timed above.
const wholeCases = cases.filter(([name]) => !name.includes("cold cache"));
const wholeRows = wholeCases.map(([name]) => ({ name, times: [] as number[] }));
for (let i = 0; i < Number(values["whole-runs"]); i++) {
  for (const [index, [, make]] of wholeCases.entries()) {
    const [command, env] = make();
    wholeRows[index]!.times.push(await wholeSend(command, env));
  }
}
rmSync(work, { recursive: true, force: true });

const sizes = readdirSync(join(ROOT, "dist"))
  .filter((f) => f.startsWith("udpvid-"))
  .map((f) => `| ${f} | ${(statSync(join(ROOT, "dist", f)).size / 2 ** 20).toFixed(1)} MiB |`);
if (BEFORE) sizes.push(`| udpvid-linux-x64 before, ${beforeCommit} (--before) | ${(statSync(BEFORE).size / 2 ** 20).toFixed(1)} MiB |`);
const source = rows.find((r) => r.name.startsWith("from source: bun src/cli.ts, the system's"))!;
const report = [
  "# Start-up: `udpvid send video.mp4` to its first datagram",
  "",
  `${machineLine()}; ${runs} runs each, interleaved`,
  "",
  "Targets: 200 ms warm (binary and from source), under 1 s cold, TurboJPEG's no slower than sharp's, the FIFO reader's no slower than stdout's, and (issue 24) the binary no slower than the binary before TurboJPEG (`--before`: built at the commit before it, run in the same rounds), all in the same run. The time covers process start, finding and starting ffmpeg (and the sound's ffmpeg beside it), loading the JPEG encoder (libturbojpeg; for sharp, libvips while ffmpeg starts), decoding and encoding the first frame. Absolute times follow how busy this shared machine is (the binary's warm start measured 120 ms on 2026-11-30, 244 on a busy 2026-12-05), so compare rows of one run. The binaries carry their code as JSC bytecode (scripts/build.ts), so nothing is parsed at start (first datagram 233 ms median against 269 without on 2026-12-05), for 3.4 MiB more; and they store ffmpeg and libvips zstd-compressed, which the first run decompresses into the cache folder (the cold rows).",
  "A distribution's ffmpeg is dynamically linked (Debian 12's loads about 215 shared libraries): starting it costs about 100 ms more than a static one, which is what the binaries embed and what ffmpeg-static installs.",
  "",
  "| case | median (ms) | min | max | ÷ from source |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${median(r.times).toFixed(0)} | ${Math.min(...r.times).toFixed(0)} | ${Math.max(...r.times).toFixed(0)} | ${(median(r.times) / median(source.times)).toFixed(2)} |`),
  "",
  `## The whole send of video.mp4 (300 frames, 10.0 s at 30 fps), process start to exit; ${values["whole-runs"]} runs each`,
  "",
  "Target: 10.3 s.",
  "",
  "| case | median (s) | min | max |",
  "|---|---|---|---|",
  ...wholeRows.map((r) => `| ${r.name} | ${(median(r.times) / 1000).toFixed(2)} | ${(Math.min(...r.times) / 1000).toFixed(2)} | ${(Math.max(...r.times) / 1000).toFixed(2)} |`),
  "",
  "| file in dist/ | size |",
  "|---|---|",
  ...sizes,
  "",
].join("\n");
console.log(report);
saveResult("startup.md", report);
