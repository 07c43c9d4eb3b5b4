// Frames kept under loss: udpvid v2 (FEC), udpvid legacy and ffmpeg's RTP/JPEG,
// side by side through `udpvid relay`, on video.mp4 at 640x480, quality 80, 30 fps.
//   bun run bench:loss [--seconds N] [--no-sweep]
// Writes bench/results/loss.md and bench/results/loss.svg.
import { machineLine, saveResult } from "./bench/report.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluateRecording, INTACT_DB, referenceFrames } from "./bench/frame-match.ts";
import { lineChartSvg } from "./bench/svg-chart.ts";
import { ffmpegSync, ffmpegVersion, freePort, spawnPiped, untilListening } from "./lib/processes.ts";
import { rtpJpegSdp } from "../src/protocol/sdp.ts";
import { UDPVID_CLI, summaryOf } from "./lib/udpvid-summary.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, "no-sweep": { type: "boolean" } } });
const WIDTH = 640;
const HEIGHT = 480;
const FFMPEG_Q = "6"; // mjpeg -q:v 6 gives the same bytes per frame here as sharp at quality 80

type System = "udpvid v2" | "udpvid legacy" | "ffmpeg RTP/JPEG";
interface Case {
  kind: "none" | "random" | "burst" | "reorder" | "duplicate";
  percent: number;
  relayArgs: string[];
}
interface Row {
  system: System;
  kase: Case;
  fec?: number;
  sourceFrames: number;
  intact: number;
  corruptShown: number;
  overheadPercent: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  relayLoss: number;
  /** Frames the sender skipped for being late, plus frames the receiver skipped for a newer one: CPU, not network. */
  skippedForCpu: number | null;
}

const work = mkdtempSync(join(tmpdir(), "udpvid-bench-loss-"));
const clip = join(work, "clip.mp4");
ffmpegSync(["-i", join(ROOT, "video.mp4"), "-t", values.seconds!, "-c", "copy", "-y", clip]);

// Reference: every source frame at 640x480 (ffmpeg's scaling, as the senders use), as a greyscale thumbnail.
const reference = await referenceFrames(clip, WIDTH, HEIGHT);
const evaluate = (mjpeg: string) => evaluateRecording(mjpeg, reference);

async function runCase(system: System, kase: Case, seed: number, fec?: number): Promise<Row> {
  const receiverPort = await freePort();
  const relayPort = await freePort();
  const record = join(work, "received.mjpeg");
  rmSync(record, { force: true });
  const relay = spawnPiped([process.execPath, UDPVID_CLI, "relay", "--listen", String(relayPort), "--to", `127.0.0.1:${receiverPort}`, "--seed", String(seed), "--json", ...kase.relayArgs]);
  let receiver: Bun.Subprocess<"ignore", "pipe", "pipe">;
  if (system === "ffmpeg RTP/JPEG") {
    const sdp = join(work, "receive.sdp");
    writeFileSync(sdp, rtpJpegSdp({ address: "127.0.0.1", family: 4, port: receiverPort, sessionId: 0 }));
    receiver = spawnPiped(["ffmpeg", "-loglevel", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdp, "-c:v", "copy", "-f", "mjpeg", "-y", record]);
  } else {
    receiver = spawnPiped([process.execPath, UDPVID_CLI, "receive", "--headless", "--port", String(receiverPort), "--record", record, "--idle-timeout", "2", "--json"]);
  }
  // Ready when udpvid says so (ffmpeg's receiver says nothing: it gets a moment to open its socket).
  await untilListening(relay);
  if (system === "ffmpeg RTP/JPEG") await Bun.sleep(800);
  else await untilListening(receiver);
  let sent: any = {};
  if (system === "ffmpeg RTP/JPEG") {
    const sender = spawnPiped(["ffmpeg", "-loglevel", "error", "-re", "-i", clip, "-vf", `scale=${WIDTH}:${HEIGHT}`, "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", FFMPEG_Q, "-huffman", "default", "-f", "rtp", `rtp://127.0.0.1:${relayPort}`]);
    await sender.exited;
    await Bun.sleep(1500);
    receiver.kill("SIGINT");
  } else {
    const protocol = system === "udpvid v2" ? "v2" : "legacy";
    const fecArgs = fec === undefined ? [] : ["--fec", String(fec)];
    sent = await summaryOf<any>(spawnPiped([process.execPath, UDPVID_CLI, "send", clip, "--to", `127.0.0.1:${relayPort}`, "--width", String(WIDTH), "--height", String(HEIGHT), "--quality", "80", "--protocol", protocol, "--json", ...fecArgs]));
  }
  const received = system === "ffmpeg RTP/JPEG" ? (await receiver.exited, {}) : await summaryOf<any>(receiver);
  relay.kill("SIGINT");
  const relayed = await summaryOf<any>(relay);
  const { intact, corrupt } = await evaluate(record);
  return {
    system,
    kase,
    fec,
    sourceFrames: reference.length,
    intact,
    corruptShown: corrupt,
    overheadPercent: sent.overheadPercent ?? null,
    latencyP50: received.latencyMs?.p50 ?? null,
    latencyP99: received.latencyMs?.p99 ?? null,
    relayLoss: relayed.lossPercent ?? 0,
    skippedForCpu: system === "ffmpeg RTP/JPEG" ? null : (sent.framesSkipped ?? 0) + (received.framesSkipped ?? 0),
  };
}

const cases: Case[] = [
  { kind: "none", percent: 0, relayArgs: [] },
  ...[1, 2, 5, 10, 20].map((p): Case => ({ kind: "random", percent: p, relayArgs: ["--loss", String(p)] })),
  ...[1, 2, 5, 10, 20].map((p): Case => ({ kind: "burst", percent: p, relayArgs: ["--burst-loss", `${p}:4`] })),
  { kind: "reorder", percent: 10, relayArgs: ["--reorder", "10", "--jitter", "2"] },
  { kind: "duplicate", percent: 10, relayArgs: ["--duplicate", "10"] },
];
const systems: System[] = ["udpvid v2", "udpvid legacy", "ffmpeg RTP/JPEG"];
const rows: Row[] = [];
// A discarded first run: the first process start-ups (disk cache, JIT) are not what is measured.
await runCase("udpvid v2", cases[0]!, 1);
let seed = 1;
for (const kase of cases) {
  seed++;
  for (const system of systems) {
    const row = await runCase(system, kase, seed);
    rows.push(row);
    console.error(`${system.padEnd(16)} ${label(kase).padEnd(16)} intact ${row.intact}/${row.sourceFrames}  corrupt ${row.corruptShown}`);
  }
}
const sweep: Row[] = [];
if (!values["no-sweep"]) {
  for (const percent of [5, 10]) {
    for (const fec of [0, 10, 15, 20, 25, 30]) {
      const row = await runCase("udpvid v2", { kind: "random", percent, relayArgs: ["--loss", String(percent)] }, 100 + percent, fec);
      sweep.push(row);
      console.error(`FEC ${fec}% at ${percent}% loss: intact ${row.intact}/${row.sourceFrames}, overhead ${row.overheadPercent?.toFixed(1)}%`);
    }
  }
}
rmSync(work, { recursive: true, force: true });

function label(kase: Case): string {
  switch (kase.kind) {
    case "none":
      return "no impairment";
    case "random":
      return `${kase.percent}% random`;
    case "burst":
      return `${kase.percent}% bursts (mean 4)`;
    default:
      return `${kase.percent}% ${kase.kind}`;
  }
}
const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;
const num = (v: number | null, digits = 1) => (v === null ? "n/a" : v.toFixed(digits));
const lines = [
  `# Frames kept under loss: ${WIDTH}x${HEIGHT}, JPEG quality 80 (ffmpeg -q:v ${FFMPEG_Q}), 30 fps, ${reference.length} frames, through \`udpvid relay\` (MTU 1500)`,
  "",
  machineLine(`ffmpeg ${ffmpegVersion()}`),
  "",
  `A frame is intact when its picture matches its source frame at ≥ ${INTACT_DB} dB PSNR; "corrupt shown" counts received frames that match no source frame; "skipped for CPU" counts frames the sender sent late-skipped or the receiver replaced by a newer one (sender, relay, receiver and ffmpeg share 2 cores). Overhead is wire bytes beyond the JPEGs (24-byte headers and parity; --fec is parity alone), for udpvid. Latency is capture → display (udpvid v2 only: the others carry no capture time).`,
  "",
  "| impairment | relay loss | system | frames intact | corrupt shown | skipped for CPU | overhead | latency p50 / p99 (ms) |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${label(r.kase)} | ${r.relayLoss.toFixed(1)}% | ${r.system} | ${pct(r.intact, r.sourceFrames)} (${r.intact}) | ${r.corruptShown} | ${r.skippedForCpu ?? "n/a"} | ${r.overheadPercent === null ? "n/a" : `${r.overheadPercent.toFixed(1)}%`} | ${num(r.latencyP50)} / ${num(r.latencyP99)} |`,
  ),
];
if (sweep.length) {
  lines.push("", "## udpvid v2: FEC overhead against frames kept", "", "| random loss | --fec | frames intact | wire overhead | latency p99 (ms) |", "|---|---|---|---|---|");
  for (const r of sweep) lines.push(`| ${r.kase.percent}% | ${r.fec}% | ${pct(r.intact, r.sourceFrames)} | ${num(r.overheadPercent)}% | ${num(r.latencyP99)} |`);
}
const report = lines.join("\n") + "\n";
console.log(report);
saveResult("loss.md", report);
const series = (kind: Case["kind"]) =>
  systems.map((system) => ({
    name: system,
    points: rows
      .filter((r) => r.system === system && (r.kase.kind === kind || r.kase.kind === "none"))
      .map((r) => ({ x: r.kase.percent, y: (100 * r.intact) / r.sourceFrames })),
  }));
saveResult(
  "loss.svg",
  lineChartSvg({
    title: `Frames intact at ${WIDTH}x${HEIGHT}, 30 fps, through udpvid relay`,
    panels: [
      { title: "random loss per IP fragment", xLabel: "loss %", series: series("random") },
      { title: "bursty loss (Gilbert–Elliott, mean 4)", xLabel: "loss %", series: series("burst") },
    ],
    yLabel: "frames intact %",
  }),
);
console.log("written to bench/results/loss.md and bench/results/loss.svg");
