import { existsSync } from "node:fs";
import { encodeJpeg, DEFAULT_JPEG_QUALITY } from "../encoder/jpeg-encoder.ts";
import { loadSharp } from "../native/sharp.ts";
import { RtpJpegWireFormat, V2WireFormat, wireFormatFor } from "../packetizer/wire-format.ts";
import { endpoint } from "../feedback/feedback-gate.ts";
import { SenderFeedback, type SenderFeedbackStats } from "../feedback/sender-feedback.ts";
import { rtpJpegSdp } from "../protocol/sdp.ts";
import { DEFAULT_FEC_PERCENT, DEFAULT_V2_DATAGRAM_SIZE } from "../packetizer/v2-packetizer.ts";
import { PacedSender } from "../pacer/paced-sender.ts";
import { V2_HEADER_SIZE } from "../protocol/v2.ts";
import { MAX_UDP_PAYLOAD } from "../protocol/udp.ts";
import { isMulticast, parseHostPort, resolveHost } from "../socket/address.ts";
import { UdpSender } from "../socket/udp-sender.ts";
import { FanOutSender } from "../socket/fan-out-sender.ts";
import { checkInputFile, FfmpegSource } from "../source/ffmpeg-source.ts";
import { resolveFfmpeg } from "../source/ffmpeg-path.ts";
import { SendSession, type SendCounts } from "../session/send-session.ts";
import { orderedMap } from "../util/ordered-map.ts";
import { writeFileAtomically } from "../util/atomic-file.ts";
import { formatBytes, wallClockUs } from "../util/terminal.ts";
import { round } from "../util/round.ts";
import { SendProgress } from "../util/send-progress.ts";
import type { SenderState } from "../protocol/feedback-sender-state.ts";
import { AdaptiveEncoding, type RateStats, type RateTracePoint } from "../rate/adaptive-encoding.ts";
import { DEFAULT_MIN_QUALITY } from "../rate/encoding-planner.ts";
import { choiceOption, hostPortListOption, intOption, numberOption, parseCommand, stringListOption, stringOption, UsageError, type CommandSpec } from "./command-line.ts";
import { chooseSource, SourceChoiceError, type SourceChoice } from "../source/source-choice.ts";
import { loadKey } from "./key-option.ts";
import type { WireProtocol } from "../protocol/classify.ts";

export const sendSpec: CommandSpec = {
  name: "send",
  usage: "udpvid send [FILE|URL] [options]",
  summary: "Stream a video (default ./video.mp4; anything ffmpeg opens) over UDP, one JPEG per frame, paced in real time.",
  positionals: 1,
  options: {
    to: { type: "string", value: "HOST:PORT[,...]", description: "where to send (default 127.0.0.1:9999); several, comma-separated, each get the stream; a 239.x.x.x group for multicast" },
    ttl: { type: "string", value: "N", description: "hops datagrams may travel (multicast default 1: this network only)" },
    protocol: { type: "string", value: "v2|legacy|rtp", description: "wire protocol (default v2; legacy = the lab's 1-byte marker; rtp = RTP/JPEG, RFC 2435, for ffplay, VLC, GStreamer)" },
    sdp: { type: "string", value: "FILE", description: "with --protocol rtp: write the SDP file players open to receive the stream" },
    "test-pattern": { type: "boolean", description: "stream a generated test pattern (1280x720, 30 fps) instead of a file" },
    camera: { type: "boolean", description: "stream the default camera (v4l2 /dev/video0, avfoundation 0)" },
    "input-format": { type: "string", value: "FMT", description: "ffmpeg's input format for the source (e.g. lavfi, v4l2, x11grab)" },
    "input-option": { type: "string", value: "KEY=VALUE", multiple: true, description: "an ffmpeg input option for the source (repeatable), e.g. video_size=1280x720" },
    width: { type: "string", value: "N", description: "scale to N pixels wide (height follows unless given)" },
    height: { type: "string", value: "N", description: "scale to N pixels high (width follows unless given)" },
    quality: { type: "string", value: "N", description: `JPEG quality 1-100 (default ${DEFAULT_JPEG_QUALITY})` },
    fps: { type: "string", value: "N|max", description: "frames per second (default: the file's own rate); max = unpaced, as fast as it goes" },
    "low-latency": { type: "boolean", description: "send each frame in one burst instead of spreading it (for links where bursts are safe)" },
    loop: { type: "boolean", description: "start again at the end of the file, until Ctrl-C" },
    mtu: { type: "string", value: "BYTES", description: `largest v2 datagram (default ${DEFAULT_V2_DATAGRAM_SIZE}: never fragmented)` },
    fec: { type: "string", value: "PERCENT", description: `v2 Reed–Solomon parity, % of data: fixed (default: follows the receivers' reports; ${DEFAULT_FEC_PERCENT} until one arrives, or without them)` },
    "no-feedback": { type: "boolean", description: "ignore v2 receivers' NACKs and reports: fixed parity, no retransmission. Multicast and the legacy and RTP protocols have no feedback" },
    "max-rate": { type: "string", value: "MBIT", description: "never send faster than this many Mbit/s (with --adapt off, frames that fall behind are skipped)" },
    adapt: {
      type: "string",
      value: "on|off",
      description: "follow the path's capacity from the receivers' reports: lower JPEG quality, then picture size, then frame rate (default on for v2 unicast; --quality, --width/--height and --max-rate are ceilings)",
    },
    "min-quality": { type: "string", value: "N", description: `with adaptation, the lowest JPEG quality before the picture shrinks instead (default ${DEFAULT_MIN_QUALITY})` },
    ffmpeg: { type: "string", value: "PATH", description: "ffmpeg to decode with (else FFMPEG_BIN, ffmpeg-static, PATH)" },
    key: { type: "string", value: "FILE", description: "pre-shared key: encrypt and authenticate every v2 datagram (AES-256-GCM)" },
    "key-env": { type: "string", value: "VAR", description: "the same key, from environment variable VAR" },
    json: { type: "boolean", description: "print the summary as one JSON object on the last line" },
    quiet: { type: "boolean", short: "q", description: "no progress bar or status line on the terminal: only the start line and the summary" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  footer: "The legacy protocol has no integrity or authentication: any host can inject frames. Use v2 with --key for that.",
};

export interface SendOptions {
  /** The source's name as given (FILE, URL or device), for messages. */
  file: string;
  source: SourceChoice;
  /** The destinations as given, HOST:PORT each. */
  destinations: string[];
  ttl?: number;
  protocol: WireProtocol;
  sdp?: string;
  width?: number;
  height?: number;
  quality: number;
  /** Frames per second, or "max": unpaced, for measuring what the pipeline can do. */
  fps?: number | "max";
  lowLatency: boolean;
  loop: boolean;
  mtu: number;
  fecPercent: number;
  /** --fec was given: the parity share stays fixed instead of following the receivers' reports. */
  fecFixed: boolean;
  /** Hear v2 receivers (NACKs, reports); off with --no-feedback. */
  feedback: boolean;
  maxRateMbit?: number;
  /** Rate adaptation: "auto" is on wherever receivers report (v2 unicast with feedback). */
  adapt: "auto" | "on" | "off";
  minQuality: number;
  ffmpeg?: string;
  key?: Uint8Array;
  json: boolean;
  quiet: boolean;
}

/** The options a plain `udpvid send SOURCE --to DESTINATION` runs with: the one place send's defaults live. */
export function defaultSendOptions(source: SourceChoice, destination: string): SendOptions {
  return {
    file: source.label,
    source,
    destinations: [destination],
    protocol: "v2",
    quality: DEFAULT_JPEG_QUALITY,
    lowLatency: false,
    loop: false,
    mtu: DEFAULT_V2_DATAGRAM_SIZE,
    fecPercent: DEFAULT_FEC_PERCENT,
    fecFixed: false,
    feedback: true,
    adapt: "auto",
    minQuality: DEFAULT_MIN_QUALITY,
    json: false,
    quiet: false,
  };
}

export function parseSendOptions(argv: string[]): SendOptions | "help" {
  const { values, positionals } = parseCommand(sendSpec, argv);
  if (values.help) return "help";
  const destinations = hostPortListOption(values, "to") ?? ["127.0.0.1:9999"];
  const protocol = choiceOption(values, "protocol", ["v2", "legacy", "rtp"] as const) ?? "v2";
  const key = loadKey(stringOption(values, "key"), stringOption(values, "key-env"));
  if (key && protocol !== "v2") throw new UsageError(`the ${protocol} protocol cannot be encrypted: drop --key or use --protocol v2`);
  const sdp = stringOption(values, "sdp");
  if (sdp !== undefined && protocol !== "rtp") throw new UsageError("--sdp describes an RTP stream: add --protocol rtp");
  let source: SourceChoice;
  try {
    source = chooseSource({
      positional: positionals[0],
      inputFormat: stringOption(values, "input-format"),
      inputOptions: stringListOption(values, "input-option"),
      camera: values.camera === true,
      testPattern: values["test-pattern"] === true,
      platform: process.platform,
      defaultVideoExists: existsSync("video.mp4"),
    });
  } catch (error) {
    if (error instanceof SourceChoiceError) throw new UsageError(error.message);
    throw error;
  }
  const defaults = defaultSendOptions(source, destinations[0]!);
  const adapt = choiceOption(values, "adapt", ["on", "off"] as const) ?? defaults.adapt;
  if (adapt === "on" && protocol !== "v2") throw new UsageError(`--adapt on needs the receivers' reports, which only v2 has: drop --protocol ${protocol}`);
  if (adapt === "on" && values["no-feedback"] === true) throw new UsageError("--adapt on needs the receivers' reports: drop --no-feedback");
  return {
    ...defaults,
    destinations,
    ttl: intOption(values, "ttl", 1, 255),
    protocol,
    sdp,
    width: intOption(values, "width", 16, 16384),
    height: intOption(values, "height", 16, 16384),
    quality: intOption(values, "quality", 1, 100) ?? defaults.quality,
    fps: values.fps === "max" ? "max" : numberOption(values, "fps", 0.1, 1000),
    lowLatency: values["low-latency"] === true,
    loop: values.loop === true,
    mtu: intOption(values, "mtu", V2_HEADER_SIZE + 64, MAX_UDP_PAYLOAD) ?? defaults.mtu,
    fecPercent: intOption(values, "fec", 0, 100) ?? defaults.fecPercent,
    fecFixed: values.fec !== undefined,
    feedback: values["no-feedback"] !== true,
    maxRateMbit: numberOption(values, "max-rate", 0.01, 100_000),
    adapt,
    minQuality: intOption(values, "min-quality", 1, 100) ?? defaults.minQuality,
    ffmpeg: stringOption(values, "ffmpeg"),
    key,
    json: values.json === true,
    quiet: values.quiet === true,
  };
}

/** The end datagram goes out a few times: losing the only copy would leave receivers waiting for a timeout. */
const END_REPEATS = 3;
/** Sent datagrams kept for resending: a second of a 4K stream at its default quality, about. */
const RETRANSMIT_HISTORY_BYTES = 32 * 1024 * 1024;
/** Resends may add at most this share to the rate: a NACK flood cannot make the sender amplify. */
const RETRANSMIT_SHARE = 0.3;

export interface SendSummary extends SendCounts {
  to: string;
  width: number;
  height: number;
  datagrams: number;
  bytes: number;
  seconds: number;
  fps: number;
  mbps: number;
  sendErrors: number;
  errorReports: number;
  lastError: string | null;
  stoppedByUser: boolean;
  /** v2 unicast: what the receivers said and what was done about it (null: no return path). */
  returnPath: SenderFeedbackStats | null;
  /** Rate adaptation at the end, and every quarter second of it (--json). */
  rate: RateStats & { trace: RateTracePoint[] };
}

export async function runSend(options: SendOptions, signal: AbortSignal): Promise<SendSummary> {
  const ffmpegs = resolveFfmpeg(options.ffmpeg);
  if (options.source.isFile) checkInputFile(options.source.input);
  const targets = options.destinations.map((text) => parseHostPort(text));
  const resolved = await Promise.all(targets.map((t) => resolveHost(t.host).catch((error) => Promise.reject(new Error(`--to: ${error.message}`)))));
  const target = targets[0]!;
  const destination = resolved[0]!;
  const { input, inputFormat, inputOptions, live } = options.source;
  const opening = FfmpegSource.openWithFirstThatRuns(ffmpegs, { input, inputFormat, inputOptions, width: options.width, height: options.height, loop: options.loop }, (line) =>
    console.error(`udpvid send: ${line}`),
  );
  // libvips loads (and, in a binary, unpacks) while ffmpeg starts, instead of after its first frame.
  const [source] = await Promise.all([opening, loadSharp()]);
  const { width, height } = source.info;
  // Unpaced (--fps max): no clock, so no frame is ever late or skipped; each goes out as soon as it is encoded.
  // A live source (camera, network stream) already arrives in real time: pacing it again would only add lag.
  const fps = options.fps === "max" || live ? undefined : (options.fps ?? source.info.fps);
  const wire = wireFormatFor({ protocol: options.protocol, datagramSize: options.mtu, fecPercent: options.fecPercent, key: options.key, fps: fps ?? source.info.fps });
  const refusal = wire.refusePicture(width, height);
  if (refusal) {
    source.close();
    throw new UsageError(refusal);
  }
  const multicast = resolved.some((r) => isMulticast(r.address));
  if (options.adapt === "on" && multicast) {
    source.close();
    throw new UsageError("--adapt on needs the receivers' reports, and multicast receivers send none: drop --adapt on");
  }
  // One encoding serves every destination (encoding per destination would cost a core each): the stream follows the slowest.
  const rate = new AdaptiveEncoding({
    ceiling: { quality: options.quality, width, height },
    minQuality: options.minQuality,
    maxBps: options.maxRateMbit === undefined ? undefined : options.maxRateMbit * 1e6,
    adapt: options.adapt !== "off" && wire instanceof V2WireFormat && options.feedback && !multicast,
    // Unpaced (--fps max), every frame is sent: none is left out while the probe is answered.
    leaveOutWhileProbing: options.fps !== "max",
  });
  // v2 to unicast destinations hears its receivers: NACKs answered from the history, reports steer the parity and the rate.
  const feedback =
    wire instanceof V2WireFormat && options.feedback && !multicast
      ? new SenderFeedback({
          destinations: new Set(resolved.map((r, i) => endpoint(r.address, targets[i]!.port))),
          streamId: wire.streamId,
          preSharedKey: options.key,
          streamKey: wire.streamKey,
          historyBytes: RETRANSMIT_HISTORY_BYTES,
          retransmitShare: RETRANSMIT_SHARE,
          fixedFecPercent: options.fecFixed ? options.fecPercent : undefined,
          blindFecPercent: options.fecPercent,
          onReport: (receiverId, report, timing) => rate.report(receiverId, report, timing),
          onReceiverState: (receiverId, state, nowMs) => rate.receiverState(receiverId, state, nowMs),
        })
      : undefined;
  let resendPacers: PacedSender[] = [];
  const sender = new FanOutSender(
    await Promise.all(
      resolved.map(async ({ address, family }, i) => {
        const one = await UdpSender.open(address, targets[i]!.port, family, (datagram, from, port) => {
          const resend = feedback?.received(datagram, from, port, performance.now()) ?? [];
          // To the receiver that asked, through the pacer (so --max-rate holds for resends too).
          if (resend.length > 0) void resendPacers[i]?.sendFrame(resend, 0);
        });
        if (options.ttl !== undefined || isMulticast(address)) one.setTtl(options.ttl ?? 1, isMulticast(address));
        return one;
      }),
    ),
  );
  const maxBytesPerMs = options.maxRateMbit === undefined ? undefined : (options.maxRateMbit * 1e6) / 8 / 1000;
  resendPacers = resolved.map((_, i) => new PacedSender(sender.destination(i), maxBytesPerMs));
  const info = options.json ? console.error : console.log;
  info(`Streaming video to ${options.destinations.join(", ")} (${width}x${height}, ${live ? "live" : fps === undefined ? "unpaced" : `${round(fps)} fps`}, ${options.protocol})`);

  if (options.sdp && wire instanceof RtpJpegWireFormat) {
    try {
      writeFileAtomically(options.sdp, rtpJpegSdp({ address: destination.address, family: destination.family, port: target.port, sessionId: wire.stream.ssrc, fps: fps ?? source.info.fps, ttl: options.ttl }));
    } catch (error) {
      source.close();
      sender.close();
      throw new Error(`cannot write --sdp ${options.sdp}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    info(`Wrote ${options.sdp}: play the stream with ffplay -protocol_whitelist file,udp,rtp ${options.sdp}`);
  }
  const session = new SendSession({ fps, lowLatency: options.lowLatency, wire });
  // A bar for a file of known length (not looping, not live); else one status line; nothing off a terminal or with --quiet.
  const progress = new SendProgress(options.loop || live ? undefined : source.info.durationSeconds, process.stderr.isTTY === true && !options.quiet);
  const paced = new PacedSender(sender, maxBytesPerMs);
  const stop = () => source.close();
  signal.addEventListener("abort", stop);
  const statusTimer = setInterval(() => {
    const seconds = session.elapsedSeconds(performance.now());
    // Receivers are told what the stream aims at and why (with a return path: the way they know the sender), once it has begun.
    if (feedback && session.counts().frames > 0) sender.sendControl(feedback.announce(senderStateOf(rate.stats(performance.now()), rate.targetBps(performance.now()))));
    const { frames, framesSkipped } = session.counts();
    const refused = sender.stats.sendErrors + sender.stats.errorReports;
    progress.update({
      positionSeconds: session.position / source.info.fps,
      fps: seconds > 0 ? frames / seconds : 0,
      mbps: seconds > 0 ? (sender.stats.bytesSent * 8) / seconds / 1e6 : 0,
      extra:
        `  ${formatBytes(sender.stats.bytesSent)}` +
        (framesSkipped ? `  ${framesSkipped} skipped to keep up` : "") +
        (refused ? `  ${refused} refused (nobody listening?)` : "") +
        (feedback ? describeReturnPathLive(feedback.stats(performance.now())) : "") +
        describeRateLive(rate.stats(performance.now())),
    });
  }, 500);

  try {
    const budgetFps = fps ?? source.info.fps;
    let taken = 0;
    const encoded = orderedMap(
      source.frames(),
      async (frame) => {
        try {
          const now = performance.now();
          const parity = feedback ? feedback.parityPercent(now) : wire.fecPercent;
          const plan = rate.next(taken++, budgetFps, parity, feedback ? feedback.lossFraction : 0, now);
          if (plan === "skip") return undefined;
          const jpeg = await encodeJpeg(frame.rgb, width, height, plan.quality, plan);
          rate.encoded(plan, jpeg.length);
          return jpeg;
        } finally {
          source.recycle(frame);
        }
      },
      2,
    );
    for await (const jpeg of encoded) {
      if (signal.aborted) break;
      if (jpeg === undefined) {
        session.skipForRate();
        continue;
      }
      const dueMs = session.nextDueMs(performance.now(), wallClockUs());
      if (dueMs !== undefined) await sleepUntil(dueMs);
      // The probe not yet answered when this frame is due: its time slot passes unsent, as one left out for rate.
      if (rate.leavesOutForProbe(performance.now())) {
        session.skipForRate();
        continue;
      }
      if (feedback && wire instanceof V2WireFormat) wire.fecPercent = feedback.parityPercent(performance.now());
      const decision = session.frame(jpeg, performance.now(), wallClockUs());
      if (decision.kind === "skip") continue;
      const sendStartMs = performance.now();
      // The probe goes at once: how the path spreads it out is its capacity.
      const windowMs = rate.isProbe(decision.index) ? 0 : decision.windowMs;
      // Into the history before the first datagram leaves: on a short path a NACK for it comes back while the pacer is still sending it.
      feedback?.frameSent(decision.index, decision.datagrams, sendStartMs, sendStartMs + windowMs);
      // A burst (--low-latency, --fps max) goes straight to the socket, which waits for drain when its buffer is full.
      if (windowMs === 0 && options.maxRateMbit === undefined) await sender.send(decision.datagrams);
      else await paced.sendFrame(decision.datagrams, windowMs);
      const sendEndMs = performance.now();
      rate.sent(decision.datagrams.reduce((sum, d) => sum + d.length, 0), sendEndMs, decision.lateMs, sendEndMs - sendStartMs);
    }
    const endMs = session.endDueMs();
    if (endMs !== undefined && !signal.aborted) await sleepUntil(endMs);
  } finally {
    signal.removeEventListener("abort", stop);
    clearInterval(statusTimer);
    progress.stop();
    source.close();
  }
  const seconds = session.elapsedSeconds(performance.now());
  // Taken before the end datagrams: a receiver that quits on the first one makes the rest bounce.
  const { bytesSent, datagramsSent, sendErrors, errorReports, lastError } = { ...sender.stats };
  const end = session.endOfStream(wallClockUs());
  for (let i = 0; end.length > 0 && i < END_REPEATS; i++) {
    await sender.send(end);
    await Bun.sleep(5);
  }
  sender.close();
  const counts = session.counts();
  return {
    to: options.destinations.join(","),
    width,
    height,
    ...counts,
    datagrams: datagramsSent,
    bytes: bytesSent,
    seconds: round(seconds, 3),
    fps: round(counts.frames / seconds, 2),
    mbps: round((bytesSent * 8) / seconds / 1e6, 2),
    sendErrors,
    errorReports,
    lastError: lastError ?? null,
    stoppedByUser: signal.aborted,
    returnPath: feedback?.stats(performance.now()) ?? null,
    rate: { ...rate.stats(performance.now()), trace: rate.traced() },
  };
}

/** Rate adaptation for the live status line: only once it has changed something. */
function describeRateLive(r: RateStats): string {
  if (r.targetMbps === null && r.scale === 1 && r.framesSkippedForRate === 0) return "";
  return `  target ${r.targetMbps ?? "-"} Mbit/s (${r.reason}) q${r.quality} ${r.width}x${r.height} ${r.fps} fps`;
}

/** What the receivers are told of the stream's rate (the state number is the return path's). */
function senderStateOf(r: RateStats, targetBps: number | undefined): Omit<SenderState, "stateNumber"> {
  return { targetBps, reason: r.reason, quality: r.quality, width: r.width, height: r.height, fps: r.fps };
}

/** "2 cut-backs: 1 delay growing, 1 overwhelmed". */
function describeCuts(r: RateStats): string {
  const causes = Object.entries(r.cuts ?? {}).filter(([, n]) => n > 0);
  return `${r.decreases} cut-backs` + (causes.length ? `: ${causes.map(([cause, n]) => `${n} ${cause.replace("-", " ")}`).join(", ")}` : "");
}

/** The return path's numbers for the live status line. */
function describeReturnPathLive(s: SenderFeedbackStats): string {
  return (s.rttMs === null ? "" : `  rtt ${Math.round(s.rttMs)} ms`) + (s.chunksResent ? `  resent ${s.chunksResent} datagrams` : "") + `  fec ${s.parityPercent}%`;
}

export function describeSendSummary(s: SendSummary): string {
  return (
    `Sent ${s.frames} frames (${formatBytes(s.bytes)} in ${s.datagrams} datagrams) to ${s.to} in ${s.seconds.toFixed(2)} s: ` +
    `${s.fps} fps, ${s.mbps} Mbit/s, ${s.overheadPercent}% overhead${s.fecPercent ? ` (FEC ${s.fecPercent}%)` : ""}` +
    (s.framesSkipped ? `; ${s.framesSkipped} frames skipped to keep up` : "") +
    (s.sendErrors ? `; ${s.sendErrors} datagrams could not be sent` : "") +
    (s.errorReports ? `; ${s.errorReports} errors reported back (last: ${s.lastError}): is anyone listening at ${s.to}?` : "") +
    (s.returnPath && s.returnPath.feedbackReceived > 0
      ? `\nReturn path: ${s.returnPath.reportsReceived} reports, ${s.returnPath.nacksReceived} NACKs asking for ${s.returnPath.chunksRequested} chunks, ${s.returnPath.chunksResent} resent` +
        `${s.returnPath.rttMs === null ? "" : `, RTT ${s.returnPath.rttMs} ms`}, loss ${s.returnPath.lossPercent}%, parity now ${s.returnPath.parityPercent}%`
      : "") +
    (s.rate.decreases > 0 || s.rate.framesSkippedForRate > 0
      ? `\nRate: followed the path (${describeCuts(s.rate)}); at the end (${s.rate.reason}) ${s.rate.targetMbps === null ? "unconstrained" : `${s.rate.targetMbps} Mbit/s`}, quality ${s.rate.quality}, ${s.rate.width}x${s.rate.height}, ${s.rate.fps} fps` +
        (s.rate.framesSkippedForRate ? `; ${s.rate.framesSkippedForRate} frames left out to fit` : "")
      : "")
  );
}

async function sleepUntil(deadlineMs: number): Promise<void> {
  const wait = deadlineMs - performance.now();
  if (wait > 0) await Bun.sleep(wait);
}
