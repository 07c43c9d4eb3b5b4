import { existsSync } from "node:fs";
import { DEFAULT_JPEG_QUALITY } from "../encoder/jpeg-encoder.ts";
import { chooseFrameEncoder, type FrameEncoder } from "../encoder/frame-encoder.ts";
import { turboJpeg } from "../native/turbojpeg.ts";
import { wireFormatFor, type WireFormat } from "../packetizer/wire-format.ts";
import { endpoint } from "../feedback/feedback-gate.ts";
import type { SenderFeedbackStats } from "../feedback/sender-feedback.ts";
import { DEFAULT_FEC_PERCENT, DEFAULT_V2_DATAGRAM_SIZE } from "../packetizer/v2-packetizer.ts";
import { PacedSender } from "../pacer/paced-sender.ts";
import { SoundRideAlong } from "../pacer/sound-ride-along.ts";
import { V2_HEADER_SIZE } from "../protocol/v2.ts";
import { MAX_UDP_PAYLOAD } from "../protocol/udp.ts";
import { isMulticast, parseHostPort, resolveHost } from "../socket/address.ts";
import { UdpSender } from "../socket/udp-sender.ts";
import { FanOutSender } from "../socket/fan-out-sender.ts";
import { checkInputFile, FfmpegSource, type VideoInfo } from "../source/ffmpeg-source.ts";
import { resolveFfmpeg } from "../source/ffmpeg-path.ts";
import type { SendCounts } from "../session/send-session.ts";
import { pictureBytesPerMs, SendPipeline } from "../session/send-pipeline.ts";
import type { FfmpegAudioSource } from "../source/ffmpeg-audio-source.ts";
import { openSound, StartOrder, streamSound } from "./send-audio.ts";
import { orderedMap } from "../util/ordered-map.ts";
import { writeFileAtomically } from "../util/atomic-file.ts";
import { formatBytes, wallClockUs } from "../util/terminal.ts";
import { round } from "../util/round.ts";
import { SendProgress } from "../util/send-progress.ts";
import type { RateStats } from "../rate/adaptive-encoding.ts";
import type { RateTracePoint } from "../rate/rate-trace.ts";
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
    "no-audio": { type: "boolean", description: "leave the sound out (default: the source's first audio stream goes with the picture, as Opus)" },
    "audio-stream": { type: "string", value: "N", description: "send the source's audio stream N (counted from 0) instead of the first" },
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
  /** --no-audio: picture only. */
  noAudio: boolean;
  /** --audio-stream N: which of the source's audio streams (default: the first, if any). */
  audioStream?: number;
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
    noAudio: false,
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
  if (values["no-audio"] === true && values["audio-stream"] !== undefined) throw new UsageError("--no-audio and --audio-stream contradict each other: give one");
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
    noAudio: values["no-audio"] === true,
    audioStream: intOption(values, "audio-stream", 0, 63),
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
  /**
   * The sound track's Opus packets and their bytes on the wire, parity and
   * headers included, and how many went at the head of a picture batch
   * rather than on their own (null: picture only).
   */
  audio: { packets: number; bytes: number; withPicture: number } | null;
  /**
   * The wall clock (µs since 1970) the stream's clock started at: frame 0's
   * capture time, and the sound's first sample's, as stamped on the wire
   * (less 2^32 wraps there). null: no frame went.
   */
  clockStartUs: number | null;
  /** What made the JPEGs: TurboJPEG from YUV planes, or sharp from RGB (the fallback), and from where or why. */
  encoder: { name: FrameEncoder["name"]; detail: string };
  /** How frames came from ffmpeg: a FIFO read ahead by a worker thread, or its stdout (where there are no FIFOs: Windows). */
  frameReader: FfmpegSource["frameReader"];
}

export async function runSend(options: SendOptions, signal: AbortSignal): Promise<SendSummary> {
  const ffmpegs = resolveFfmpeg(options.ffmpeg);
  if (options.source.isFile) checkInputFile(options.source.input);
  const destinations = await resolveDestinations(options);
  const { source, sound, encoder } = await openSources(options, ffmpegs);
  const sockets: FanOutSender[] = [];
  try {
    // Unpaced (--fps max): no clock, so no frame is ever late or skipped; each goes out as soon as it is encoded.
    // A live source (camera, network stream) already arrives in real time: pacing it again would only add lag.
    const fps = options.fps === "max" || options.source.live ? undefined : (options.fps ?? source.info.fps);
    const wire = wireFormatFor({ protocol: options.protocol, datagramSize: options.mtu, key: options.key, fps: fps ?? source.info.fps });
    const refusal = wire.refusePicture(source.info.width, source.info.height);
    if (refusal) throw new UsageError(refusal);
    const audioChannels = sound ? (sound.head.channels === 1 ? 1 : 2) : undefined;
    const pipeline = pipelineFor(options, wire, destinations, source.info, fps, audioChannels);
    const { sender, soundSender } = await openSenders(options, destinations, wire, pipeline, sockets);
    announce(options, wire, destinations, source.info, fps, pipeline.carriesAudio ? audioChannels : undefined);
    const stop = () => source.close();
    signal.addEventListener("abort", stop);
    const status = showStatus(options, pipeline, sender, source.info);
    const start = new StartOrder(sound !== undefined);
    // Sound on the picture's own socket leaves in the pacer's batches where one comes shortly before it is due.
    const rideAlong = new SoundRideAlong();
    const pacer = new PacedSender(sender, maxBytesPerMs(options, pipeline), performance.now(), soundSender ? undefined : rideAlong);
    try {
      await Promise.all([
        streamFrames(source, encoder, pipeline, sender, pacer, options, signal, start).finally(() => start.clockStarted()),
        sound ? streamSound(sound, pipeline, soundSender ?? sender, rideAlong, start, signal).finally(() => start.soundGone()) : undefined,
      ]);
    } finally {
      signal.removeEventListener("abort", stop);
      status.stop();
    }
    return { ...(await finish(options, pipeline, sender, rideAlong, source.info, signal.aborted)), encoder: { name: encoder.name, detail: encoder.detail }, frameReader: source.frameReader };
  } finally {
    source.close();
    sound?.close();
    for (const socket of sockets) socket.close();
  }
}

/** The picture's share of --max-rate in bytes a ms (undefined: no cap). */
function maxBytesPerMs(options: SendOptions, pipeline: SendPipeline): number | undefined {
  return pictureBytesPerMs(options.maxRateMbit === undefined ? undefined : options.maxRateMbit * 1e6, pipeline.carriesAudio);
}

/**
 * The sockets to the receivers (added to `sockets`, for closing): the
 * picture's, which also hears their feedback, and RTP's sound's, on the
 * picture's port + 2. A resend goes to the receiver that asked, through its
 * own pacer (so --max-rate holds for resends too).
 */
async function openSenders(options: SendOptions, destinations: Destination[], wire: WireFormat, pipeline: SendPipeline, sockets: FanOutSender[]) {
  const sender = await openSockets(options, destinations);
  sockets.push(sender);
  destinations.forEach((_, i) => {
    const pacer = new PacedSender(sender.destination(i), maxBytesPerMs(options, pipeline));
    sender.destination(i).listen((datagram, from, port) => {
      const resend = pipeline.received(datagram, from, port, performance.now());
      if (resend.length > 0) void pacer.sendFrame(resend, 0);
    });
  });
  if (!pipeline.carriesAudio || wire.audioPortOffset === 0) return { sender, soundSender: undefined };
  const soundSender = await openSockets(options, destinations.map((d) => ({ ...d, port: d.port + wire.audioPortOffset })));
  sockets.push(soundSender);
  return { sender, soundSender };
}

/** The start line ("Streaming video and sound to …"), and the SDP file with --sdp. */
function announce(options: SendOptions, wire: WireFormat, destinations: Destination[], info: VideoInfo, fps: number | undefined, audioChannels: 1 | 2 | undefined): void {
  const say = options.json ? console.error : console.log;
  const pace = options.source.live ? "live" : fps === undefined ? "unpaced" : `${round(fps)} fps`;
  say(`Streaming ${audioChannels ? "video and sound" : "video"} to ${options.destinations.join(", ")} (${info.width}x${info.height}, ${pace}, ${options.protocol})`);
  if (options.sdp) writeSdp(options.sdp, wire, { ...destinations[0]!, audioChannels }, fps ?? info.fps, options.ttl, say);
}

interface Destination {
  address: string;
  family: 4 | 6;
  port: number;
}

/** Each --to destination's address (a name resolved), in --to order. */
async function resolveDestinations(options: SendOptions): Promise<Destination[]> {
  return Promise.all(
    options.destinations.map(async (text) => {
      const { host, port } = parseHostPort(text);
      const { address, family } = await resolveHost(host).catch((error) => Promise.reject(new Error(`--to: ${error.message}`)));
      return { address, family, port };
    }),
  );
}

/** The picture's source, and the sound's (where there is one and it can go), opened side by side with the JPEG encoder. */
async function openSources(options: SendOptions, ffmpegs: ReturnType<typeof resolveFfmpeg>): Promise<{ source: FfmpegSource; sound: FfmpegAudioSource | undefined; encoder: FrameEncoder }> {
  const { input, inputFormat, inputOptions } = options.source;
  const warn = (line: string) => console.error(`udpvid send: ${line}`);
  // What the sound has to say waits for the picture: if the picture cannot be opened either, its error alone is told.
  const soundNotes: string[] = [];
  // The encoder decides what ffmpeg hands over: YUV planes for TurboJPEG (which loads in a millisecond), RGB for sharp.
  const pixelFormat = turboJpeg() ? "yuv420p" : "rgb24";
  // UDPVID_FRAME_READER=stdout: ffmpeg's frames through its stdout on this thread, as before the FIFO reader (for comparing the two).
  const frameReader = process.env.UDPVID_FRAME_READER === "stdout" ? "stdout" : undefined;
  const opening = FfmpegSource.openWithFirstThatRuns(ffmpegs, { input, inputFormat, inputOptions, width: options.width, height: options.height, loop: options.loop, pixelFormat, frameReader }, warn);
  const sound = openSound(
    {
      source: options.source,
      audioStream: options.audioStream,
      noAudio: options.noAudio,
      loop: options.loop,
      unpacedReason: options.fps === "max" ? "unpaced (--fps max), there is no clock to place sound on" : undefined,
      protocolReason: options.protocol === "legacy" ? "the legacy protocol carries the picture only" : undefined,
    },
    ffmpegs[0]!.path,
    (line) => soundNotes.push(line),
  );
  // The encoder (sharp's libvips: loaded and, in a binary, unpacked) gets ready while ffmpeg starts, instead of after its first frame.
  const [picture, audio, encoder] = await Promise.allSettled([opening, sound, chooseFrameEncoder()]);
  if (picture.status === "rejected" || audio.status === "rejected" || encoder.status === "rejected") {
    if (picture.status === "fulfilled") picture.value.close();
    if (audio.status === "fulfilled") audio.value?.close();
    // The first failure in the order they matter: the picture's source, the encoder, the sound.
    throw [picture, encoder, audio].map((result) => (result.status === "rejected" ? result.reason : undefined)).find((reason) => reason !== undefined);
  }
  for (const line of soundNotes) console.error(line);
  return { source: picture.value, sound: audio.value, encoder: encoder.value };
}

/** The stages between the source and the sockets, as the options ask. */
function pipelineFor(options: SendOptions, wire: WireFormat, destinations: Destination[], info: VideoInfo, fps: number | undefined, audioChannels: 1 | 2 | undefined): SendPipeline {
  const multicast = destinations.some((d) => isMulticast(d.address));
  if (options.adapt === "on" && multicast) throw new UsageError("--adapt on needs the receivers' reports, and multicast receivers send none: drop --adapt on");
  return new SendPipeline({
    wire,
    fps,
    sourceFps: fps ?? info.fps,
    // Unpaced (--fps max), every frame is sent: none is left out while the probe is answered.
    leaveOutWhileProbing: options.fps !== "max",
    lowLatency: options.lowLatency,
    ceiling: { quality: options.quality, width: info.width, height: info.height },
    minQuality: options.minQuality,
    maxBps: options.maxRateMbit === undefined ? undefined : options.maxRateMbit * 1e6,
    adapt: options.adapt,
    fecPercent: options.fecPercent,
    fecFixed: options.fecFixed,
    // Unicast receivers are heard (NACKs answered from the history, reports steer the parity and the rate); multicast ones send nothing.
    receivers: options.feedback && !multicast ? new Set(destinations.map((d) => endpoint(d.address, d.port))) : undefined,
    preSharedKey: options.key,
    historyBytes: RETRANSMIT_HISTORY_BYTES,
    retransmitShare: RETRANSMIT_SHARE,
    audioChannels,
  });
}

/** One socket per destination; multicast ones with their TTL. */
async function openSockets(options: SendOptions, destinations: Destination[]): Promise<FanOutSender> {
  const sockets = await Promise.all(
    destinations.map(async ({ address, family, port }) => {
      const socket = await UdpSender.open(address, port, family);
      if (options.ttl !== undefined || isMulticast(address)) socket.setTtl(options.ttl ?? 1, isMulticast(address));
      return socket;
    }),
  );
  return new FanOutSender(sockets);
}

/** --sdp: the description players open, where the protocol has one. */
function writeSdp(path: string, wire: WireFormat, destination: Destination & { audioChannels?: 1 | 2 }, fps: number, ttl: number | undefined, info: (line: string) => void): void {
  const description = wire.describe({ ...destination, fps, ttl });
  if (description === undefined) return;
  try {
    writeFileAtomically(path, description);
  } catch (error) {
    throw new Error(`cannot write --sdp ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  info(`Wrote ${path}: play the stream with ffplay -protocol_whitelist file,udp,rtp ${path}`);
}

/** Source frames, encoded two at a time, each sent at its due time through the pipeline; then the last frame's interval. */
async function streamFrames(
  source: FfmpegSource,
  encoder: FrameEncoder,
  pipeline: SendPipeline,
  sender: FanOutSender,
  paced: PacedSender,
  options: SendOptions,
  signal: AbortSignal,
  start: StartOrder,
): Promise<void> {
  const { width, height } = source.info;
  const encoded = orderedMap(
    source.frames(),
    async (frame) => {
      try {
        const plan = pipeline.plan(performance.now());
        if (plan.encoding === "skip") return { plan, jpeg: undefined };
        const jpeg = await encoder.encode(frame, width, height, plan.encoding.quality, plan.encoding);
        pipeline.encoded(plan, jpeg.length);
        return { plan, jpeg };
      } finally {
        source.recycle(frame);
      }
    },
    2,
  );
  for await (const { plan, jpeg } of encoded) {
    if (signal.aborted) break;
    const dueMs = jpeg === undefined ? undefined : pipeline.dueMs(plan, performance.now(), wallClockUs());
    if (jpeg !== undefined) start.clockStarted();
    if (dueMs !== undefined) await sleepUntil(dueMs);
    if (jpeg !== undefined) await start.frameMayGo();
    const frame = pipeline.frame(plan, jpeg, performance.now(), wallClockUs());
    if (!frame) continue;
    const startMs = performance.now();
    // A burst (--low-latency, --fps max, the probe) goes straight to the socket, which waits for drain when its buffer is full.
    if (frame.windowMs === 0 && options.maxRateMbit === undefined) await sender.send(frame.datagrams);
    else await paced.sendFrame(frame.datagrams, frame.windowMs);
    const endMs = performance.now();
    pipeline.sent(frame, endMs, endMs - startMs);
  }
  const endMs = pipeline.endDueMs();
  if (endMs !== undefined && !signal.aborted) await sleepUntil(endMs);
}

/** Every half second: the receivers told the stream's rate, and the terminal its progress. */
function showStatus(options: SendOptions, pipeline: SendPipeline, sender: FanOutSender, info: VideoInfo): { stop(): void } {
  // A bar for a file of known length (not looping, not live); else one status line; nothing off a terminal or with --quiet.
  const progress = new SendProgress(options.loop || options.source.live ? undefined : info.durationSeconds, process.stderr.isTTY === true && !options.quiet);
  const timer = setInterval(() => {
    const now = performance.now();
    const announcement = pipeline.announcement(now);
    if (announcement) sender.sendControl(announcement);
    const { elapsedSeconds: seconds, position, counts, returnPath, rate } = pipeline.status(now);
    const refused = sender.stats.sendErrors + sender.stats.errorReports;
    progress.update({
      positionSeconds: position / info.fps,
      fps: seconds > 0 ? counts.frames / seconds : 0,
      mbps: seconds > 0 ? (sender.stats.bytesSent * 8) / seconds / 1e6 : 0,
      extra:
        `  ${formatBytes(sender.stats.bytesSent)}` +
        (counts.framesSkipped ? `  ${counts.framesSkipped} skipped to keep up` : "") +
        (refused ? `  ${refused} refused (nobody listening?)` : "") +
        (returnPath ? describeReturnPathLive(returnPath) : "") +
        describeRateLive(rate, counts.framesSkippedForRate),
    });
  }, 500);
  return {
    stop: () => {
      clearInterval(timer);
      progress.stop();
    },
  };
}

/** The end datagrams, then the summary. */
async function finish(options: SendOptions, pipeline: SendPipeline, sender: FanOutSender, rideAlong: SoundRideAlong, info: VideoInfo, stoppedByUser: boolean): Promise<Omit<SendSummary, "encoder" | "frameReader">> {
  const seconds = pipeline.status(performance.now()).elapsedSeconds;
  // The last frame's repairs first, while NACKs are still answered: the end makes receivers give up what they hold.
  const repairsCloseMs = pipeline.repairsCloseMs();
  if (repairsCloseMs !== undefined && !stoppedByUser) await sleepUntil(repairsCloseMs);
  const { counts, returnPath, rate, audio } = pipeline.status(performance.now());
  // Taken before the end datagrams: a receiver that quits on the first one makes the rest bounce.
  const { bytesSent, datagramsSent, sendErrors, errorReports, lastError } = { ...sender.stats };
  const end = pipeline.endOfStream(wallClockUs());
  for (let i = 0; end.length > 0 && i < END_REPEATS; i++) {
    await sender.send(end);
    await Bun.sleep(5);
  }
  return {
    to: options.destinations.join(","),
    width: info.width,
    height: info.height,
    ...counts,
    datagrams: datagramsSent,
    bytes: bytesSent,
    seconds: round(seconds, 3),
    fps: round(counts.frames / seconds, 2),
    mbps: round((bytesSent * 8) / seconds / 1e6, 2),
    sendErrors,
    errorReports,
    lastError: lastError ?? null,
    stoppedByUser,
    returnPath: returnPath ?? null,
    rate: { ...rate, trace: pipeline.rateTrace() },
    audio: audio && { ...audio, withPicture: rideAlong.takenAlong },
    clockStartUs: pipeline.clockStart?.us ?? null,
  };
}

/** Rate adaptation for the live status line: only once it has changed something. */
function describeRateLive(r: RateStats, framesSkippedForRate: number): string {
  if (r.targetMbps === null && r.scale === 1 && framesSkippedForRate === 0) return "";
  return `  target ${r.targetMbps ?? "-"} Mbit/s (${r.reason}) q${r.quality} ${r.width}x${r.height} ${r.fps} fps`;
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
    (s.audio ? `; sound: ${s.audio.packets} Opus packets, ${s.seconds > 0 ? round((s.audio.bytes * 8) / s.seconds / 1000) : 0} kbit/s` : "") +
    (s.sendErrors ? `; ${s.sendErrors} datagrams could not be sent` : "") +
    (s.errorReports ? `; ${s.errorReports} errors reported back (last: ${s.lastError}): is anyone listening at ${s.to}?` : "") +
    (s.returnPath && s.returnPath.feedbackReceived > 0
      ? `\nReturn path: ${s.returnPath.reportsReceived} reports, ${s.returnPath.nacksReceived} NACKs asking for ${s.returnPath.chunksRequested} chunks, ${s.returnPath.chunksResent} resent` +
        (s.returnPath.audioRequested ? `, ${s.returnPath.audioRequested} sound packets asked for, ${s.returnPath.audioResent} resent` : "") +
        `${s.returnPath.rttMs === null ? "" : `, RTT ${s.returnPath.rttMs} ms`}, loss ${s.returnPath.lossPercent}%, parity now ${s.returnPath.parityPercent}%`
      : "") +
    (s.rate.decreases > 0 || s.framesSkippedForRate > 0
      ? `\nRate: followed the path (${describeCuts(s.rate)}); at the end (${s.rate.reason}) ${s.rate.targetMbps === null ? "unconstrained" : `${s.rate.targetMbps} Mbit/s`}, quality ${s.rate.quality}, ${s.rate.width}x${s.rate.height}, ${s.rate.fps} fps` +
        (s.framesSkippedForRate ? `; ${s.framesSkippedForRate} frames left out to fit` : "")
      : "")
  );
}

async function sleepUntil(deadlineMs: number): Promise<void> {
  const wait = deadlineMs - performance.now();
  if (wait > 0) await Bun.sleep(wait);
}
