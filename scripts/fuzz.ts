// The long fuzz run: seeded hostile datagrams of every kind (test/helpers/
// hostile-datagrams.ts) into the receiver's core in-process, then into a real
// `udpvid receive` over loopback, watching memory against the cap throughout.
//   bun run fuzz [--seconds 60] [--socket-datagrams 100000] [--seed 1]
// Writes bench/results/fuzz.md.
import { machineLine, saveResult } from "./bench/report.ts";
import { parseArgs } from "node:util";
import { CorruptFrameError, decodeJpeg, OversizedFrameError } from "../src/decoder/jpeg-decoder.ts";
import { encodeJpeg } from "../src/encoder/jpeg-encoder.ts";
import { StreamAssembler } from "../src/reassembler/stream-assembler.ts";
import { hostileDatagrams, type HostileKind } from "../test/helpers/hostile-datagrams.ts";
import { UDPVID_CLI, readSummary } from "./lib/udpvid-summary.ts";
import { rssMiB } from "./lib/processes.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, "socket-datagrams": { type: "string", default: "100000" }, seed: { type: "string", default: "1" } },
});
const seconds = Number(values.seconds);
const socketDatagrams = Number(values["socket-datagrams"]);
const firstSeed = Number(values.seed);
const CAP_MIB = 16;

const rgb = new Uint8Array(320 * 180 * 3);
for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + (i >> 9)) & 0xff;
const sample = await encodeJpeg(rgb, 320, 180, 80);
const rss = () => process.memoryUsage.rss() / 2 ** 20;

// 1. In-process: every datagram into the assembler, every frame it yields into the strict decoder.
const assembler = new StreamAssembler({ maxMemoryBytes: CAP_MIB * 2 ** 20 });
const kinds = new Map<HostileKind, number>();
const decodes = { decoded: 0, corrupt: 0, oversized: 0 };
let sent = 0;
let peakBuffered = 0;
let now = 0;
const rssStart = rss();
let rssPeak = rssStart;
const started = performance.now();
for (let seed = firstSeed; performance.now() - started < seconds * 1000; seed++) {
  let n = 0;
  for (const { kind, bytes } of hostileDatagrams(seed, sample)) {
    if (++n > 50_000) break;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    now += 1;
    const events = assembler.push(bytes, now);
    if (n % 100 === 0) events.push(...assembler.expire(now));
    for (const event of events) {
      if (event.kind !== "frame") continue;
      try {
        await decodeJpeg(event.frame.jpeg);
        decodes.decoded++;
      } catch (error) {
        if (!(error instanceof CorruptFrameError)) throw error; // anything else is a bug
        if (error instanceof OversizedFrameError) decodes.oversized++;
        else decodes.corrupt++;
      }
    }
    peakBuffered = Math.max(peakBuffered, assembler.bufferedBytes);
    sent++;
  }
  rssPeak = Math.max(rssPeak, rss());
  console.log(`seed ${seed}: ${sent} datagrams, peak buffered ${(peakBuffered / 2 ** 20).toFixed(2)} MiB, RSS ${rss().toFixed(0)} MiB`);
}
const inProcessSeconds = (performance.now() - started) / 1000;
if (peakBuffered > CAP_MIB * 2 ** 20) throw new Error(`buffered ${peakBuffered} bytes, over the ${CAP_MIB} MiB cap`);
const reasons = assembler.stats().rejectedByReason;

// 2. Over a real socket into a receiver process, paced so the kernel drops nothing and every datagram is counted.
const receiver = Bun.spawn([process.execPath, UDPVID_CLI, "receive", "--headless", "--port", "0", "--max-memory", String(CAP_MIB), "--json"], { stdout: "pipe", stderr: "pipe" });
const stdout = new Response(receiver.stdout).text();
let port = 0;
for await (const chunk of receiver.stderr.pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>) {
  const match = /Listening on \S+:(\d+)/.exec(chunk);
  if (match) {
    port = Number(match[1]);
    break;
  }
}
const processRss = () => rssMiB(receiver.pid);
await Bun.sleep(300);
const receiverStart = processRss();
let receiverPeak = receiverStart;
const socket = await Bun.udpSocket({});
let socketSent = 0;
let burst = 0;
for (const { bytes } of hostileDatagrams(firstSeed + 1000, sample)) {
  if (socketSent === socketDatagrams) break;
  while (!socket.send(bytes, port, "127.0.0.1")) await Bun.sleep(1); // our own send buffer full: wait, do not lose it
  socketSent++;
  if ((burst += bytes.length + 64) > 32 * 1024) {
    burst = 0;
    await Bun.sleep(4);
    if (socketSent % 100 < 20) receiverPeak = Math.max(receiverPeak, processRss());
  }
}
socket.close();
await Bun.sleep(500);
receiverPeak = Math.max(receiverPeak, processRss());
receiver.kill("SIGINT");
const summary = readSummary<any>(await stdout);
const counted = summary.datagramsReceived === socketSent;

const report = [
  "# Fuzz: hostile datagrams into the receiver",
  "",
  machineLine(),
  "",
  `## In-process: ${sent.toLocaleString("en")} datagrams in ${inProcessSeconds.toFixed(0)} s (${Math.round(sent / inProcessSeconds).toLocaleString("en")}/s), seeds ${firstSeed}…`,
  "",
  "| kind | datagrams |",
  "|---|---|",
  ...[...kinds].sort((a, b) => b[1] - a[1]).map(([kind, count]) => `| ${kind} | ${count.toLocaleString("en")} |`),
  "",
  `Rejected ${assembler.stats().datagramsRejected.toLocaleString("en")}: ${Object.entries(reasons).map(([r, c]) => `${r} ${c}`).join(", ")}.`,
  `Frames assembled and decoded: ${decodes.decoded}; refused by the strict decoder: ${decodes.corrupt} corrupt, ${decodes.oversized} over --max-pixels (refused from the header, unopened).`,
  `Assembly memory: peak ${(peakBuffered / 2 ** 20).toFixed(2)} MiB against a ${CAP_MIB} MiB cap. Process RSS ${rssStart.toFixed(0)} → peak ${rssPeak.toFixed(0)} MiB.`,
  "",
  `## Over loopback into \`udpvid receive --headless --max-memory ${CAP_MIB}\`: ${socketSent.toLocaleString("en")} datagrams`,
  "",
  `Received ${summary.datagramsReceived.toLocaleString("en")} (${counted ? "every one sent" : "NOT every one sent"}), rejected ${summary.datagramsRejected.toLocaleString("en")} by reason, ` +
    `${summary.framesShown} frames shown, ${summary.framesCorrupt} refused as corrupt (${summary.framesOversized} over --max-pixels); exit on Ctrl-C with ${summary.quitBy === "signal" ? "a summary" : summary.quitBy}.`,
  `Receiver RSS ${receiverStart.toFixed(0)} → peak ${receiverPeak.toFixed(0)} MiB (growth ${(receiverPeak - receiverStart).toFixed(0)} MiB; assembly cap ${CAP_MIB} MiB).`,
  "",
].join("\n");
console.log(report);
saveResult("fuzz.md", report);
if (!counted) process.exit(1);
