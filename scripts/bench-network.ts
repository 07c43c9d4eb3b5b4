// udpvid over impaired networks against the tools people use instead, side by
// side in one run through `udpvid relay` (which carries the way back too, for
// NACKs, reports and SRT's own control packets). A detailed 1280x720 clip
// (video.mp4 with grain added), 30 fps, JPEG quality 80: about 38 Mbit/s.
// Two suites:
//   loss (default): lossy paths. udpvid (return path: retransmission within a
//     deadline, parity that follows the loss), udpvid with feedback off and
//     fixed 25% parity (the old default), ffmpeg RTP/JPEG, and SRT (ffmpeg's
//     libsrt, MJPEG over SRT, latency 120 ms).
//   rate: narrow and changing paths (the relay's bottleneck, 100 ms drop-tail
//     queue, RTT 20 ms). udpvid (adapting), udpvid --adapt off, ffmpeg, SRT;
//     with full-size PSNR and how the sender's target followed the capacity.
//   Every row runs over --seeds N relay seeds (default 5) and shows the worst
//   (fewest frames intact, then fewest at full size, then lowest PSNR).
//   bun run bench:network [--suite loss|rate] [--seconds N] [--seeds N] [--peer-seeds N] [--only SCENARIO] [--systems "udpvid;udpvid --adapt off"] [--width W --height H]
// Writes bench/results/network.md and network.svg (rate suite: network-rate.md
// and .svg; at another size: network-WxH.md and .svg).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluateRecording, INTACT_DB, referenceFrames } from "./bench/frame-match.ts";
import { machineLine, saveResult } from "./bench/report.ts";
import { lineChartSvg } from "./bench/svg-chart.ts";
import { ffmpegSync, ffmpegVersion, freePort, spawnPiped, untilListening } from "./lib/processes.ts";
import { rtpJpegSdp } from "../src/protocol/sdp.ts";
import { summaryOf, UDPVID_CLI } from "./lib/udpvid-summary.ts";
import { rateFollowing, type RateFollowing } from "./bench/rate-metrics.ts";
import { inNamespace, kernelPathUnavailable, makeKernelPath, RECEIVER_ADDRESS, RECEIVER_NS, removeKernelPath, SENDER_NS } from "./bench/kernel-path.ts";
import { parseRateSchedule } from "../src/relay/bottleneck.ts";
import type { RateTracePoint } from "../src/rate/rate-trace.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    suite: { type: "string", default: "loss" },
    seconds: { type: "string", default: "10" },
    only: { type: "string" },
    seeds: { type: "string", default: "5" },
    "peer-seeds": { type: "string" },
    systems: { type: "string" },
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "720" },
  },
});
const WIDTH = Number(values.width);
const HEIGHT = Number(values.height);
if (values.suite !== "loss" && values.suite !== "rate") throw new Error(`--suite must be loss or rate, got ${values.suite}`);
const RATE_SUITE = values.suite === "rate";
const SECONDS = values.seconds!;
/** On 2 shared cores a 720p detailed stream keeps sender, relay and receiver busy: a smaller size shows the network alone. */
const RESULT = (RATE_SUITE ? "network-rate" : "network") + (WIDTH === 1280 && HEIGHT === 720 ? "" : `-${WIDTH}x${HEIGHT}`);
/** ffmpeg's MJPEG at -q:v 5 is about the size of sharp's quality 80 on this clip. */
const FFMPEG_Q = "5";
const SRT_LATENCY_MS = 120;

type System = "udpvid" | "udpvid, no feedback, --fec 25" | "udpvid --adapt off" | "ffmpeg RTP/JPEG" | "SRT (libsrt, 120 ms)";
const ALL_SYSTEMS: System[] = RATE_SUITE
  ? ["udpvid", "udpvid --adapt off", "ffmpeg RTP/JPEG", "SRT (libsrt, 120 ms)"]
  : ["udpvid", "udpvid --adapt off", "udpvid, no feedback, --fec 25", "ffmpeg RTP/JPEG", "SRT (libsrt, 120 ms)"];
/** --systems "udpvid;SRT (libsrt, 120 ms)": exact names, separated by semicolons (the names hold commas). */
const SYSTEMS = values.systems ? ALL_SYSTEMS.filter((s) => values.systems!.split(";").map((n) => n.trim()).includes(s)) : ALL_SYSTEMS;
if (SYSTEMS.length === 0) throw new Error(`--systems names none of: ${ALL_SYSTEMS.join("; ")}`);
const SEEDS = Number(values.seeds);
/** Seeds for every system but udpvid adapting (--peer-seeds; default as many): the peers do not adapt, and a full run at 5 seeds takes hours here. */
const PEER_SEEDS = Number(values["peer-seeds"] ?? values.seeds);
const seedsFor = (system: System) => (system === "udpvid" ? SEEDS : PEER_SEEDS);
/** What each udpvid system adds to send and receive. */
const UDPVID_ARGS: Partial<Record<System, { send: string[]; receive: string[] }>> = {
  udpvid: { send: [], receive: [] },
  "udpvid, no feedback, --fec 25": { send: ["--no-feedback", "--fec", "25"], receive: ["--no-feedback"] },
  "udpvid --adapt off": { send: ["--adapt", "off"], receive: [] },
};

interface Scenario {
  name: string;
  relayArgs: string[];
  /** A real kernel path instead of the relay: two namespaces over a veth, this qdisc (tc's words after "root") on the sender's side. */
  kernel?: string[];
  /** The bottleneck's schedule, for judging how the rate followed it. */
  rate?: string;
}
const BOTTLENECK = (rate: string, ...more: string[]): Scenario["relayArgs"] => ["--rate", rate, "--queue-ms", "100", "--delay", "10", ...more];
const SCENARIOS: Scenario[] = RATE_SUITE
  ? [
      { name: "clean", relayArgs: [] },
      { name: "8 Mbit/s", relayArgs: BOTTLENECK("8"), rate: "8" },
      // 3 s at 6 Mbit/s, early enough to leave 5 s of the 10 s clip for the climb back.
      { name: "25 → 6 → 25 Mbit/s", relayArgs: BOTTLENECK("25,6@2s,25@5s"), rate: "25,6@2s,25@5s" },
      { name: "3 Mbit/s", relayArgs: BOTTLENECK("3"), rate: "3" },
      { name: "8 Mbit/s + 2% loss", relayArgs: BOTTLENECK("8", "--loss", "2"), rate: "8" },
      // A narrow link that is lossy too: the rate must follow the bottleneck and not the loss.
      { name: "8 Mbit/s + 10% loss", relayArgs: BOTTLENECK("8", "--loss", "10"), rate: "8" },
      // The kernel's own token bucket on a veth between two namespaces: a real qdisc, with its burst allowance.
      { name: "kernel tbf 8 Mbit/s (burst 32 kB, latency 100 ms)", relayArgs: [], kernel: ["tbf", "rate", "8mbit", "burst", "32kb", "latency", "100ms"], rate: "8" },
    ]
  : [
      { name: "clean", relayArgs: [] },
      // Random loss with room to spare (Wi-Fi across a house, a radio link): repaired, never a reason to shrink the picture.
      // Light loss: every frame should arrive, every asked-for datagram be resent in time.
      { name: "1% random, RTT 20 ms", relayArgs: ["--loss", "1", "--delay", "10"] },
      { name: "5% random, RTT 20 ms", relayArgs: ["--loss", "5", "--delay", "10"] },
      { name: "10% random, RTT 20 ms", relayArgs: ["--loss", "10", "--delay", "10"] },
      { name: "15% random, RTT 20 ms", relayArgs: ["--loss", "15", "--delay", "10"] },
      { name: "20% random, RTT 20 ms", relayArgs: ["--loss", "20", "--delay", "10"] },
      { name: "5% bursts (mean 8), RTT 20 ms", relayArgs: ["--burst-loss", "5:8", "--delay", "10"] },
      { name: "3% random, RTT 80 ms", relayArgs: ["--loss", "3", "--delay", "40"] },
      { name: "10% random both ways, RTT 20 ms", relayArgs: ["--loss", "10", "--reverse-loss", "10", "--delay", "10"] },
    ];

interface Row {
  system: System;
  scenario: Scenario;
  intact: number;
  corrupt: number;
  psnrMean: number | null;
  /** Intact frames at full size. */
  fullSize: number | null;
  /** The lowest target the sender chose (udpvid adapting), Mbit/s. */
  lowestTargetMbps: number | null;
  overheadPercent: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  retransmittedPercent: number | null;
  relayLossPercent: number;
  /** Frames the sender skipped for being late plus frames the receiver skipped for a newer one: CPU, not network (udpvid only). */
  skippedForCpu: number | null;
  /** How the sender's target followed the bottleneck (udpvid adapting, rate suite), and the target over time. */
  following: RateFollowing | null;
  trace: RateTracePoint[] | null;
  /** What decided the sender's cuts (udpvid adapting). */
  cuts: Record<string, number> | null;
  /** What the sender sent, Mbit/s, against the bottleneck's mean rate. */
  sentMbps: number | null;
}

const work = mkdtempSync(join(tmpdir(), "udpvid-bench-network-"));
const clip = join(work, "detailed.mp4");
// Film grain makes every frame detailed, as a camera's are: about 38 Mbit/s as JPEG at quality 80.
ffmpegSync(["-i", join(ROOT, "video.mp4"), "-t", SECONDS, "-vf", `scale=${WIDTH}:${HEIGHT},noise=alls=14:allf=t`, "-c:v", "libx264", "-crf", "16", "-preset", "veryfast", "-y", clip]);
// Quality is measured at full size: what a smaller picture costs shows in its PSNR.
const reference = await referenceFrames(clip, WIDTH, HEIGHT, true);
// Every sender reads the frames uncompressed, as from a camera: decoding this
// grainy H.264 (about 80 Mbit/s) would cost a core's share that no live source
// costs, and on 2 shared cores it shows up as latency and skipped frames.
const source = join(work, "detailed.nut");
ffmpegSync(["-i", clip, "-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-f", "nut", "-y", source]);

const udpvidCommand = (args: string[]) => [process.execPath, UDPVID_CLI, ...args];
const udpvid = (args: string[]) => spawnPiped(udpvidCommand(args));
const ffmpegSenderCommand = (output: string[]) => ["ffmpeg", "-loglevel", "error", "-re", "-i", source, "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", FFMPEG_Q, "-huffman", "default", ...output];

/** The sender's trace counts for the lowest target from here on (ms): its start is a fixed rate until its probe is answered. */
const STARTED_MS = 1000;

async function runCase(system: System, scenario: Scenario, seed: number): Promise<Row> {
  const receiverPort = await freePort();
  const relayPort = await freePort();
  const record = join(work, "received.mjpeg");
  rmSync(record, { force: true });
  // Through the relay on loopback, or across the kernel path between two namespaces (no relay: the qdisc is the bottleneck).
  const kernel = scenario.kernel;
  if (kernel) makeKernelPath(kernel);
  const receiverHost = kernel ? RECEIVER_ADDRESS : "127.0.0.1";
  const onReceiver = (args: string[]) => (kernel ? inNamespace(RECEIVER_NS, args) : args);
  const onSender = (args: string[]) => (kernel ? inNamespace(SENDER_NS, args) : args);
  const sendTo = kernel ? `${RECEIVER_ADDRESS}:${receiverPort}` : `127.0.0.1:${relayPort}`;
  const relay = kernel ? undefined : udpvid(["relay", "--listen", String(relayPort), "--to", `127.0.0.1:${receiverPort}`, "--seed", String(seed), "--json", ...scenario.relayArgs]);
  let receiver: Bun.Subprocess<"ignore", "pipe", "pipe">;
  const udpvidArgs = UDPVID_ARGS[system];
  if (system === "ffmpeg RTP/JPEG") {
    const sdp = join(work, "receive.sdp");
    writeFileSync(sdp, rtpJpegSdp({ address: receiverHost, family: 4, port: receiverPort, sessionId: 0 }));
    receiver = spawnPiped(onReceiver(["ffmpeg", "-loglevel", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdp, "-c:v", "copy", "-f", "mjpeg", "-y", record]));
  } else if (system === "SRT (libsrt, 120 ms)") {
    receiver = spawnPiped(onReceiver(["ffmpeg", "-loglevel", "error", "-f", "mjpeg", "-i", `srt://${receiverHost}:${receiverPort}?mode=listener&latency=${SRT_LATENCY_MS * 1000}`, "-c:v", "copy", "-f", "mjpeg", "-y", record]));
  } else {
    receiver = spawnPiped(onReceiver(udpvidCommand(["receive", "--headless", "--port", String(receiverPort), "--record", record, "--idle-timeout", "2", "--json", ...udpvidArgs!.receive])));
  }
  // Ready when udpvid says so (ffmpeg's receivers say nothing: they get a moment to open their sockets).
  if (relay) await untilListening(relay);
  if (udpvidArgs) await untilListening(receiver);
  else await Bun.sleep(800);
  let sent: any = {};
  const sendStartMs = performance.now();
  if (system === "ffmpeg RTP/JPEG") {
    await spawnPiped(onSender(ffmpegSenderCommand(["-f", "rtp", `rtp://${sendTo}`]))).exited;
    await Bun.sleep(1500);
    receiver.kill("SIGINT");
  } else if (system === "SRT (libsrt, 120 ms)") {
    await spawnPiped(onSender(ffmpegSenderCommand(["-f", "mjpeg", `srt://${sendTo}?mode=caller&latency=${SRT_LATENCY_MS * 1000}`]))).exited;
    await Bun.sleep(1500);
    receiver.kill("SIGINT");
  } else {
    sent = await summaryOf<any>(spawnPiped(onSender(udpvidCommand(["send", source, "--to", sendTo, "--json", ...udpvidArgs!.send]))));
  }
  const sendSeconds = (performance.now() - sendStartMs) / 1000;
  const received = udpvidArgs ? await summaryOf<any>(receiver) : (await receiver.exited, {});
  relay?.kill("SIGINT");
  const relayed = relay ? await summaryOf<any>(relay) : {};
  if (kernel) removeKernelPath();
  const { intact, corrupt, psnrMean, fullSize } = await evaluateRecording(record, reference);
  const resent = sent.returnPath?.chunksResent;
  const trace: RateTracePoint[] | undefined = sent.rate?.adapt ? sent.rate.trace : undefined;
  return {
    system,
    scenario,
    intact,
    corrupt,
    psnrMean,
    fullSize,
    // After the start: the first points are the fixed start rate, before the probe's answer sets the real one.
    lowestTargetMbps: trace ? trace.reduce((low, p) => (p.targetMbps === null || p.t < STARTED_MS ? low : Math.min(low ?? Infinity, p.targetMbps)), null as number | null) : null,
    overheadPercent: udpvidArgs ? (sent.overheadPercent ?? null) : null,
    latencyP50: received.latencyMs?.p50 ?? null,
    latencyP99: received.latencyMs?.p99 ?? null,
    retransmittedPercent: udpvidArgs ? (resent === undefined ? 0 : (100 * resent) / Math.max(1, sent.datagrams - resent)) : null,
    relayLossPercent: relayed.lossPercent ?? 0,
    skippedForCpu: udpvidArgs ? (sent.framesSkipped ?? 0) + (received.framesSkipped ?? 0) : null,
    following: trace && scenario.rate ? rateFollowing(trace, parseRateSchedule(scenario.rate), Number(SECONDS) * 1000) : null,
    trace: trace ?? null,
    cuts: sent.rate?.cuts ?? null,
    // Everything the relay took in (every system's bytes, headers and all) over the time the sender ran.
    sentMbps: relayed.bytesIn ? (relayed.bytesIn * 8) / 1e6 / Math.max(1, udpvidArgs ? sent.seconds : sendSeconds) : null,
  };
}

const kernelUnavailable = kernelPathUnavailable();
// --only "clean;5%": the scenarios whose names start with any of these.
const only = values.only?.split(";").map((prefix) => prefix.trim());
const scenarios = (only ? SCENARIOS.filter((s) => only.some((prefix) => s.name.startsWith(prefix))) : SCENARIOS).filter((s) => {
  if (s.kernel && kernelUnavailable) console.error(`skipping "${s.name}": ${kernelUnavailable}`);
  return !s.kernel || !kernelUnavailable;
});
const rows: Row[] = [];
// A discarded first run: the first process start-ups (disk cache, JIT) are not what is measured.
await runCase("udpvid", SCENARIOS[0]!, 1);
let seed = 11;
/** The worse of two runs of one row: fewer frames intact, then fewer at full size, then lower PSNR. */
const worse = (a: Row, b: Row) =>
  a.intact !== b.intact ? (a.intact < b.intact ? a : b) : (a.fullSize ?? 0) !== (b.fullSize ?? 0) ? ((a.fullSize ?? 0) < (b.fullSize ?? 0) ? a : b) : (a.psnrMean ?? 0) <= (b.psnrMean ?? 0) ? a : b;
for (const scenario of scenarios) {
  for (const system of SYSTEMS) {
    let worst: Row | undefined;
    const lowestTargets: number[] = [];
    for (let run = 0; run < seedsFor(system); run++) {
      const row = await runCase(system, scenario, seed + run);
      if (row.lowestTargetMbps !== null) lowestTargets.push(row.lowestTargetMbps);
      worst = worst ? worse(worst, row) : row;
      console.error(
        `${scenario.name.padEnd(34)} ${system.padEnd(30)} seed ${seed + run}  intact ${row.intact}/${reference.length}  full size ${row.fullSize}  corrupt ${row.corrupt}  skipped ${row.skippedForCpu ?? "n/a"}  ` +
          `p99 ${row.latencyP99 ?? "n/a"}  psnr ${row.psnrMean?.toFixed(1) ?? "n/a"}  lowest target ${row.lowestTargetMbps ?? "n/a"}${row.cuts ? `  cuts ${JSON.stringify(row.cuts)}` : ""}` +
          (row.following ? `  fit ${row.following.fitMs ?? "-"}  climb ${row.following.climbMs ?? "-"}  chosen/capacity ${row.following.chosenOverCapacity?.toFixed(2) ?? "-"} ±${((row.following.swing ?? 0) * 100).toFixed(0)}%` : ""),
      );
    }
    // The lowest target of any seed: a wrong cut in one run is what the row must show.
    rows.push({ ...worst!, lowestTargetMbps: lowestTargets.length ? Math.min(...lowestTargets) : null });
  }
  seed += SEEDS;
}
rmSync(work, { recursive: true, force: true });

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;
const fullShare = (r: Row) => (r.fullSize === null ? "n/a" : pct(r.fullSize, reference.length));
const num = (v: number | null, digits = 1) => (v === null ? "n/a" : v.toFixed(digits));
const seconds = (ms: number | null | undefined, applies: boolean) => (!applies ? "n/a" : ms === null || ms === undefined ? "not in the clip" : `${(ms / 1000).toFixed(2)} s`);
const lossTable = () => [
  `Loss is per IP fragment (MTU 1500), RTT is twice the relay's one-way delay; "both ways" also loses feedback and SRT's control packets. ` +
    `A frame is intact when its picture, at whatever size it arrived, matches its source frame at ≥ ${INTACT_DB} dB PSNR (as thumbnails); at full size counts those that arrived ${WIDTH}x${HEIGHT}; corrupt counts shown frames that match none. ` +
    `Mean PSNR is over the intact frames' luma at full size, a smaller picture scaled back up first: what adaptation costs. Lowest target is the least the sender aimed at in any seed after its first second (udpvid adapting; before, it starts at a fixed 10 Mbit/s until the probe is answered). ` +
    `Each row is the worst of ${SEEDS} seeds of the relay's loss for udpvid, ${PEER_SEEDS} for the others (fewest intact, then fewest at full size, then lowest PSNR). ` +
    `Overhead is wire bytes beyond the JPEGs (headers, parity, resends), for udpvid. Latency is capture → display, udpvid only (the others carry no capture time; SRT's is its configured ${SRT_LATENCY_MS} ms plus half the RTT). ` +
    `Retransmitted is resent datagrams over first transmissions. Every sender reads the clip uncompressed, as from a camera. All four run on the same 2 cores as the relay, so a CPU-bound sender or receiver shows up as lost frames too.`,
  "",
  "| scenario | system | frames intact | at full size | corrupt | skipped for CPU | mean PSNR at full size (dB) | lowest target (Mbit/s) | overhead | latency p50 / p99 (ms) | retransmitted |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.scenario.name} | ${r.system} | ${pct(r.intact, reference.length)} (${r.intact}) | ${fullShare(r)} | ${r.corrupt} | ${r.skippedForCpu ?? "n/a"} | ${num(r.psnrMean)} | ${num(r.lowestTargetMbps, 2)} | ${r.overheadPercent === null ? "n/a" : `${r.overheadPercent.toFixed(1)}%`} | ${num(r.latencyP50)} / ${num(r.latencyP99)} | ${r.retransmittedPercent === null ? "n/a" : `${r.retransmittedPercent.toFixed(1)}%`} |`,
  ),
];
const rateTable = () => [
  `Bottleneck: the relay's \`--rate\` with a 100 ms drop-tail queue (\`--queue-ms 100\`) and RTT 20 ms; "25 → 6 → 25" is \`--rate 25,6@2s,25@5s\`, from the first datagram. ` +
    `A frame is intact when its picture, at whatever size it arrived, matches its source frame at ≥ ${INTACT_DB} dB (as thumbnails); corrupt counts shown frames that match none. ` +
    `Mean PSNR is over the intact frames' luma at full size, a smaller picture scaled back up first: what adaptation costs in quality. At full size counts the intact frames that arrived ${WIDTH}x${HEIGHT}; lowest target is the least the sender aimed at in any seed. ` +
    `Each row is the worst of ${SEEDS} seeds for udpvid, ${PEER_SEEDS} for the others (fewest intact, then fewest at full size, then lowest PSNR). ` +
    `Latency is capture → display (udpvid only). Sent is what reached the bottleneck, Mbit/s over the run. ` +
    `For udpvid adapting, from its target over time (send --json): the time to get under the capacity after it dropped, the time to be back at 80% of the capacity once it returned, ` +
    `and its mean target over the capacity where the capacity held (from 1.5 s after each change), ± its widest swing there. Every sender reads the clip uncompressed, as from a camera; all run on the same 2 cores as the relay.`,
  "",
  "| scenario | system | frames intact | at full size | corrupt | mean PSNR at full size (dB) | lowest target (Mbit/s) | latency p50 / p99 (ms) | sent (Mbit/s) | under capacity after a drop | back after the return | target / capacity |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => {
    const f = r.following;
    const schedule = r.scenario.rate ? parseRateSchedule(r.scenario.rate) : [];
    return (
      `| ${r.scenario.name} | ${r.system} | ${pct(r.intact, reference.length)} (${r.intact}) | ${fullShare(r)} | ${r.corrupt} | ${num(r.psnrMean)} | ${num(r.lowestTargetMbps, 2)} | ${num(r.latencyP50)} / ${num(r.latencyP99)} | ${num(r.sentMbps)} | ` +
      `${f ? seconds(f.fitMs, schedule.length > 1) : "n/a"} | ${f ? seconds(f.climbMs, schedule.length > 2) : "n/a"} | ` +
      `${f?.chosenOverCapacity != null ? `${f.chosenOverCapacity.toFixed(2)} ±${((f.swing ?? 0) * 100).toFixed(0)}%` : "n/a"} |`
    );
  }),
];
const lines = [
  RATE_SUITE
    ? `# udpvid following narrow and changing paths, against ffmpeg RTP/JPEG and SRT: ${WIDTH}x${HEIGHT}, 30 fps, ${reference.length} frames of a detailed clip (about 38 Mbit/s at quality 80), through \`udpvid relay\``
    : `# udpvid against RTP/JPEG and SRT on impaired paths: ${WIDTH}x${HEIGHT}, 30 fps, ${reference.length} frames of a detailed clip, through \`udpvid relay\``,
  "",
  machineLine(`ffmpeg ${ffmpegVersion()}`),
  "",
  ...(RATE_SUITE ? rateTable() : lossTable()),
];
const report = lines.join("\n") + "\n";
console.log(report);
saveResult(`${RESULT}.md`, report);
/** The rate suite's chart: each bottleneck's capacity over time, and udpvid's target against it. */
function targetPanels() {
  const endMs = Number(SECONDS) * 1000;
  return rows
    .filter((r) => r.system === "udpvid" && r.scenario.rate && r.trace)
    .map((r) => {
      const schedule = parseRateSchedule(r.scenario.rate!);
      // The capacity as a step line: each rate at its start and just before the next.
      const capacity = schedule.flatMap((step, i) => [
        { x: step.fromMs / 1000, y: step.mbit },
        { x: ((schedule[i + 1]?.fromMs ?? endMs) - 1) / 1000, y: step.mbit },
      ]);
      return {
        title: r.scenario.name,
        xLabel: "seconds",
        series: [
          { name: "capacity", points: capacity },
          { name: "udpvid's target", points: r.trace!.filter((p) => p.targetMbps !== null).map((p) => ({ x: p.t / 1000, y: p.targetMbps! })) },
        ],
      };
    });
}
saveResult(
  `${RESULT}.svg`,
  RATE_SUITE
    ? lineChartSvg({ title: `udpvid's target against the bottleneck's capacity, ${WIDTH}x${HEIGHT} (scenarios as in ${RESULT}.md)`, panels: targetPanels(), yLabel: "Mbit/s", yMax: 30 })
    : lineChartSvg({
        title: `Frames intact at ${WIDTH}x${HEIGHT}, 30 fps, through udpvid relay (scenarios as in ${RESULT}.md)`,
        panels: [
          {
            title: scenarios.map((s, i) => `${i + 1}: ${s.name.split(",")[0]}`).join(" · "),
            xLabel: "scenario",
            series: SYSTEMS.map((system) => ({
              name: system,
              points: rows.filter((r) => r.system === system).map((r) => ({ x: scenarios.indexOf(r.scenario) + 1, y: (100 * r.intact) / reference.length })),
            })),
          },
        ],
        yLabel: "frames intact %",
      }),
);
// The targets over time, for a closer look than the chart gives.
if (RATE_SUITE) saveResult(`${RESULT}-traces.json`, JSON.stringify(rows.filter((r) => r.trace).map((r) => ({ scenario: r.scenario.name, system: r.system, trace: r.trace })), null, 1));
console.log(`written to bench/results/${RESULT}.md and bench/results/${RESULT}.svg`);
