// The browser viewer (receive --web), measured:
//   bun run bench:web [--only latency|cost|memory|decode] [--runs N] [--minutes M]
// latency: capture → drawn in Debian's chromium (headless, puppeteer-core)
//   against capture → shown in udpvid's own window under Xvfb, the same
//   frames in the same run; each run's figures, the worst run last.
// cost: what ten viewers cost the receiver over one, 720p30, in alternating
//   pairs (receiver pinned to core 0; sender and viewers to core 1). The
//   viewers are WebSocket clients that behave as the page does on the wire
//   (scripts/bench/web-clients.ts): ten browsers decoding 720p30 would take
//   the machine from the receiver being measured.
// memory: the receiver's resident memory over M minutes (default 10) of a
//   looping stream, with viewers joining, leaving and stalling every 2 s.
// decode (only when asked): createImageBitmap against an img element in chromium.
// Writes bench/results/web-latency.md, web-cost.md, web-memory.md (web-decode.md).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineLine, saveResult } from "./bench/report.ts";
import { cpuMs, rssMiB } from "./lib/processes.ts";
import { CLI, finish, lastJson, printedViewerUrl, startCommand, startUdpvid } from "../test/helpers/udpvid.ts";
import { startXvfb } from "../test/helpers/xvfb.ts";
import { flashBeepOffsetsMs, openBrowser, openViewer, pageRecording, viewerState } from "../test/helpers/browser.ts";
import type { ReceiveSummary } from "../src/commands/receive.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { only: { type: "string" }, runs: { type: "string", default: "3" }, minutes: { type: "string", default: "10" } } });
const RUNS = Number(values.runs);
const MINUTES = Number(values.minutes);
const FRAME_MS = 1000 / 30;

const work = mkdtempSync(join(tmpdir(), "udpvid-bench-web-"));
const CLIP_SECONDS = 20;
const CLIP = join(work, "clip-720p30.mp4");
const made = Bun.spawnSync(["bash", join(ROOT, "scripts/make-video.sh"), CLIP, String(CLIP_SECONDS)]);
if (made.exitCode !== 0) throw new Error(`could not make the clip: ${made.stderr.toString()}`);

const table = (header: string[], rows: string[][]) => [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
const f1 = (n: number | undefined | null) => (n === undefined || n === null ? "–" : n.toFixed(1));

async function latency(): Promise<void> {
  await using browser = await openBrowser();
  const rows: string[][] = [];
  let worst = -Infinity;
  for (let i = 0; i < 2 * RUNS; i++) {
    // Picture only, and with sound (the window then holds each frame until its sound is heard; the page plays no sound yet).
    const sound = i % 2 === 1;
    const run = Math.floor(i / 2) + 1;
    await using x = await startXvfb(1600, 900);
    await using receiver = startUdpvid(["receive", "--port", "0", "--web", "0", "--json"], { DISPLAY: x.display, SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: join(work, "sound.f32") });
    const port = await receiver.listening;
    // With sound, the page records what it plays and draws: each flash against its beep, from outside its own bookkeeping of capture times.
    const page = await openViewer(browser, `${await printedViewerUrl(receiver)}${sound ? "?record-sound" : ""}`, 1280, 720);
    const sent = await finish(startUdpvid(["send", CLIP, "--to", `127.0.0.1:${port}`, "--quiet", ...(sound ? [] : ["--no-audio"])]), 60_000);
    if (sent.exitCode !== 0) throw new Error(`send failed: ${sent.stderr}`);
    await Bun.sleep(1000);
    const drawn = (await viewerState(page)).framesDrawn;
    const offsets = sound ? flashBeepOffsetsMs(await pageRecording(page)).map(Math.abs).sort((a, b) => a - b) : [];
    const sync = offsets.length ? `${f1(offsets[Math.floor(offsets.length / 2)])} / ${f1(offsets[Math.min(offsets.length - 1, Math.ceil(offsets.length * 0.95) - 1)])} (${offsets.length})` : "–";
    await page.close();
    receiver.process.kill("SIGTERM");
    const summary = lastJson<ReceiveSummary>((await finish(receiver, 20_000)).stdout);
    const windowMs = summary.latencyMs!;
    const pageMs = summary.web?.viewers[0]?.latencyMs;
    if (!pageMs) throw new Error(`the page reported no latency: ${JSON.stringify(summary.web)}`);
    const added95 = pageMs.p95 - windowMs.p95;
    if (!sound) worst = Math.max(worst, added95);
    rows.push([String(run), sound ? "with sound" : "picture only", `${summary.framesShown}`, `${drawn}`, f1(windowMs.p50), f1(windowMs.p95), f1(pageMs.p50), f1(pageMs.p95), f1(pageMs.p50 - windowMs.p50), f1(added95), sync]);
    console.error(`latency run ${run}${sound ? " with sound" : ""}: window p95 ${windowMs.p95} ms, page p95 ${pageMs.p95} ms`);
  }
  const report = `# Browser viewer: latency

${machineLine(`chromium ${Bun.spawnSync(["/usr/bin/chromium", "--version"]).stdout.toString().trim()}`, `${RUNS} runs`)}

A ${CLIP_SECONDS} s clip made as video.mp4 is (1280x720 at 30 fps, with sound) from \`udpvid send\` to \`udpvid receive --web\` on loopback, with the receiver's window open under Xvfb (sound on SDL's disk driver) and one page in Debian's chromium (headless, 1280x720, through puppeteer-core). Window: capture → shown, as the receiver reports it. Page: capture → drawn on its canvas (decoded with createImageBitmap), as the page reports it back: the frame's age when sent, half the round trip, and how long the page held it. Target: the page adds at most one frame interval (${FRAME_MS.toFixed(1)} ms) at p95.

Frames go to the page as soon as they are whole (before the receiver decodes them). With sound, the window and the page each hold every frame until its sound is heard, each with its own sound delay (the page's starts at 100 ms and grows by half each time its sound comes late, as it does while chromium decodes 720p30 on this busy machine): those rows compare the two sound paths. The target is read on the picture-only rows. In the runs with sound the page records what it played (an AudioWorklet tap) and each picture it drew: each flash drawn against its beep heard, from what was played and drawn, not from capture times.

${table(["run", "stream", "frames shown (window)", "frames drawn (page)", "window p50, ms", "window p95", "page p50", "page p95", "added p50", "added p95", "page: flash against beep, abs median / p95, ms (pairs)"], rows)}

Worst picture-only run: the page adds ${f1(worst)} ms at p95 (target ≤ ${FRAME_MS.toFixed(1)} ms).
`;
  console.log(report);
  saveResult("web-latency.md", report);
}

interface CostRun {
  cpuMs: number;
  seconds: number;
  framesShown: number;
  perViewerPictures: number;
}

async function costRun(viewers: number): Promise<CostRun> {
  await using receiver = startCommand(["taskset", "-c", "0", process.execPath, CLI, "receive", "--headless", "--port", "0", "--web", "0", "--json"]);
  const port = await receiver.listening;
  const url = await printedViewerUrl(receiver);
  const clients = Bun.spawn(["taskset", "-c", "1", process.execPath, join(ROOT, "scripts/bench/web-clients.ts"), url, String(viewers)], { stdout: "pipe", stderr: "inherit" });
  await Bun.sleep(500);
  const started = performance.now();
  const sent = await finish(startCommand(["taskset", "-c", "1", process.execPath, CLI, "send", CLIP, "--to", `127.0.0.1:${port}`, "--no-audio", "--quiet"]), 60_000);
  if (sent.exitCode !== 0) throw new Error(`send failed: ${sent.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  clients.kill("SIGTERM");
  const counts = JSON.parse((await new Response(clients.stdout).text()).trim().split("\n").at(-1)!);
  receiver.process.kill("SIGTERM");
  const summary = lastJson<ReceiveSummary>((await finish(receiver, 20_000)).stdout);
  return { cpuMs: cpuMs(receiver.process), seconds, framesShown: summary.framesShown, perViewerPictures: counts.pictures / viewers };
}

async function cost(): Promise<void> {
  const rows: string[][] = [];
  const diffs: number[] = [];
  for (let pair = 1; pair <= RUNS; pair++) {
    // Alternating which goes first: a busy spell on this shared machine falls on both.
    const [first, second] = pair % 2 ? [1, 10] : [10, 1];
    const a = await costRun(first);
    const b = await costRun(second);
    const [one, ten] = first === 1 ? [a, b] : [b, a];
    const diff = ten.cpuMs / 10 / ten.seconds - one.cpuMs / 10 / one.seconds;
    diffs.push(diff);
    rows.push([String(pair), f1(one.cpuMs / 10 / one.seconds), f1(ten.cpuMs / 10 / ten.seconds), f1(diff), `${one.framesShown}`, `${Math.round(one.perViewerPictures)}`, `${Math.round(ten.perViewerPictures)}`]);
    console.error(`cost pair ${pair}: +${diff.toFixed(1)}% of a core for ten viewers`);
  }
  const report = `# Browser viewer: what ten viewers cost the receiver

${machineLine(`${RUNS} pairs`)}

A ${CLIP_SECONDS} s 1280x720 30 fps clip (no sound) from \`udpvid send\` to \`udpvid receive --headless --web 0\` on loopback, watched by one viewer and by ten, in alternating pairs. The receiver is pinned to core 0, the sender and the viewers to core 1; its CPU is its own (rusage), as % of one core over the stream. The viewers are WebSocket clients that behave as the page does on the wire (each picture acknowledged as it arrives, a drawn report after it; scripts/bench/web-clients.ts), not browsers: ten chromium pages decoding 720p30 would take the machine from the receiver. Target: ten viewers cost at most 10% of a core more than one.

${table(["pair", "one viewer, % of a core", "ten viewers", "ten minus one", "frames shown", "pictures per viewer (one)", "pictures per viewer (ten)"], rows)}

Worst pair: +${f1(Math.max(...diffs))}% of a core (target ≤ 10).
`;
  console.log(report);
  saveResult("web-cost.md", report);
}

async function memory(): Promise<void> {
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--web", "0", "--json"]);
  const port = await receiver.listening;
  const url = await printedViewerUrl(receiver);
  const clients = Bun.spawn([process.execPath, join(ROOT, "scripts/bench/web-clients.ts"), url, "6", "--churn-ms", "2000", "--stall-share", "0.2"], { stdout: "pipe", stderr: "inherit" });
  await using sender = startUdpvid(["send", CLIP, "--to", `127.0.0.1:${port}`, "--loop", "--quiet"]);
  const samples: { minute: number; rss: number }[] = [];
  const started = performance.now();
  while (performance.now() - started < MINUTES * 60_000) {
    await Bun.sleep(5000);
    samples.push({ minute: (performance.now() - started) / 60_000, rss: rssMiB(receiver.process.pid) });
    console.error(`memory: ${samples.at(-1)!.minute.toFixed(2)} min ${samples.at(-1)!.rss.toFixed(1)} MiB`);
  }
  sender.kill();
  clients.kill("SIGTERM");
  const counts = JSON.parse((await new Response(clients.stdout).text()).trim().split("\n").at(-1)!);
  receiver.process.kill("SIGTERM");
  const summary = lastJson<ReceiveSummary>((await finish(receiver, 20_000)).stdout);
  // Resident memory saws up and down with the garbage collector: a leak shows as a rising floor. Each minute's lowest and highest.
  const minutes = Array.from({ length: Math.floor(MINUTES) }, (_, i) => samples.filter((s) => s.minute > i && s.minute <= i + 1).map((s) => s.rss));
  const floors = minutes.map((m) => Math.min(...m));
  const peaks = minutes.map((m) => Math.max(...m));
  // The floor's slope after the first minute (start-up allocations aside), by least squares.
  const settled = floors.slice(1).map((rss, i) => ({ minute: i + 2, rss }));
  const n = settled.length;
  const mx = settled.reduce((a, s) => a + s.minute, 0) / n;
  const my = settled.reduce((a, s) => a + s.rss, 0) / n;
  const slope = settled.reduce((a, s) => a + (s.minute - mx) * (s.rss - my), 0) / settled.reduce((a, s) => a + (s.minute - mx) ** 2, 0);
  const report = `# Browser viewer: memory over ${MINUTES} minutes

${machineLine()}

\`udpvid receive --headless --web 0\` fed a looping 1280x720 30 fps clip with sound, watched by six WebSocket viewers (as the page behaves on the wire: scripts/bench/web-clients.ts) of which one leaves and a new one joins every 2 s; a fifth of the time the one leaving instead stops reading, for the receiver to drop. Resident memory every 5 s.

${table(["minute", ...minutes.map((_, i) => String(i + 1))], [["lowest RSS, MiB", ...floors.map(f1)], ["highest", ...peaks.map(f1)]])}

The lowest RSS each minute (what is left after the collector) moves ${slope.toFixed(2)} MiB a minute after the first minute. Viewers joined ${counts.joined}, left ${counts.left}, stopped reading ${counts.stalled}; the receiver dropped ${summary.web?.droppedStalled ?? "?"} as stalled and refused ${summary.web?.reportsRefused ?? "?"} malformed reports; ${summary.framesShown} frames shown.
`;
  console.log(report);
  saveResult("web-memory.md", report);
}

/** createImageBitmap against an img element, decoding and drawing the same 720p JPEGs in chromium: the page uses the faster. */
async function decode(): Promise<void> {
  const frames = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", CLIP, "-frames:v", "60", "-q:v", "4", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"]).stdout;
  const jpegs: string[] = [];
  for (let start = 0; start < frames.length; ) {
    let end = start + 2;
    while (end + 1 < frames.length && !(frames[end] === 0xff && frames[end + 1] === 0xd9)) end++;
    jpegs.push(Buffer.from(frames.subarray(start, end + 2)).toString("base64"));
    start = end + 2;
  }
  await using browser = await openBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  const rows: string[][] = [];
  for (let run = 1; run <= RUNS; run++) {
    // Written as the page's own script (this file's types have no DOM).
    const timing = (await page.evaluate(`(async (base64s) => {
      const blobs = base64s.map((b) => new Blob([Uint8Array.from(atob(b), (c) => c.charCodeAt(0))], { type: "image/jpeg" }));
      const canvas = document.createElement("canvas");
      canvas.width = 1280;
      canvas.height = 720;
      document.body.append(canvas);
      const context = canvas.getContext("2d");
      const time = async (draw) => {
        const started = performance.now();
        for (const blob of blobs) await draw(blob);
        return (performance.now() - started) / blobs.length;
      };
      const bitmap = await time(async (blob) => {
        const image = await createImageBitmap(blob);
        context.drawImage(image, 0, 0);
        context.getImageData(0, 0, 1, 1); // the drawing done, not just asked for
        image.close();
      });
      const img = await time(async (blob) => {
        const url = URL.createObjectURL(blob);
        const image = new Image();
        image.src = url;
        await image.decode();
        context.drawImage(image, 0, 0);
        context.getImageData(0, 0, 1, 1);
        URL.revokeObjectURL(url);
      });
      return { bitmap, img };
    })(${JSON.stringify(jpegs)})`)) as { bitmap: number; img: number };
    rows.push([String(run), f1(timing.bitmap), f1(timing.img)]);
  }
  const report = `# Browser viewer: decoding a frame in the page

${machineLine(`chromium ${Bun.spawnSync(["/usr/bin/chromium", "--version"]).stdout.toString().trim()}`, `${RUNS} runs`)}

${jpegs.length} 1280x720 JPEGs of the clip (ffmpeg, q 4), each decoded and drawn on a 1280x720 canvas in Debian's chromium (headless), one after another, a pixel read back after each (so the drawing is done, not just asked for): ms a frame, mean.

${table(["run", "createImageBitmap, ms", "img element (decode()), ms"], rows)}
`;
  console.log(report);
  saveResult("web-decode.md", report);
}

try {
  if (values.only === "decode") await decode();
  if (!values.only || values.only === "latency") await latency();
  if (!values.only || values.only === "cost") await cost();
  if (!values.only || values.only === "memory") await memory();
} finally {
  rmSync(work, { recursive: true, force: true });
}
