import { decodeJpeg, warmUpDecoder, type RgbaImage } from "../decoder/jpeg-decoder.ts";
import { LatestFrameDecoder } from "../decoder/latest-frame-decoder.ts";
import type { SdlWindowDisplay } from "../display/sdl-window.ts";
import { MjpegRecorder } from "../recorder/mjpeg-recorder.ts";
import { StreamAssembler, type AssembledFrame, type AssemblerEvent } from "../reassembler/stream-assembler.ts";
import { elapsedSinceCaptureUs } from "../protocol/v2.ts";
import { UdpReceiver } from "../socket/udp-receiver.ts";
import { RecentSamples } from "../util/percentiles.ts";
import { formatBytes, round, StatusLine, wallClockUs } from "../util/terminal.ts";
import { numberOption, parseCommand, portOption, stringOption, type CommandSpec } from "./command-line.ts";

export const receiveSpec: CommandSpec = {
  name: "receive",
  usage: "udpvid receive [options]",
  summary: "Receive a udpvid stream (v2 or the lab's legacy protocol, told apart per datagram) and show it in a window.",
  positionals: 0,
  options: {
    port: { type: "string", value: "N", description: "UDP port to listen on (default 9999; 0 picks a free one)" },
    bind: { type: "string", value: "ADDR", description: "local address to listen on (default 0.0.0.0: all)" },
    headless: { type: "boolean", description: "no window (SDL is not loaded); decode, count, record" },
    record: { type: "string", value: "FILE", description: "write every shown frame's JPEG to FILE as MJPEG (ffplay -f mjpeg FILE)" },
    "idle-timeout": { type: "string", value: "SECONDS", description: "exit once a stream has started and been silent this long, or has ended" },
    json: { type: "boolean", description: "print the summary as one JSON object on the last line" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  footer: "Keys in the window: q or Esc quits.\nThe legacy protocol has no integrity or authentication: any host can inject frames.",
};

export interface ReceiveOptions {
  port: number;
  bind: string;
  headless: boolean;
  record?: string;
  idleTimeoutSeconds?: number;
  json: boolean;
}

export function parseReceiveOptions(argv: string[]): ReceiveOptions | "help" {
  const { values } = parseCommand(receiveSpec, argv);
  if (values.help) return "help";
  return {
    port: portOption(values, "port") ?? 9999,
    bind: stringOption(values, "bind") ?? "0.0.0.0",
    headless: values.headless === true,
    record: stringOption(values, "record"),
    idleTimeoutSeconds: numberOption(values, "idle-timeout", 0.01, 86400),
    json: values.json === true,
  };
}

/** Largest frame either protocol may assemble: a 4K JPEG at high quality fits with room to spare. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HOUSEKEEPING_MS = 50;

export interface ReceiveSummary {
  port: number;
  seconds: number;
  datagramsReceived: number;
  datagramsRejected: number;
  rejectedByReason: Record<string, number>;
  /** v2 only (legacy datagrams carry no numbers to count loss by). */
  datagramsLost: number;
  datagramsRecovered: number;
  datagramsDuplicated: number;
  datagramsReordered: number;
  datagramsLate: number;
  bytesReceived: number;
  framesReceived: number;
  framesRecovered: number;
  framesShown: number;
  framesSkipped: number;
  framesDroppedIncomplete: number;
  framesCorrupt: number;
  fps: number;
  mbps: number;
  latencyMs: { p50: number; p95: number; p99: number } | null;
  streamEnded: boolean;
  recorded: number;
  quitBy: "key" | "window" | "signal" | "idle-timeout" | "end-of-stream";
}

/** Resolves with a summary when the user quits, the stream ends (with --idle-timeout) or goes idle. */
export async function runReceive(options: ReceiveOptions, signal: AbortSignal, onListening?: (port: number) => void): Promise<ReceiveSummary> {
  const assembler = new StreamAssembler({ maxFrameBytes: MAX_FRAME_BYTES });
  const recorder = options.record ? MjpegRecorder.open(options.record) : undefined;
  const latency = new RecentSamples();
  let quit: (by: ReceiveSummary["quitBy"]) => void = () => {};
  const quitBy = new Promise<ReceiveSummary["quitBy"]>((resolve) => (quit = resolve));
  signal.addEventListener("abort", () => quit("signal"));

  let display: SdlWindowDisplay | undefined;
  if (!options.headless) {
    const { SdlWindowDisplay } = await import("../display/sdl-window.ts");
    display = await SdlWindowDisplay.open(() => quit("key"));
  }

  await warmUpDecoder();
  let shown = 0;
  let firstShownMs = 0;
  let lastShownMs = 0;
  const decoder = new LatestFrameDecoder<AssembledFrame, RgbaImage>(
    (frame) => decodeJpeg(frame.jpeg),
    (frame, image) => {
      lastShownMs = performance.now();
      if (shown++ === 0) firstShownMs = lastShownMs;
      recorder?.write(frame.jpeg);
      display?.show(image);
      const elapsed = frame.captureTimeUs === undefined ? undefined : elapsedSinceCaptureUs(wallClockUs(), frame.captureTimeUs);
      if (elapsed !== undefined) latency.add(elapsed / 1000);
    },
  );

  let streamStarted = false;
  let streamEnded = false;
  let lastDatagramMs = 0;
  const handle = (events: AssemblerEvent[]) => {
    for (const event of events) {
      if (event.kind === "frame") {
        streamEnded = false;
        decoder.offer(event.frame);
      } else {
        streamEnded = true;
        if (options.idleTimeoutSeconds !== undefined) quit("end-of-stream");
      }
    }
  };
  const receiver = await UdpReceiver.open(options.bind, options.port, (datagram) => {
    const now = performance.now();
    const rejectedBefore = assembler.stats.datagramsRejected;
    const events = assembler.push(datagram, now);
    if (assembler.stats.datagramsRejected === rejectedBefore) {
      streamStarted = true;
      lastDatagramMs = now;
    }
    handle(events);
  }).catch((error) => {
    display?.close();
    recorder?.close();
    throw error;
  });
  onListening?.(receiver.port);
  const info = options.json ? console.error : console.log;
  info(`Listening on ${options.bind}:${receiver.port}${options.headless ? " (headless)" : ""}`);

  const startMs = performance.now();
  const status = new StatusLine();
  let lastStatusMs = startMs;
  const housekeeping = setInterval(() => {
    const now = performance.now();
    handle(assembler.expire(now));
    if (streamStarted && options.idleTimeoutSeconds !== undefined && now - lastDatagramMs > options.idleTimeoutSeconds * 1000) {
      quit("idle-timeout");
    }
    if (now - lastStatusMs >= 500) {
      lastStatusMs = now;
      const seconds = (now - startMs) / 1000;
      const v2 = assembler.v2;
      const lossPercent = (100 * v2.chunksLost) / Math.max(1, v2.stats.chunksExpected);
      status.update(
        `${streamEnded ? "stream ended" : streamStarted ? "receiving" : "waiting"}  shown ${shown}  ` +
          `recovered ${v2.stats.framesRecovered}  dropped ${assembler.framesDroppedIncomplete + decoder.stats.corrupt}  skipped ${decoder.stats.skipped}  ` +
          `loss ${round(lossPercent, 1)}%  rejected ${assembler.stats.datagramsRejected}  ` +
          `${round((assembler.stats.bytesReceived * 8) / seconds / 1e6, 1)} Mbit/s` +
          (latency.count ? `  latency p50 ${round(latency.percentile(50)!, 0)} ms` : ""),
      );
    }
  }, HOUSEKEEPING_MS);

  const by = await quitBy;
  clearInterval(housekeeping);
  status.clear();
  receiver.close();
  await decoder.idle();
  recorder?.close();
  display?.close();

  const seconds = (performance.now() - startMs) / 1000;
  const p = (q: number) => round(latency.percentile(q) ?? 0, 1);
  return {
    port: receiver.port,
    seconds: round(seconds, 3),
    datagramsReceived: assembler.stats.datagramsReceived,
    datagramsRejected: assembler.stats.datagramsRejected,
    rejectedByReason: { ...assembler.stats.rejectedByReason },
    datagramsLost: assembler.v2.chunksLost,
    datagramsRecovered: assembler.v2.stats.chunksRecovered,
    datagramsDuplicated: assembler.v2.stats.chunksDuplicate,
    datagramsReordered: assembler.v2.stats.chunksReordered,
    datagramsLate: assembler.v2.stats.chunksLate,
    bytesReceived: assembler.stats.bytesReceived,
    framesReceived: assembler.framesReceived,
    framesRecovered: assembler.v2.stats.framesRecovered,
    framesShown: shown,
    framesSkipped: decoder.stats.skipped,
    framesDroppedIncomplete: assembler.framesDroppedIncomplete,
    framesCorrupt: decoder.stats.corrupt,
    // Over the time frames were being shown, not the time spent waiting for a stream.
    fps: shown > 1 ? round((shown - 1) / ((lastShownMs - firstShownMs) / 1000), 2) : 0,
    mbps: round((assembler.stats.bytesReceived * 8) / seconds / 1e6, 2),
    latencyMs: latency.count > 0 ? { p50: p(50), p95: p(95), p99: p(99) } : null,
    streamEnded,
    recorded: recorder?.framesWritten ?? 0,
    quitBy: by,
  };
}

export function describeReceiveSummary(s: ReceiveSummary): string {
  const lines = [
    `Received ${s.framesReceived} frames in ${s.seconds.toFixed(2)} s (${formatBytes(s.bytesReceived)}, ${s.datagramsReceived} datagrams): ` +
      `${s.framesShown} shown (${s.fps} fps), ${s.framesSkipped} skipped, ${s.framesDroppedIncomplete} dropped incomplete, ${s.framesCorrupt} corrupt`,
  ];
  if (s.datagramsLost || s.datagramsRecovered || s.datagramsDuplicated || s.datagramsReordered) {
    lines.push(
      `Datagrams: ${s.datagramsLost} lost, ${s.datagramsRecovered} rebuilt by FEC (${s.framesRecovered} frames saved), ` +
        `${s.datagramsDuplicated} duplicated, ${s.datagramsReordered} reordered`,
    );
  }
  if (s.datagramsRejected) {
    const reasons = Object.entries(s.rejectedByReason)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    lines.push(`Rejected ${s.datagramsRejected} datagrams (${reasons})`);
  }
  if (s.latencyMs) lines.push(`Latency capture→display: p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms, p99 ${s.latencyMs.p99} ms`);
  if (s.recorded) lines.push(`Recorded ${s.recorded} frames`);
  return lines.join("\n");
}
