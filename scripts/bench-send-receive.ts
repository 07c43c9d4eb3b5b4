// End-to-end figures for `udpvid send` → `udpvid receive --headless` over
// loopback, for each protocol, on the bundled 720p clip, in one run:
// wall time of the send, share of frames shown intact, CPU per frame.
//   bun run bench:e2e [--runs N]
import { machineLine, saveResult } from "./bench/report.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { UDPVID_CLI, summaryOf } from "./lib/udpvid-summary.ts";
import { cpuMs, untilListening } from "./lib/processes.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "1" } } });
const runs = Number(values.runs);

interface Row {
  protocol: string;
  run: number;
  sendSeconds: number;
  framesSent: number;
  framesReceived: number;
  framesShown: number;
  framesSkipped: number;
  framesCorrupt: number;
  intactShare: number;
  senderCpuMsPerFrame: number;
  receiverCpuMsPerFrame: number;
  latency: { p50: number; p95: number; p99: number } | null;
}



async function once(protocol: "v2" | "legacy", run: number, port: number): Promise<Row> {
  const receiver = Bun.spawn([process.execPath, UDPVID_CLI, "receive", "--headless", "--port", String(port), "--idle-timeout", "2", "--json"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  await untilListening(receiver);
  const sender = Bun.spawn([process.execPath, UDPVID_CLI, "send", join(ROOT, "video.mp4"), "--to", `127.0.0.1:${port}`, "--protocol", protocol, "--json"], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const [sent, received] = await Promise.all([summaryOf<any>(sender), summaryOf<any>(receiver)]);
  await Promise.all([sender.exited, receiver.exited]);
  return {
    protocol,
    run,
    sendSeconds: sent.seconds,
    framesSent: sent.frames,
    framesReceived: received.framesReceived,
    framesShown: received.framesShown,
    framesSkipped: received.framesSkipped,
    framesCorrupt: received.framesCorrupt,
    intactShare: received.framesReceived / sent.frames,
    senderCpuMsPerFrame: cpuMs(sender) / sent.frames,
    receiverCpuMsPerFrame: cpuMs(receiver) / Math.max(1, received.framesReceived),
    latency: received.latencyMs ?? null,
  };
}

const rows: Row[] = [];
for (let run = 1; run <= runs; run++) {
  for (const protocol of ["v2", "legacy"] as const) {
    rows.push(await once(protocol, run, 20000 + Math.floor(Math.random() * 20000)));
  }
}

const header = `# udpvid send → receive --headless, loopback, video.mp4 (1280x720, 300 frames, JPEG q80)\n\n` +
  `${machineLine()}\n\n`;
const table = [
  "| protocol | run | send time (s) | frames sent | arrived complete | intact share | shown | skipped (newer frame waiting) | corrupt | sender CPU ms/frame | receiver CPU ms/frame | latency p50 / p95 / p99 (ms) |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.protocol} | ${r.run} | ${r.sendSeconds.toFixed(3)} | ${r.framesSent} | ${r.framesReceived} | ${(r.intactShare * 100).toFixed(1)}% | ${r.framesShown} | ${r.framesSkipped} | ${r.framesCorrupt} | ${r.senderCpuMsPerFrame.toFixed(1)} | ${r.receiverCpuMsPerFrame.toFixed(1)} | ${r.latency ? `${r.latency.p50} / ${r.latency.p95} / ${r.latency.p99}` : "n/a"} |`,
  ),
].join("\n");
const ratio = (() => {
  const v2 = rows.filter((r) => r.protocol === "v2");
  const legacy = rows.filter((r) => r.protocol === "legacy");
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return `\nreceiver CPU per frame, v2 ÷ legacy: ${(mean(v2.map((r) => r.receiverCpuMsPerFrame)) / mean(legacy.map((r) => r.receiverCpuMsPerFrame))).toFixed(2)}\n` +
    `sender CPU per frame, v2 ÷ legacy: ${(mean(v2.map((r) => r.senderCpuMsPerFrame)) / mean(legacy.map((r) => r.senderCpuMsPerFrame))).toFixed(2)}\n`;
})();
// Issue target: p99 capture → display within one frame interval (33.3 ms at 30 fps) + 15 ms on loopback.
const latencyTarget = `latency target (720p30, loopback): p99 ≤ 48.3 ms; worst v2 p99 here: ${Math.max(...rows.flatMap((r) => (r.latency ? [r.latency.p99] : [])))} ms\n`;
const report = header + table + "\n" + ratio + latencyTarget;
console.log(report);
const file = saveResult("send-receive.md", report);
console.log(`written to ${file}`);
