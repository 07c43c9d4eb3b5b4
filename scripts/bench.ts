// The speed benchmark, everything side by side in one run (this machine is
// shared and noisy: compare ratios, not absolute numbers).
//   bun run bench [--seconds-both 60] [--quick]
// Sections: sender capacity (udpvid with TurboJPEG, udpvid with sharp as before,
// ffmpeg RTP/JPEG) on three clips, and the pictures each encoder makes (PSNR);
// the lab pair's Python/OpenCV logic as a baseline and the ceiling the codecs
// allow; receiver capacity headless and under Xvfb, and its CPU per 1080p frame
// with each decoder; cost against resolution and quality; end-to-end latency
// against its floor; send + receive at 1080p30 together, with each path.
// UDPVID_JPEG=sharp runs udpvid's fallback (the path before TurboJPEG) in the
// same run. Writes bench/results/bench.md.
import { machineLine, saveResult } from "./bench/report.ts";
import { ffmpegSync, untilListening } from "./lib/processes.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeJpeg } from "../src/decoder/jpeg-decoder.ts";
import { decodeJpegWithTurbo } from "../src/decoder/turbo-jpeg-decoder.ts";
import { encodeJpeg } from "../src/encoder/jpeg-encoder.ts";
import { packetizeV2 } from "../src/packetizer/v2-packetizer.ts";
import { StreamAssembler } from "../src/reassembler/stream-assembler.ts";
import { FfmpegSource, frameBytes, scaleFilter } from "../src/source/ffmpeg-source.ts";
import { wallClockUs } from "../src/util/terminal.ts";
import { startXvfb } from "../test/helpers/xvfb.ts";
import { UDPVID_CLI, readSummary } from "./lib/udpvid-summary.ts";
import { psnr } from "./bench/frame-match.ts";
import { splitMjpeg } from "../src/recorder/mjpeg-split.ts";
import { turboJpeg, turboJpegUnavailable } from "../src/native/turbojpeg.ts";
import { encodeJpegFromPlanes } from "../src/encoder/planes-jpeg-encoder.ts";
import { i420Size } from "../src/encoder/plane-scaler.ts";
import { SPREAD_SHARE } from "../src/session/send-session.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { "seconds-both": { type: "string", default: "60" }, quick: { type: "boolean" } } });
const SECONDS_BOTH = Number(values["seconds-both"]);
const SIZES = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
] as const;
const work = mkdtempSync(join(tmpdir(), "udpvid-bench-"));
const out: string[] = [];
const say = (line = "") => {
  out.push(line);
  console.log(line);
};

// Sources: video.mp4 with film grain, so JPEGs are the size of real footage. The grain's strength sets
// what H.264 decoding costs; 7 makes it about what the issue measured on its noisy 720p clip (~7 ms of CPU
// a frame; alls=12 doubled that and made decoding, for every system alike, all there was to measure).
// Capacity runs use 20 s clips (600 frames), so start-up is a small share of each process's wall time.
const NOISE = "noise=alls=7:allf=t";
const noisy720 = join(work, "noisy-720p-10s.mp4");
const noisy720long = join(work, "noisy-720p-20s.mp4");
const noisy1080 = join(work, "noisy-1080p-20s.mp4");
const x264 = ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20"];
ffmpegSync(["-i", join(ROOT, "video.mp4"), "-vf", NOISE, ...x264, noisy720]);
ffmpegSync(["-stream_loop", "1", "-i", join(ROOT, "video.mp4"), "-vf", NOISE, ...x264, noisy720long]);
ffmpegSync(["-stream_loop", "1", "-i", join(ROOT, "video.mp4"), "-vf", `scale=1920:1080,${NOISE}`, ...x264, noisy1080]);
const FRAMES = 600;

/** A UDP port that swallows everything, so senders run without ICMP errors. */
async function sink() {
  let datagrams = 0;
  let bytes = 0;
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (_socket, data) => {
        datagrams++;
        bytes += data.length;
      },
    },
  });
  return { port: socket.port, close: () => socket.close(), get datagrams() { return datagrams; }, get bytes() { return bytes; } };
}

interface Run {
  wallS: number;
  cpuMs: number;
  stdout: string;
}

/** Runs a command to completion: wall time, and CPU time including the children it waited for (ffmpeg). */
async function measure(command: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  const child = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const stdout = await new Response(child.stdout).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}: ${await new Response(child.stderr).text()}`);
  const usage = child.resourceUsage()!;
  return { wallS: (performance.now() - started) / 1000, cpuMs: Number(usage.cpuTime.user + usage.cpuTime.system) / 1000, stdout };
}

/** ffmpeg's stdout for `args` (input from `stdin` when given); throws with what it said if it fails. */
function ffmpegOutput(args: string[], stdin?: Uint8Array): Uint8Array {
  const result = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", ...args], { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`ffmpeg ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout;
}

/** The first `count` frames of a file (or of MJPEG bytes) as raw `format` frames at width × height. */
function decodeRawFrames(input: string | Uint8Array, format: "rgb24" | "yuv420p", width: number, height: number, count: number, inputFormat?: string): Uint8Array[] {
  const scale = scaleFilter(width, height, format);
  const raw = ffmpegOutput([...(inputFormat ? ["-f", inputFormat] : []), "-i", typeof input === "string" ? input : "pipe:0", "-frames:v", String(count), "-vf", scale!, "-f", "rawvideo", "-pix_fmt", format, "pipe:1"], typeof input === "string" ? undefined : input);
  const size = frameBytes(format, width, height);
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset + size <= raw.length; offset += size) frames.push(raw.subarray(offset, offset + size));
  return frames;
}

const jpegsToMjpeg = (jpegs: Uint8Array[]) => Buffer.concat(jpegs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f1 = (x: number) => x.toFixed(1);

// ---------------------------------------------------------------------------
const ffmpegVersion = Bun.spawnSync(["ffmpeg", "-version"]).stdout.toString().split("\n")[0]!.split(" ")[2];
say(`# udpvid speed benchmark`);
say();
say(machineLine(`ffmpeg ${ffmpegVersion}`));
say();
say(`Sources: video.mp4 with film grain (ffmpeg ${NOISE}), H.264 (x264 veryfast, crf 20), 30 fps: 1280x720 for 10 s (latency) and 20 s (${FRAMES} frames, against the lab pair), 1920x1080 for 20 s. JPEG quality 80 (ffmpeg: -q:v 6; the bytes each makes a frame are in the tables). CPU includes child processes (ffmpeg).`);

// 1. Sender capacity ---------------------------------------------------------
say();
say("## Sender capacity: unpaced (--fps max) to a UDP sink, three clips, every system in the same round");
say();
const SHARP = { UDPVID_JPEG: "sharp" };
const STDOUT_READER = { UDPVID_FRAME_READER: "stdout" };
const pattern720 = join(work, "pattern-720p-20s.mp4");
ffmpegSync(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=20", ...x264, pattern720]);
const SENDER_ROWS: { clip: string; label: string; width: number; height: number }[] = [
  { clip: noisy720long, label: "detailed 720p clip", width: 640, height: 480 },
  { clip: noisy720long, label: "detailed 720p clip", width: 1280, height: 720 },
  { clip: pattern720, label: "test pattern (cheap to decode)", width: 1280, height: 720 },
  { clip: noisy1080, label: "1080p clip", width: 1920, height: 1080 },
];
const ROUNDS = values.quick ? 1 : 3;
interface SenderRun {
  fps: number;
  cpuMs: number;
  jpegBytes: number;
}
/** One unpaced send of `clip` at the row's size: frames a second of wall time, CPU a frame, JPEG bytes a frame. */
async function senderRun(system: string, row: (typeof SENDER_ROWS)[number]): Promise<SenderRun> {
  if (system === DECODE_ALONE) {
    // No sender that decodes with ffmpeg can go faster than ffmpeg decoding and dropping every frame.
    const run = await measure(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", row.clip, "-f", "null", "-"]);
    return { fps: FRAMES / run.wallS, cpuMs: run.cpuMs / FRAMES, jpegBytes: 0 };
  }
  const target = await sink();
  try {
    if (system === "ffmpeg RTP/JPEG") {
      // ffmpeg's own sender at the JPEG quality that gives udpvid's q80 bytes (-q:v 6), standard Huffman tables as udpvid.
      const run = await measure(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", row.clip, "-vf", `scale=${row.width}:${row.height}`, "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "6", "-huffman", "default", "-f", "rtp", `rtp://127.0.0.1:${target.port}`]);
      await Bun.sleep(50);
      // RTP (12 bytes) and RTP/JPEG (8) headers off each datagram, the in-band quantisation tables (132) off each frame.
      return { fps: FRAMES / run.wallS, cpuMs: run.cpuMs / FRAMES, jpegBytes: (target.bytes - 20 * target.datagrams - 132 * FRAMES) / FRAMES };
    }
    const run = await measure([process.execPath, UDPVID_CLI, "send", row.clip, "--fps", "max", "--width", String(row.width), "--height", String(row.height), "--to", `127.0.0.1:${target.port}`, "--json"], system.includes("sharp") ? SHARP : system.includes("stdout") ? STDOUT_READER : {});
    const summary = readSummary<any>(run.stdout);
    const expected = system.includes("sharp") ? "sharp" : "turbojpeg";
    if (summary.encoder.name !== expected) throw new Error(`${system} ran with ${summary.encoder.name} (${summary.encoder.detail})`);
    const reader = system.includes("TurboJPEG from planes") ? "fifo worker" : "stdout";
    if (!system.includes("sharp") && summary.frameReader !== reader) throw new Error(`${system} read its frames through ${summary.frameReader}`);
    return { fps: summary.frames / run.wallS, cpuMs: run.cpuMs / summary.frames, jpegBytes: summary.payloadBytes / summary.frames };
  } finally {
    target.close();
  }
}
const DECODE_ALONE = "ffmpeg decoding alone, every frame dropped (-f null): the ceiling";
const SENDERS = ["udpvid (TurboJPEG from planes)", "udpvid (TurboJPEG, frames through ffmpeg's stdout: before)", "udpvid (sharp from RGB: before)", "ffmpeg RTP/JPEG", DECODE_ALONE];
say(`Each row ${ROUNDS} rounds, the systems in turn within each round; fps is frames over the whole process's wall time (start-up included, for every system alike). The ratio is udpvid's fps over ffmpeg's in the same round: median and worst of the rounds.`);
say();
say("| clip | size | system | fps (median) | CPU ms/frame | JPEG KiB/frame | ÷ ffmpeg fps: median | worst |");
say("|---|---|---|---|---|---|---|---|");
for (const row of SENDER_ROWS) {
  const runs = new Map<string, SenderRun[]>(SENDERS.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // The order turns each round, so no system always runs first (a cold cache) or last.
    const order = SENDERS.map((_, i) => SENDERS[(i + round) % SENDERS.length]!);
    for (const system of order) runs.get(system)!.push(await senderRun(system, row));
  }
  const ffmpegRuns = runs.get("ffmpeg RTP/JPEG")!;
  for (const system of SENDERS) {
    const r = runs.get(system)!;
    const ratios = r.map((run, i) => run.fps / ffmpegRuns[i]!.fps);
    const kib = system === DECODE_ALONE ? "—" : f1(median(r.map((x) => x.jpegBytes)) / 1024);
    // For the ceiling, the best round says most: the ratio no sender could pass.
    const worstOrBest = system === DECODE_ALONE ? `best ${Math.max(...ratios).toFixed(2)}` : Math.min(...ratios).toFixed(2);
    say(`| ${row.label} | ${row.width}x${row.height} | ${system} | ${f1(median(r.map((x) => x.fps)))} | ${f1(median(r.map((x) => x.cpuMs)))} | ${kib} | ${median(ratios).toFixed(2)} | ${worstOrBest} |`);
  }
}
say();
say("Target: udpvid ≥ 1.3× ffmpeg RTP/JPEG's frame rate at the same size and JPEG bytes. The last row of each clip is the ceiling for any sender whose frames come from ffmpeg's H.264 decoder (udpvid's, ffmpeg's own, the lab's OpenCV): decoding the clip and dropping every frame, no scaling, no JPEG, no socket. Where it is under 1.3× ffmpeg RTP/JPEG, the target cannot be met by a sender that decodes the H.264 in software. ffmpeg's JPEG bytes are what its RTP packets carry (no JPEG headers: RFC 2435 rebuilds them); udpvid's include the headers (about 0.6 KiB).");

// 1b. What a viewer gets from each encoder: the same frames, the same decoder ------
say();
say("## Picture quality at the same settings: 30 frames of the detailed clip at 1280x720, each encoder, decoded by ffmpeg");
say();
{
  const rgbFrames = decodeRawFrames(noisy720long, "rgb24", 1280, 720, 30);
  const planeFrames = decodeRawFrames(noisy720long, "yuv420p", 1280, 720, 30);
  const turbo = turboJpeg();
  if (!turbo) throw new Error(`bench needs libturbojpeg: ${turboJpegUnavailable()}`);
  const encoders: [string, () => Promise<Uint8Array[]>][] = [
    ["udpvid: TurboJPEG from planes, q80", async () => planeFrames.map((data) => encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data }, 80))],
    // About ffmpeg's bytes: what libjpeg's tables make of the same budget.
    ["udpvid: TurboJPEG from planes, q60", async () => planeFrames.map((data) => encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data }, 60))],
    ["udpvid before: sharp from RGB, q80", async () => Promise.all(rgbFrames.map((rgb) => encodeJpeg(rgb, 1280, 720, 80)))],
    ["ffmpeg mjpeg -q:v 6 (its RTP sender's)", async () => splitMjpeg(ffmpegOutput(["-i", noisy720long, "-frames:v", "30", "-vf", "scale=1280:720", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "6", "-huffman", "default", "-f", "mjpeg", "pipe:1"]))],
  ];
  say("| encoder | JPEG KiB/frame | PSNR against the source (dB): mean | worst frame | picture |");
  say("|---|---|---|---|---|");
  for (const [name, encode] of encoders) {
    const jpegs = await encode();
    const decoded = decodeRawFrames(jpegsToMjpeg(jpegs), "rgb24", 1280, 720, 30, "mjpeg");
    const values = decoded.map((frame, i) => psnr(frame, rgbFrames[i]!));
    const bytes = jpegs.reduce((sum, j) => sum + j.length, 0) / jpegs.length;
    say(`| ${name} | ${f1(bytes / 1024)} | ${f1(values.reduce((a, b) => a + b, 0) / values.length)} | ${f1(Math.min(...values))} | 1280x720, ${decoded.length} of ${jpegs.length} decoded |`);
  }
  say();
  say("The source for PSNR is ffmpeg's RGB of each frame; udpvid's planes are full range (BT.601, as JFIF defines YCbCr), as are ffmpeg's yuvj420p.");
  say("ffmpeg's MJPEG encoder quantises all three components with one table, MPEG-1's flat intra matrix; libjpeg's (TurboJPEG's) are JPEG's Annex K tables, coarser at high frequencies and for colour, chosen for how pictures look rather than for PSNR. At about the same bytes (q60 against -q:v 6) ffmpeg's score about 3 dB more. TurboJPEG's API takes a quality, not tables.");
}

// 2. The lab pair as baseline, and the ceiling -------------------------------
say();
say("## Against the lab pair: 640x480 from the 720p source, unpaced");
say();
{
  const target = await sink();
  const labCommand = ["/usr/bin/python3", join(ROOT, "test", "peers", "lab_server.py"), noisy720long, "127.0.0.1", String(target.port), "--resize", "640x480", "--no-sleep"];
  // The baseline runs on one core (about 96 fps at 12 ms CPU a frame); left alone, OpenCV's
  // FFmpeg backend decodes on every core. Both are shown; the ratio is taken against the first.
  const labOneCore = await measure(["taskset", "-c", "0", ...labCommand]);
  const lab = await measure(labCommand);
  const v2 = await measure([process.execPath, UDPVID_CLI, "send", noisy720long, "--fps", "max", "--width", "640", "--height", "480", "--to", `127.0.0.1:${target.port}`, "--json"]);
  const v2Sharp = await measure([process.execPath, UDPVID_CLI, "send", noisy720long, "--fps", "max", "--width", "640", "--height", "480", "--to", `127.0.0.1:${target.port}`, "--json"], SHARP);
  const legacy = await measure([process.execPath, UDPVID_CLI, "send", noisy720long, "--fps", "max", "--width", "640", "--height", "480", "--protocol", "legacy", "--to", `127.0.0.1:${target.port}`, "--json"]);
  target.close();
  // The ceiling: both cores busy with the unavoidable work, decode (with scaling) and encode.
  const decode = await measure(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", noisy720long, "-f", "null", "-"]);
  // Scaling and the full-range planes TurboJPEG takes, as udpvid asks ffmpeg for them.
  const decodeScale = await measure(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", noisy720long, "-vf", scaleFilter(640, 480, "yuv420p")!, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-y", "/dev/null"]);
  const frames = decodeRawFrames(noisy720long, "yuv420p", 640, 480, 60);
  const turbo = turboJpeg()!;
  const cpuBefore = process.cpuUsage();
  for (const data of frames) encodeJpegFromPlanes(turbo, { width: 640, height: 480, data }, 80);
  const cpu = process.cpuUsage(cpuBefore);
  const encodeMs = (cpu.user + cpu.system) / 1000 / frames.length;
  const decodeMs = decode.cpuMs / FRAMES;
  const scaleMs = (decodeScale.cpuMs - decode.cpuMs) / FRAMES;
  const ceiling = (cpus().length * 1000) / (decodeMs + Math.max(0, scaleMs) + encodeMs);
  const labFps = FRAMES / labOneCore.wallS;
  say("| system | fps | CPU ms/frame | ÷ lab pair (one core) |");
  say("|---|---|---|---|");
  say(`| the lab pair's logic (Python/OpenCV, no sleep), on one core (taskset -c 0) | ${f1(labFps)} | ${f1(labOneCore.cpuMs / FRAMES)} | 1.00 |`);
  say(`| the lab pair's logic, free to use both cores | ${f1(FRAMES / lab.wallS)} | ${f1(lab.cpuMs / FRAMES)} | ${(FRAMES / lab.wallS / labFps).toFixed(2)} |`);
  say(`| udpvid v2 --fps max | ${f1(FRAMES / v2.wallS)} | ${f1(v2.cpuMs / FRAMES)} | ${(FRAMES / v2.wallS / labFps).toFixed(2)} |`);
  say(`| udpvid v2 --fps max, sharp from RGB (before) | ${f1(FRAMES / v2Sharp.wallS)} | ${f1(v2Sharp.cpuMs / FRAMES)} | ${(FRAMES / v2Sharp.wallS / labFps).toFixed(2)} |`);
  say(`| udpvid legacy --fps max | ${f1(FRAMES / legacy.wallS)} | ${f1(legacy.cpuMs / FRAMES)} | ${(FRAMES / legacy.wallS / labFps).toFixed(2)} |`);
  say(`| ffmpeg decoding the clip alone, every frame dropped (-f null): no sender fed by ffmpeg's decoder goes faster | ${f1(FRAMES / decode.wallS)} | ${f1(decodeMs)} | ${(FRAMES / decode.wallS / labFps).toFixed(2)} |`);
  say(`| ceiling: ${cpus().length} cores ÷ (decode ${f1(decodeMs)} + scale to full-range planes ${f1(Math.max(0, scaleMs))} + TurboJPEG encode ${f1(encodeMs)} ms CPU) | ${f1(ceiling)} | | ${(ceiling / labFps).toFixed(2)} |`);
  say();
  say(`Target: udpvid ≥ 2× the lab pair (on one core, as the issue measured it: ${(FRAMES / v2.wallS / labFps).toFixed(2)}×). udpvid v2 reaches ${((FRAMES / v2.wallS / ceiling) * 100).toFixed(0)}% of the ceiling, and ${(FRAMES / v2.wallS / (FRAMES / lab.wallS)).toFixed(2)}× the lab pair using both cores; decoding alone is ${(lab.wallS / decode.wallS).toFixed(2)}× the lab pair using both cores, so 2× that is out of any such sender's reach.`);
}

// 3. Receiver capacity ---------------------------------------------------------
say();
say("## Receiver capacity: 1080p JPEG frames offered at 120 fps; what it decodes and shows");
say();
const jpegs1080: Uint8Array[] = [];
{
  const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: noisy1080 });
  for await (const frame of source.frames()) {
    if (jpegs1080.length >= 90) break;
    jpegs1080.push(await encodeJpeg(frame.pixels, 1920, 1080, 80));
  }
  source.close();
}
/** Streams the ready-made JPEGs as v2 at `fps` for `seconds`, from this process (no encoding cost). */
async function offer(port: number, fps: number, seconds: number, lowLatencyBurst = false): Promise<number> {
  const socket = await Bun.udpSocket({});
  const streamId = 0x1234;
  const start = performance.now();
  let n = 0;
  for (; performance.now() - start < seconds * 1000; n++) {
    const due = start + (n * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const datagrams = packetizeV2(jpegs1080[n % jpegs1080.length]!, { streamId, frameNumber: n, captureTimeUs: wallClockUs() });
    // Spread over half the interval, a datagram at a time, so the socket buffer never overflows.
    const spread = lowLatencyBurst ? 0 : 500 / fps / datagrams.length;
    for (const [i, d] of datagrams.entries()) {
      socket.send(d, port, "127.0.0.1");
      if (spread && i % 16 === 15) await Bun.sleep(spread * 16);
    }
  }
  socket.close();
  return n;
}
/** `udpvid receive --port 0 ARGS`, once it says where it listens. */
async function startReceiver(args: string[], env: Record<string, string> = {}) {
  const receiver = Bun.spawn([process.execPath, UDPVID_CLI, "receive", "--port", "0", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const { port } = await untilListening(receiver);
  return { receiver, port };
}

/** CPU ticks (user + system) a running process has used so far, from /proc/PID/stat, in ms. */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name (which may hold spaces) start after its closing parenthesis; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** A receiver offered 1080p frames at `fps`: frames shown, and its CPU over the offer alone (read from outside: start-up left out). */
async function receiverRun(headless: boolean, fps: number, seconds: number, env: Record<string, string>): Promise<{ shown: number; offered: number; cpuMs: number; decoder: string }> {
  await using x = headless ? undefined : await startXvfb(2000, 1200);
  const { receiver, port } = await startReceiver(["--json", ...(headless ? ["--headless"] : [])], { ...(x ? { DISPLAY: x.display } : {}), ...env });
  await Bun.sleep(500);
  // From here: the receiver is up and idle, so its start-up is left out.
  const cpuBefore = procCpuMs(receiver.pid);
  const offered = await offer(port, fps, seconds);
  await Bun.sleep(300);
  const cpuMs = procCpuMs(receiver.pid) - cpuBefore;
  receiver.kill("SIGINT");
  const summary = readSummary<any>(await new Response(receiver.stdout).text());
  await receiver.exited;
  return { shown: summary.framesShown, offered, cpuMs, decoder: `${summary.decoder.name} → ${summary.decoder.output}` };
}
say(`| receiver | decoder | offered fps | shown fps | CPU ms/frame shown |`);
say("|---|---|---|---|---|");
const capacitySeconds = values.quick ? 3 : 6;
for (const headless of [true, false]) {
  for (const env of [{}, SHARP]) {
    const r = await receiverRun(headless, 120, capacitySeconds, env);
    say(`| ${headless ? "--headless (decode only)" : "window under Xvfb (decode + display)"} | ${r.decoder} | ${f1(r.offered / capacitySeconds)} | ${f1(r.shown / capacitySeconds)} | ${f1(r.cpuMs / r.shown)} |`);
  }
}
say();
say("The window opens at the stream's size, shrunk to 90% of the screen: 1800x1013 for 1080p on this 2000x1200 virtual screen. Xvfb renders in software, so every pixel of a bigger window costs CPU; a GPU-composited desktop costs less. CPU is read from /proc/PID/stat over the offer alone.");

say();
say("## Receiver CPU per 1080p frame shown, 30 fps, window under Xvfb: TurboJPEG to planes and an IYUV texture, against sharp to RGBA (before)");
say();
{
  const seconds = values.quick ? 4 : 10;
  const ratios: number[] = [];
  say("| round | TurboJPEG + IYUV: shown, CPU ms/frame | sharp + RGBA: shown, CPU ms/frame | ratio |");
  say("|---|---|---|---|");
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating which goes first.
    const pair = round % 2 ? [SHARP, {}] : [{}, SHARP];
    const [a, b] = [await receiverRun(false, 30, seconds, pair[0]!), await receiverRun(false, 30, seconds, pair[1]!)];
    const [turbo, before] = round % 2 ? [b, a] : [a, b];
    const ratio = turbo.cpuMs / turbo.shown / (before.cpuMs / before.shown);
    ratios.push(ratio);
    say(`| ${round + 1} | ${turbo.shown}, ${f1(turbo.cpuMs / turbo.shown)} | ${before.shown}, ${f1(before.cpuMs / before.shown)} | ${ratio.toFixed(2)} |`);
  }
  say();
  say(`Target: ≤ 0.6× before. Median ${median(ratios).toFixed(2)}, worst ${Math.max(...ratios).toFixed(2)}.`);
}

// 4. Codec costs: scaling with resolution and quality (used for the latency floor too)
say();
say("## Cost against resolution and quality, one frame at a time on this thread: each codec in its own loop over 30 frames, the least median of 3 loops; TurboJPEG on planes against sharp on RGB (before)");
say();
say("| size | quality | JPEG KiB (TurboJPEG / sharp) | TurboJPEG encode ms | sharp encode ms | TurboJPEG decode to planes ms | sharp decode to RGBA ms |");
say("|---|---|---|---|---|---|---|");
const codec = new Map<string, { encodeMs: number; decodeMs: number }>();
{
  const turbo = turboJpeg()!;
  for (const [w, h] of SIZES) {
    const rgbs = decodeRawFrames(noisy1080, "rgb24", w, h, 30);
    const planes = decodeRawFrames(noisy1080, "yuv420p", w, h, 30);
    for (const quality of [50, 80, 95]) {
      const tjs = planes.map((data) => encodeJpegFromPlanes(turbo, { width: w, height: h, data }, quality));
      const shs = await Promise.all(rgbs.map((rgb) => encodeJpeg(rgb, w, h, quality)));
      const tjBytes = tjs.reduce((sum, j) => sum + j.length, 0);
      const shBytes = shs.reduce((sum, j) => sum + j.length, 0);
      // Each codec in a loop of its own (interleaved, one library's threads and caches disturbed the next's timing: a
      // 720p decode read 5.3 ms at q80 and 1.6 at q50), three times over: the least of the three medians, as the floor
      // needs what a frame costs, not what a busy moment of this shared machine adds to it.
      const leastMedian = async (run: (i: number) => unknown) => {
        const medians: number[] = [];
        for (let round = 0; round < 3; round++) {
          const round_: number[] = [];
          for (let i = 0; i < rgbs.length; i++) {
            const t = performance.now();
            await run(i);
            round_.push(performance.now() - t);
          }
          medians.push(median(round_));
        }
        return Math.min(...medians);
      };
      const tjEnc = await leastMedian((i) => encodeJpegFromPlanes(turbo, { width: w, height: h, data: planes[i]! }, quality));
      const shEnc = await leastMedian((i) => encodeJpeg(rgbs[i]!, w, h, quality));
      // Into one buffer, reused, as the receiver's decoder does (a fresh 1080p buffer a frame, faulted in page by
      // page, took the decode from 3.8 ms, the receiver's own median, to 11.6).
      const planesOut = new Uint8Array(i420Size(w, h));
      const tjDec = await leastMedian((i) => decodeJpegWithTurbo(turbo, tjs[i]!, 1e9, true, () => planesOut));
      const shDec = await leastMedian((i) => decodeJpeg(shs[i]!));
      codec.set(`${w}x${h} q${quality}`, { encodeMs: tjEnc, decodeMs: tjDec });
      codec.set(`${w}x${h} q${quality} sharp`, { encodeMs: shEnc, decodeMs: shDec });
      say(`| ${w}x${h} | ${quality} | ${(tjBytes / rgbs.length / 1024).toFixed(0)} / ${(shBytes / rgbs.length / 1024).toFixed(0)} | ${f1(tjEnc)} | ${f1(shEnc)} | ${f1(tjDec)} | ${f1(shDec)} |`);
    }
  }
}

// 4b. Where the time goes at 1080p: each stage's CPU per frame, measured on its own ---------------
say();
say("## Where the time goes at 1920x1080, quality 80: CPU per frame of each stage, measured on its own");
say();
{
  const toRaw = await measure(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", noisy1080, "-vf", scaleFilter(undefined, undefined, "yuv420p")!, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-y", "/dev/null"]);
  const c = codec.get("1920x1080 q80")!;
  const jpegs = jpegs1080.slice(0, 60);
  const timed = <T>(fn: () => T): [T, number] => {
    const t = performance.now();
    const result = fn();
    return [result, performance.now() - t];
  };
  // Warm-up pass, so JIT compilation is not counted.
  for (const [i, jpeg] of jpegs.entries()) packetizeV2(jpeg, { streamId: 1, frameNumber: i, captureTimeUs: 0 });
  const [packetized, packetizeMs] = timed(() => jpegs.map((jpeg, i) => packetizeV2(jpeg, { streamId: 2, frameNumber: i, captureTimeUs: 0 })));
  const target = await sink();
  const socket = await Bun.udpSocket({});
  let sendMs = 0;
  for (const datagrams of packetized) {
    const packets: (Uint8Array | number | string)[] = [];
    for (const d of datagrams) packets.push(d, target.port, "127.0.0.1");
    sendMs += timed(() => socket.sendMany(packets as Parameters<typeof socket.sendMany>[0]))[1];
    await Bun.sleep(2); // let the sink drain, as pacing would
  }
  socket.close();
  target.close();
  const assembler = new StreamAssembler({ maxMemoryBytes: 64 * 1024 * 1024 });
  const [, assembleMs] = timed(() => {
    for (const datagrams of packetized) for (const d of datagrams) assembler.push(d, performance.now(), "127.0.0.1");
  });
  const stages: [string, number][] = [
    ["ffmpeg: H.264 decode to full-range planes (its own threads)", toRaw.cpuMs / FRAMES],
    ["TurboJPEG: JPEG encode from planes", c.encodeMs],
    ["packetize + Reed–Solomon FEC 25%", packetizeMs / jpegs.length],
    ["socket: sendMany", sendMs / jpegs.length],
    ["reassemble (receiver, no loss)", assembleMs / jpegs.length],
    ["TurboJPEG: JPEG decode to planes", c.decodeMs],
  ];
  const total = stages.reduce((sum, [, ms]) => sum + ms, 0);
  const [slowest, slowestMs] = stages.reduce((a, b) => (b[1] > a[1] ? b : a));
  say("| stage | CPU ms/frame | share |");
  say("|---|---|---|");
  for (const [name, ms] of stages) say(`| ${name} | ${ms.toFixed(2)} | ${((100 * ms) / total).toFixed(0)}% |`);
  say(`| all stages | ${total.toFixed(1)} | 100% |`);
  say();
  say(`Slowest stage: ${slowest}, ${((100 * slowestMs) / total).toFixed(0)}% of the CPU a frame costs end to end. At 30 fps the stages need ${((total * 30) / 10).toFixed(0)}% of one core; sender and receiver share ${cpus().length}.`);
}

// 5. End-to-end latency ----------------------------------------------------------
say();
say("## End-to-end latency over loopback, 30 fps, 10 s: capture timestamp → frame handed to the display (headless receiver)");
say();
say(`The capture timestamp is the frame's presentation instant. A file's frames are encoded ahead of it (the pipeline runs ahead), so the latency measured covers send spread + network + reassembly + decode; a camera's would add the encode, so the ratio is taken on p99 + the median encode. The floor, as specified: encode + send spread (70% of the interval) + decode, each measured above in this run; with --low-latency the spread is 0. Each row ${ROUNDS} runs (a 10 s run's p99 is its 3rd-worst frame, so one run says little): the median run by p99, and the worst run's p99 and ratio.`);
say();
say("| size | mode | p50 | p95 | p99 (ms) | p99 + encode, as from a camera (ms) | floor (ms) | (p99 + encode) ÷ floor | worst run: p99 (ms), ratio | receiver's decode p50 / p99 (ms) | send time (s) |");
say("|---|---|---|---|---|---|---|---|---|---|---|");
for (const [w, h] of [SIZES[1], SIZES[2]] as const) {
  for (const lowLatency of [false, true]) {
    const runs: { l: { p50: number; p95: number; p99: number }; decode: { p50: number; p99: number }; seconds: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { receiver, port } = await startReceiver(["--headless", "--idle-timeout", "2", "--json"]);
      const source = w === 1280 ? noisy720 : noisy1080;
      const sent = await measure([process.execPath, UDPVID_CLI, "send", source, "--width", String(w), "--height", String(h), "--to", `127.0.0.1:${port}`, "--json", ...(lowLatency ? ["--low-latency"] : [])]);
      const summary = readSummary<any>(await new Response(receiver.stdout).text());
      runs.push({ l: summary.latencyMs, decode: summary.decodeMs, seconds: readSummary<any>(sent.stdout).seconds });
    }
    runs.sort((a, b) => a.l.p99 - b.l.p99);
    const { l, decode, seconds } = runs[Math.floor(runs.length / 2)]!;
    const worst = runs.at(-1)!;
    const c = codec.get(`${w}x${h} q80`)!;
    const floor = c.encodeMs + (lowLatency ? 0 : (1000 / 30) * SPREAD_SHARE) + c.decodeMs;
    // The encode happened ahead of the capture stamp (a file is read ahead); a camera's frame would
    // be encoded after it, so add it back before comparing with the floor, which counts it.
    const camera = l.p99 + c.encodeMs;
    say(`| ${w}x${h} | ${lowLatency ? "--low-latency" : "paced (default)"} | ${l.p50} | ${l.p95} | ${l.p99} | ${f1(camera)} | ${f1(floor)} | ${(camera / floor).toFixed(2)} | ${worst.l.p99}, ${((worst.l.p99 + c.encodeMs) / floor).toFixed(2)} | ${decode.p50} / ${decode.p99} | ${seconds.toFixed(3)} |`);
  }
}
say();
say("The floor takes the decode of a frame decoded alone, into a reused buffer as the receiver decodes (the least median of 3 loops above); in the receiver, decoding shares the 2 cores with the sender's ffmpeg and encoder, and its p99 is what the latency's p99 follows.");
say();
say("Targets: p99 ≤ 1.2× the floor at 720p30 (paced; it was 1.5× before TurboJPEG), and ≤ 1.5× encode + decode with --low-latency. Real time: the 10 s clip takes 10.00 s ± 0.5% (send time).");

// 6. Send and receive together at 1080p30 ----------------------------------------
say();
say(`## send at 1920x1080, 30 fps, and receive --headless on the same 2 cores, ${SECONDS_BOTH} s each: TurboJPEG, then sharp (before)`);
say();
say("| path | frames sent | skipped by the sender (late) | received | shown | skipped by the receiver (a newer frame was waiting) | corrupt | latency p99 (ms) | sender CPU ms/frame | receiver CPU ms/frame |");
say("|---|---|---|---|---|---|---|---|---|---|");
for (const [name, env] of [
  ["TurboJPEG", {}],
  ["sharp (before)", SHARP],
] as const) {
  const { receiver, port } = await startReceiver(["--headless", "--idle-timeout", "3", "--json"], env);
  const sender = Bun.spawn([process.execPath, UDPVID_CLI, "send", noisy1080, "--loop", "--to", `127.0.0.1:${port}`, "--json"], { stdout: "pipe", stderr: "ignore", env: { ...process.env, ...env } });
  await Bun.sleep(SECONDS_BOTH * 1000);
  sender.kill("SIGINT");
  const s = readSummary<any>(await new Response(sender.stdout).text());
  await sender.exited;
  const r = readSummary<any>(await new Response(receiver.stdout).text());
  await receiver.exited;
  const senderCpu = Number(sender.resourceUsage()!.cpuTime.user + sender.resourceUsage()!.cpuTime.system) / 1000;
  const receiverCpu = Number(receiver.resourceUsage()!.cpuTime.user + receiver.resourceUsage()!.cpuTime.system) / 1000;
  say(`| ${name} | ${s.frames} | ${s.framesSkipped} | ${r.framesReceived} | ${r.framesShown} | ${r.framesSkipped} | ${r.framesCorrupt} | ${r.latencyMs?.p99} | ${f1(senderCpu / s.frames)} | ${f1(receiverCpu / r.framesShown)} |`);
}
say();
say("Target: 0 frames skipped for CPU reasons. CPU per frame from each process's rusage (the sender's with its ffmpeg), start-up included.");

rmSync(work, { recursive: true, force: true });
saveResult("bench.md", out.join("\n") + "\n");
console.log("written to bench/results/bench.md");
