// Start-up time of `udpvid send` to its first datagram on the wire: the
// compiled binary with a cold cache (first run: natives unpacked) and a warm
// one, against running from source with Bun, side by side in one run.
//   bun run build --target linux-x64 && bun run bench:startup [--runs 7]
// Writes bench/results/startup.md.
import { machineLine, saveResult } from "./bench/report.ts";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "udpvid-linux-x64");
const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
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
  ["binary, cold cache (first run: unpacks sharp, libvips, ffmpeg)", () => [[BINARY], { XDG_CACHE_HOME: mkdtempSync(join(work, "cold-")) }]],
  ["binary, warm cache", () => [[BINARY], { XDG_CACHE_HOME: warmCache }]],
  ["from source: bun src/cli.ts", () => [[process.execPath, join(ROOT, "src", "cli.ts")], {}]],
];
for (const [name, make] of cases) rows.push({ name, times: [] });
// Interleaved, so a noisy moment on this shared machine hits every case alike.
for (let i = 0; i < runs; i++) {
  for (const [index, [, make]] of cases.entries()) {
    const [command, env] = make();
    rows[index]!.times.push(await timeToFirstDatagram(command, env));
  }
}
rmSync(work, { recursive: true, force: true });

const sizes = readdirSync(join(ROOT, "dist"))
  .filter((f) => f.startsWith("udpvid-"))
  .map((f) => `| ${f} | ${(statSync(join(ROOT, "dist", f)).size / 2 ** 20).toFixed(1)} MiB |`);
const source = rows[2]!;
const report = [
  "# Start-up: `udpvid send video.mp4` to its first datagram",
  "",
  `${machineLine()}; ${runs} runs each, interleaved`,
  "",
  "Targets: under 300 ms warm, under 1 s cold. The time covers process start, loading libvips, finding and starting ffmpeg, decoding and encoding the first frame.",
  "",
  "| case | median (ms) | min | max | ÷ from source |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${median(r.times).toFixed(0)} | ${Math.min(...r.times).toFixed(0)} | ${Math.max(...r.times).toFixed(0)} | ${(median(r.times) / median(source.times)).toFixed(2)} |`),
  "",
  "| file in dist/ | size |",
  "|---|---|",
  ...sizes,
  "",
].join("\n");
console.log(report);
saveResult("startup.md", report);
