// Lip sync, measured from outside udpvid, and what the sound costs:
//   bun run bench:av [--seeds N] [--only NAME] [--verbose]   (--only: the row of that name, else every row whose name has it)
// video.mp4 flashes a white square and beeps for the first 100 ms of every
// second. The receiver runs with its window under Xvfb and its sound on SDL's
// disk driver. x11grab watches the square's corner of the window at 250
// frames a second (its timestamps are the wall clock); this script watches
// the sound file grow, every millisecond, on the same clock. Each flash is
// paired with its beep: the offset is when the flash was seen minus when the
// beep was written out (positive: the picture late). Rows: loopback, 5%
// random loss and a 25 -> 6 -> 25 Mbit/s step through the relay; and the
// same loopback run without sound, for the CPU the sound costs each side.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineLine, saveResult } from "./bench/report.ts";
import { cpuMs, ffmpegVersion } from "./lib/processes.ts";
import { finish, lastJson, startCommand, startUdpvid } from "../test/helpers/udpvid.ts";
import { findWindows, startXvfb, UDPVID_WINDOW, windowGeometry } from "../test/helpers/xvfb.ts";
import type { ReceiveSummary } from "../src/commands/receive.ts";
import type { SendSummary } from "../src/commands/send.ts";
import { DEVICE_BUFFER_SAMPLES } from "../src/speaker/sdl-speaker.ts";

const ROOT = join(import.meta.dir, "..");
/** How often x11grab looks at the flash's corner of the window. */
const GRAB_FPS = 250;
/**
 * The square x11grab watches, from the window's top left. The flash is a
 * 160-pixel square 40 pixels in from the top left of the picture
 * (make-video.sh): this is inside it at the stream's size and at the waiting
 * window's (960x540: the picture drawn at 0.75 until the window has grown,
 * the flash at 30-150).
 */
const GRAB = { x: 60, y: 60, size: 80 };

const { values } = parseArgs({ options: { seeds: { type: "string", default: "3" }, only: { type: "string" }, verbose: { type: "boolean", default: false } } });
const SEEDS = Number(values.seeds);

interface Row {
  name: string;
  relay?: string[];
  sound: boolean;
  /** Without the return path: neither side sends or hears feedback (no NACKs, no reports). */
  noFeedback?: boolean;
  /** ffmpeg sends instead of udpvid: RTP/JPEG and RTP/Opus to the receiver's port (interop: no capture clock in common, see RtpCaptureClock). */
  ffmpegRtp?: boolean;
}
const ROWS: Row[] = [
  { name: "loopback", sound: true },
  { name: "5% random loss", relay: ["--loss", "5"], sound: true },
  { name: "5% random loss, no return path", relay: ["--loss", "5"], sound: true, noFeedback: true },
  { name: "25 -> 6 -> 25 Mbit/s", relay: ["--rate", "25,6@10s,25@20s"], sound: true },
  { name: "ffmpeg RTP/JPEG + RTP/Opus, loopback", sound: true, ffmpegRtp: true },
  { name: "loopback, --no-audio", sound: false },
].filter((row, _, all) => !values.only || (all.some((r) => r.name === values.only) ? row.name === values.only : row.name.includes(values.only)));
/**
 * video.mp4's kind, 30 s long (29 or 30 flash-and-beep pairs a run: enough
 * for a 95th percentile), made once by the script that makes video.mp4. Not
 * video.mp4 looped: each copy's AAC priming (21 ms) would shift the sound.
 */
const CLIP_SECONDS = 30;
const clipDir = mkdtempSync(join(tmpdir(), "udpvid-av-clip-"));
const CLIP = join(clipDir, "video-30s.mp4");
const made = Bun.spawnSync(["bash", join(ROOT, "scripts/make-video.sh"), CLIP, String(CLIP_SECONDS)]);
if (made.exitCode !== 0) throw new Error(`could not make the ${CLIP_SECONDS} s clip: ${made.stderr.toString()}`);

interface RunResult {
  offsetsMs: number[];
  /** Capture -> seen for each flash, and capture -> played for each beep, ms on the wall clock (empty when ffmpeg sent: no capture clock known). */
  pictureLatencyMs: number[];
  soundLatencyMs: number[];
  receive: ReceiveSummary;
  /** udpvid's send summary (undefined when ffmpeg sent). */
  send: SendSummary | undefined;
  senderCpuMs: number;
  receiverCpuMs: number;
}

const wallUs = () => (performance.timeOrigin + performance.now()) * 1000;

/**
 * The instruments (Xvfb, x11grab, this script's poll of the sound file) run
 * at a higher priority than udpvid and its peers: on two shared cores their
 * own delays otherwise read as udpvid's. (A desktop's compositor is likewise
 * favoured.) udpvid's processes are started at the normal priority, and take
 * as much CPU as before: if anything, less.
 */
const INSTRUMENT_PRIORITY = -10;
const favour = (pid: number) => {
  try {
    setPriority(pid, INSTRUMENT_PRIORITY);
  } catch {
    // Not root: measured at the normal priority, as before.
  }
};

async function run(row: Row, seed: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "udpvid-av-"));
  // Children inherit this process's priority: udpvid's start at the normal one.
  setPriority(0);
  await using x = await startXvfb(1920, 1080);
  for (const pid of Bun.spawnSync(["pgrep", "-f", `^Xvfb ${x.display} `]).stdout.toString().split(/\s+/).filter(Boolean)) favour(Number(pid));
  const audioFile = join(dir, "sound.f32");
  const noFeedback = row.noFeedback ? ["--no-feedback"] : [];
  await using receiver = startUdpvid(["receive", "--port", "0", "--json", "--idle-timeout", "3", ...noFeedback], { DISPLAY: x.display, SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: audioFile });
  const port = await receiver.listening;
  await using relay = row.relay ? startUdpvid(["relay", "--listen", "0", "--to", `127.0.0.1:${port}`, "--seed", String(seed), "--json", ...row.relay]) : undefined;
  const target = relay ? await relay.listening : port;

  // The sound file's size on the wall clock, every millisecond.
  const growth: { atUs: number; bytes: number }[] = [];
  const poll = setInterval(() => {
    if (!existsSync(audioFile)) return;
    const bytes = statSync(audioFile).size;
    if (growth.length === 0 || growth.at(-1)!.bytes !== bytes) growth.push({ atUs: wallUs(), bytes });
  }, 1);

  const sender = row.ffmpegRtp
    ? startCommand([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", CLIP,
        "-map", "0:v", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "4", "-huffman", "default", "-f", "rtp", `rtp://127.0.0.1:${target}?rtcpport=${target}`,
        "-map", "0:a", "-c:a", "libopus", "-b:a", "96k", "-frame_duration", "20", "-f", "rtp", `rtp://127.0.0.1:${target}?rtcpport=${target}`,
      ])
    : startUdpvid(["send", CLIP, "--to", `127.0.0.1:${target}`, "--json", ...noFeedback, ...(row.sound ? [] : ["--no-audio"])]);
  favour(process.pid);
  // x11grab starts as soon as the window is there, before the first frame (the first flash is a run's first pair):
  // it watches GRAB's square, inside the flash both at the waiting window's size and at the stream's.
  const opened = await udpvidWindow(x.display, () => true);
  const grabber = opened
    ? Bun.spawn(
        ["ffmpeg", "-hide_banner", "-nostdin", "-copyts", "-f", "x11grab", "-draw_mouse", "0", "-framerate", String(GRAB_FPS), "-video_size", `${GRAB.size}x${GRAB.size}`, "-i", `${x.display}+${opened.x + GRAB.x},${opened.y + GRAB.y}`, "-vf", "showinfo", "-f", "null", "-"],
        { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      )
    : undefined;
  const grabbed = grabber ? new Response(grabber.stderr).text() : undefined;
  // The window grew from its top left (no window manager moves it): the square watched is still where the flash is.
  const grown = opened ? await udpvidWindow(x.display, (g) => g.width === 1280) : undefined;
  if (opened && grown && (grown.x !== opened.x || grown.y !== opened.y)) throw new Error(`${row.name}: the window moved as it grew (${JSON.stringify(grown)}, grabbed at ${JSON.stringify(opened)})`);
  const sent = await finish(sender, 60_000);
  const received = await finish(receiver, 60_000);
  clearInterval(poll);
  grabber?.kill("SIGINT");
  relay?.kill();
  await grabber?.exited;
  if (sent.exitCode !== 0 || received.exitCode !== 0) throw new Error(`${row.name}: send exited ${sent.exitCode}, receive ${received.exitCode}: ${received.stderr}`);
  const flashes = flashTimesUs((await grabbed) ?? "");
  const beeps = existsSync(audioFile) ? beepTimesUs(readFileSync(audioFile), growth) : [];
  const send = row.ffmpegRtp ? undefined : lastJson<SendSummary>(sent.stdout);
  const clockStartUs = send?.clockStartUs ?? undefined;
  const result = {
    offsetsMs: pairOffsets(flashes, beeps),
    pictureLatencyMs: clockStartUs === undefined ? [] : sinceCaptureMs(flashes, clockStartUs),
    soundLatencyMs: clockStartUs === undefined ? [] : sinceCaptureMs(beeps, clockStartUs),
    receive: lastJson<ReceiveSummary>(received.stdout),
    send,
    senderCpuMs: cpuMs(sender.process),
    receiverCpuMs: cpuMs(receiver.process),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** The udpvid window's geometry once `ready` says so: looked at every 25 ms, for 10 s at most (undefined: it never was). */
async function udpvidWindow(display: string, ready: (g: ReturnType<typeof windowGeometry>) => boolean): Promise<ReturnType<typeof windowGeometry> | undefined> {
  for (let i = 0; i < 400; i++) {
    await Bun.sleep(25);
    const id = findWindows(display, UDPVID_WINDOW)[0];
    const g = id ? windowGeometry(display, id) : undefined;
    if (g && g.width > 0 && ready(g)) return g;
  }
  return undefined;
}

/**
 * When the square turned white, by x11grab's timestamps (µs, wall clock):
 * frames whose mean luma crosses the middle upwards, less half a grab
 * period (the first grab to see it comes that long after, on average).
 */
function flashTimesUs(showinfo: string): number[] {
  const times: number[] = [];
  let bright = false;
  for (const match of showinfo.matchAll(/pts:\s*(\d+).*?mean:\[(\d+)/g)) {
    const luma = Number(match[2]);
    if (!bright && luma > 160) {
      times.push(Number(match[1]) - 1e6 / GRAB_FPS / 2);
      bright = true;
    } else if (bright && luma < 96) bright = false;
  }
  return times;
}

/** How far from a sample the polls that time it may be (see beepTimesUs). */
const WINDOW_US = 20_000;
/** What SDL's disk driver writes per buffer it plays: DEVICE_BUFFER_SAMPLES stereo float samples. */
const DEVICE_BUFFER_BYTES = DEVICE_BUFFER_SAMPLES * 8;

/**
 * When each beep was played out, µs on the wall clock: the first loud sample
 * after a quiet stretch, placed in time by when the file grew past it. The
 * disk driver "plays" a buffer by writing it out, then sleeping as long as
 * it lasts; its writes go through stdio (4 KB), so the file grows by the
 * buffer just begun and any before it still held (strace: 4096-byte writes
 * every second 256-sample buffer). So a write that ends at byte E, seen at
 * T, says: the buffer ending at E began at T at the latest, and the device
 * plays steadily. The poll that sees a write can come late (this process
 * shares two cores with both ends, Xvfb and x11grab), never early: a sample
 * is timed by the earliest the polls within 20 ms of it allow, at the
 * device's rate over the run (its sleeps vary with the load: the wider the
 * window, the more a local rate off the mean misplaces it).
 */
function beepTimesUs(file: Buffer, growth: { atUs: number; bytes: number }[]): number[] {
  const samples = new Float32Array(file.buffer, file.byteOffset, Math.floor(file.byteLength / 8) * 2);
  if (growth.length < 2) return [];
  const bytesPerUs = (growth.at(-1)!.bytes - growth[0]!.bytes) / (growth.at(-1)!.atUs - growth[0]!.atUs);
  const times: number[] = [];
  // The file starts with the first sound played, the first beep at once: it counts as coming after a quiet stretch.
  let quietSince = -Infinity;
  for (let i = 0; i < samples.length / 2; i++) {
    const loud = Math.abs(samples[2 * i]!) > 0.2;
    if (loud && i - quietSince > 48_000 / 2) {
      const byte = i * 8;
      let earliest = Infinity;
      for (const g of growth) {
        const lastBufferStart = g.bytes - DEVICE_BUFFER_BYTES;
        if (Math.abs(lastBufferStart - byte) > bytesPerUs * WINDOW_US) continue;
        earliest = Math.min(earliest, g.atUs + (byte - lastBufferStart) / bytesPerUs);
      }
      if (Number.isFinite(earliest)) times.push(earliest);
    }
    if (loud) quietSince = i;
  }
  return times;
}

/** Each flash against the nearest beep (within half a second): ms, positive when the picture came later. */
function pairOffsets(flashes: number[], beeps: number[]): number[] {
  const offsets: number[] = [];
  for (const flash of flashes) {
    let best: number | undefined;
    for (const beep of beeps) if (best === undefined || Math.abs(flash - beep) < Math.abs(flash - best)) best = beep;
    if (best !== undefined && Math.abs(flash - best) < 500_000) offsets.push((flash - best) / 1000);
  }
  return offsets;
}

/**
 * Each flash or beep seen at `timesUs` less when it was captured, ms: the
 * clip flashes and beeps at each whole second, and the sender stamps frame 0
 * and sound sample 0 with the wall clock at `clockStartUs` (its summary), so
 * the one at n s was captured at clockStartUs + n s. Each is taken to be
 * the last one captured before it was seen (latencies are under a second).
 */
function sinceCaptureMs(timesUs: number[], clockStartUs: number): number[] {
  return timesUs.map((t) => ((t - clockStartUs) % 1e6) / 1000).filter((ms) => ms >= 0);
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");

const table: string[] = [];
const cpu: Record<string, { send: number[]; receive: number[] }> = {};
for (const row of ROWS) {
  const results: RunResult[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = await run(row, seed);
    results.push(result);
    console.error(`${row.name} seed ${seed}: ${result.offsetsMs.length} pairs, offsets ${result.offsetsMs.map((o) => o.toFixed(1)).join(" ")}; latency p50 / p99 sound ${f1(percentile(result.soundLatencyMs, 50))} / ${f1(percentile(result.soundLatencyMs, 99))}, picture ${f1(percentile(result.pictureLatencyMs, 50))} / ${f1(percentile(result.pictureLatencyMs, 99))} ms`);
    // --verbose: what each side said of the sound, and the frames either side left out, for finding why a row is off.
    if (values.verbose) {
      const frames = { senderSkipped: result.send?.framesSkipped, senderLeftOutForRate: result.send?.framesSkippedForRate, receiverSkipped: result.receive.framesSkipped, droppedIncomplete: result.receive.framesDroppedIncomplete };
      console.error(`  picture latency by flash: ${result.pictureLatencyMs.map((ms) => ms.toFixed(0)).join(" ")}; sound by beep: ${result.soundLatencyMs.map((ms) => ms.toFixed(0)).join(" ")}`);
      console.error(JSON.stringify({ frames, sound: result.receive.sound, avSync: result.receive.avSync, audio: result.receive.audio, returnPath: result.receive.returnPath, senderReturnPath: result.send?.returnPath }));
    }
  }
  // ffmpeg's own CPU is no measure of udpvid's: that row's sender column is left out.
  if (!row.ffmpegRtp) cpu[row.name] = { send: results.map((r) => r.senderCpuMs / r.send!.seconds / 10), receive: results.map((r) => r.receiverCpuMs / r.receive.seconds / 10) };
  if (!row.sound) continue;
  // The worst seed: the one whose 95th percentile offset is furthest from zero.
  const worst = results.reduce((a, b) => (percentile(b.offsetsMs.map(Math.abs), 95) > percentile(a.offsetsMs.map(Math.abs), 95) ? b : a));
  const abs = worst.offsetsMs.map(Math.abs);
  const s = worst.receive.sound;
  const concealed = s ? (100 * s.concealed) / Math.max(1, s.played + s.concealed) : NaN;
  table.push(
    `| ${row.name} | ${worst.offsetsMs.length} | ${f1(percentile(worst.offsetsMs, 50))} | ${f1(percentile(abs, 95))} | ${f1(Math.max(...abs))} | ` +
      `${f1(percentile(worst.soundLatencyMs, 50))} / ${f1(percentile(worst.soundLatencyMs, 99))} | ${f1(percentile(worst.pictureLatencyMs, 50))} / ${f1(percentile(worst.pictureLatencyMs, 99))} | ${f1(worstDifference(results))} | ` +
      `${f1(s?.latencyMs?.p99 ?? NaN)} | ${f1(worst.receive.latencyMs?.p99 ?? NaN)} | ${f1(Math.max(...results.map((r) => (r.receive.sound ? (100 * r.receive.sound.concealed) / Math.max(1, r.receive.sound.played + r.receive.sound.concealed) : NaN))))}% (this seed ${f1(concealed)}%) |`,
  );
}
/** Over the seeds, the most the sound's outside p99 latency came above the picture's (negative: below in every seed), ms. */
function worstDifference(results: RunResult[]): number {
  const differences = results.filter((r) => r.soundLatencyMs.length > 0).map((r) => percentile(r.soundLatencyMs, 99) - percentile(r.pictureLatencyMs, 99));
  return differences.length ? Math.max(...differences) : NaN;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuRows = Object.entries(cpu).map(([name, c]) => `| ${name} | ${f1(mean(c.send))}% | ${f1(mean(c.receive))}% |`);

const report = [
  "# Sound and picture together (`bun run bench:av`)",
  "",
  machineLine(`ffmpeg ${ffmpegVersion()}`, `${SEEDS} seeds a row`),
  "",
  `A clip made as video.mp4 is, ${CLIP_SECONDS} s long (1280x720 at 30 fps, a flash and a beep every second), from \`udpvid send\` to \`udpvid receive\` with its window under Xvfb and its sound on SDL's disk driver, through \`udpvid relay\` where a row says. Measured from outside: x11grab watches the flash's corner of the window at 250 frames a second; the sound file's growth is sampled every millisecond on the same wall clock. A/V offset: when each flash was seen minus when its beep was played out (positive: the picture late). The instruments (Xvfb, x11grab, the poll) run at priority ${INSTRUMENT_PRIORITY}, udpvid at the normal one. The worst seed by |offset| p95 is shown; concealed: the worst seed's share of sound packets concealed. The step row: 25 Mbit/s, 6 from 10 s to 20 s, 25 again. Latency, measured outside: when each flash was seen and each beep played out, as above, less when it was captured (the sender stamps frame 0 and the sound's first sample with the wall clock it reports as clockStartUs; the clip's flashes and beeps come at each whole second); the worst seed's median and p99 of each (over a run's 29 or 30, its p99 is its slowest, one of its first: see --verbose's lists), and over all seeds the most the sound's p99 came above the picture's (negative: below in every seed). Beside them, udpvid's own figures (the receiver's --json): the sound's from where each packet sits in the device's queue, the picture's when its draw returned.`,
  "",
  "| row | pairs | offset p50 ms | abs offset p95 ms | abs offset max ms | sound capture->heard p50 / p99 ms (outside) | picture capture->seen p50 / p99 ms (outside) | sound p99 - picture p99, worst seed ms (outside) | sound p99 ms (udpvid's own) | picture p99 ms (udpvid's own) | concealed (worst seed) |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...table,
  "",
  "CPU, % of one core over the run (user + system, the sender's ffmpeg children included), mean of the seeds:",
  "",
  "| row | sender | receiver |",
  "|---|---|---|",
  ...cpuRows,
  "",
].join("\n");
console.log(report);
saveResult("av.md", report);
rmSync(clipDir, { recursive: true, force: true });
process.exit(0);
