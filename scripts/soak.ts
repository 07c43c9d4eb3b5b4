// Soak: `udpvid send --loop` at 720p30 into `udpvid receive --headless` for a
// long time, sampling both processes' RSS, to show memory does not creep.
//   bun run soak [--minutes 30] [--sample-seconds 10]
// Writes bench/results/soak.md (the RSS curve, drift and error counts) and soak.svg.
import { machineLine, saveResult } from "./bench/report.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { lineChartSvg } from "./bench/svg-chart.ts";
import { spawnUdpvid, summaryOf } from "./lib/udpvid-summary.ts";
import { rssMiB } from "./lib/processes.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { minutes: { type: "string", default: "30" }, "sample-seconds": { type: "string", default: "10" } } });
const minutes = Number(values.minutes);
const sampleMs = Number(values["sample-seconds"]) * 1000;
const port = 20000 + Math.floor(Math.random() * 20000);

const receiver = spawnUdpvid(["receive", "--headless", "--port", String(port), "--idle-timeout", "3", "--json"], { stderr: "inherit" });
await Bun.sleep(1000);
const sender = spawnUdpvid(["send", join(ROOT, "video.mp4"), "--loop", "--to", `127.0.0.1:${port}`, "--json"], { stderr: "inherit" });
const received = summaryOf<any>(receiver);
const sent = summaryOf<any>(sender);

const samples: { minute: number; receiver: number; sender: number }[] = [];
const start = performance.now();
while (performance.now() - start < minutes * 60_000) {
  await Bun.sleep(sampleMs);
  if (sender.exitCode !== null || receiver.exitCode !== null) throw new Error("a process died during the soak");
  const sample = { minute: (performance.now() - start) / 60_000, receiver: rssMiB(receiver.pid), sender: rssMiB(sender.pid) };
  samples.push(sample);
  console.log(`${sample.minute.toFixed(1)} min  receiver ${sample.receiver.toFixed(1)} MiB  sender ${sample.sender.toFixed(1)} MiB`);
}
sender.kill("SIGINT");
const [s, r] = await Promise.all([sent, received]);

// Drift: the last tenth of the run against the tenth after the first (start-up and JIT warm-up excluded).
const tenth = Math.max(1, Math.floor(samples.length / 10));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const drift = (key: "receiver" | "sender") => {
  const early = mean(samples.slice(tenth, 2 * tenth).map((x) => x[key]));
  const late = mean(samples.slice(-tenth).map((x) => x[key]));
  return { early, late, percent: (100 * (late - early)) / early };
};
const rd = drift("receiver");
const sd = drift("sender");
const errors = {
  receiverCorrupt: r.framesCorrupt,
  receiverRejected: r.datagramsRejected,
  receiverDroppedIncomplete: r.framesDroppedIncomplete,
  senderSendErrors: s.sendErrors,
  senderErrorReports: s.errorReports,
  senderFramesSkipped: s.framesSkipped,
};
const errorTotal = errors.receiverCorrupt + errors.receiverRejected + errors.senderSendErrors + errors.senderErrorReports;

const byMinute = samples.filter((_, i) => i % Math.max(1, Math.round(60_000 / sampleMs)) === 0 || i === samples.length - 1);
const report = [
  `# Soak: send --loop at 1280x720, 30 fps, into receive --headless over loopback, ${minutes} min`,
  "",
  machineLine(),
  "",
  "Target: RSS drift under 10% (last tenth of the run against the second tenth), 0 errors.",
  "",
  "| process | RSS early (MiB) | RSS late (MiB) | drift |",
  "|---|---|---|---|",
  `| receiver | ${rd.early.toFixed(1)} | ${rd.late.toFixed(1)} | ${rd.percent.toFixed(1)}% |`,
  `| sender | ${sd.early.toFixed(1)} | ${sd.late.toFixed(1)} | ${sd.percent.toFixed(1)}% |`,
  "",
  `Frames: sent ${s.frames}, received ${r.framesReceived}, shown ${r.framesShown}, skipped by the receiver for a newer one ${r.framesSkipped}.`,
  `Errors (${errorTotal}): ${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
  "",
  "| minute | receiver RSS (MiB) | sender RSS (MiB) |",
  "|---|---|---|",
  ...byMinute.map((x) => `| ${x.minute.toFixed(1)} | ${x.receiver.toFixed(1)} | ${x.sender.toFixed(1)} |`),
  "",
].join("\n");
console.log(report);
saveResult("soak.md", report);
const yMax = Math.ceil(Math.max(...samples.flatMap((x) => [x.receiver, x.sender])) / 50) * 50;
saveResult(
  "soak.svg",
  lineChartSvg({
    title: `RSS over a ${minutes}-minute soak at 720p30`,
    yLabel: "RSS (MiB)",
    yMax,
    panels: [
      {
        title: "send --loop → receive --headless",
        xLabel: "minutes",
        series: [
          { name: "receiver", points: samples.map((x) => ({ x: Number(x.minute.toFixed(1)), y: x.receiver })) },
          { name: "sender", points: samples.map((x) => ({ x: Number(x.minute.toFixed(1)), y: x.sender })) },
        ],
      },
    ],
  }),
);
console.log("written to bench/results/soak.md and bench/results/soak.svg");
