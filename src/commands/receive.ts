import { DEFAULT_MAX_PIXELS } from "../decoder/jpeg-decoder.ts";
import { choosePictureDecoder, type PictureDecoder } from "../decoder/picture-decoder.ts";
import { statusLine } from "../display/stream-readout.ts";
import type { SoundStats } from "../speaker/sound-output.ts";
import { ReceiveTimer } from "./receive-timer.ts";
import { ReceiveOutputs } from "./receive-outputs.ts";
import type { PresenterStats } from "../session/frame-presenter.ts";
import { ReceiveSession, type ReceiveCounts } from "../session/receive-session.ts";
import { DEFAULT_LATENCY_MS } from "../feedback/receiver-feedback.ts";
import { isMulticast, localInterfaces, reachableAddresses, resolveHost } from "../socket/address.ts";
import { type MulticastOptions, RECEIVE_BUFFER_BYTES, UdpReceiver } from "../socket/udp-receiver.ts";
import { formatBytes, StatusLine, wallClockUs } from "../util/terminal.ts";
import { round } from "../util/round.ts";
import { stderrColors } from "../util/colors.ts";
import { intOption, numberOption, parseCommand, portOption, stringOption, UsageError, type CommandSpec } from "./command-line.ts";
import { loadKey } from "./key-option.ts";
import { accessToken, DEFAULT_WEB_HOST, parseWebAddress, WebOptionError } from "../web/web-access.ts";
import { DEFAULT_MAX_VIEWERS, type WebOptions } from "../web/web-output.ts";
import type { HubStats } from "../web/viewer-hub.ts";

/** Room for a 4K stream: with the default 120 ms repair hold, 10 frames in flight (repair-hold.ts) of about 6 MB each with parity, plus a legacy frame. */
const DEFAULT_MAX_MEMORY_MB = 64;

export const receiveSpec: CommandSpec = {
  name: "receive",
  usage: "udpvid receive [options]",
  summary: "Receive a video stream (udpvid v2, the lab's legacy protocol or RTP/JPEG, told apart per datagram) and show it in a window.",
  positionals: 0,
  options: {
    port: { type: "string", value: "N", description: "UDP port to listen on (default 9999; 0 picks a free one)" },
    bind: { type: "string", value: "ADDR", description: "local address to listen on (default 0.0.0.0: all)" },
    group: { type: "string", value: "ADDR", description: "join this multicast group (e.g. 239.1.2.3) and receive what is sent to it" },
    interface: { type: "string", value: "ADDR", description: "with --group: the local interface address to join on (default: the OS picks)" },
    headless: { type: "boolean", description: "no window (SDL is not loaded); decode, count, record" },
    audio: { type: "boolean", description: "with --headless: play the stream's sound all the same (a window plays it always)" },
    record: { type: "string", value: "FILE", description: "record what is shown and heard: FILE.mkv holds picture and sound as received (muxed by ffmpeg, nothing re-encoded); any other name, the shown JPEGs alone as MJPEG (ffplay -f mjpeg FILE)" },
    "idle-timeout": { type: "string", value: "SECONDS", description: "exit once a stream has started and been silent this long, or has ended" },
    from: { type: "string", value: "ADDR", description: "accept datagrams from this source address (or host name) only" },
    latency: { type: "string", value: "MS", description: `how long a v2 frame may wait for repairs (retransmission) before it is dropped (default ${DEFAULT_LATENCY_MS}, raised to 3 least round trips plus twice their jitter once measured)` },
    "no-feedback": { type: "boolean", description: "send nothing back: no NACKs or reports (v2 then relies on FEC alone). Multicast never sends any" },
    key: { type: "string", value: "FILE", description: "pre-shared key: accept only v2 datagrams sealed with it (AES-256-GCM)" },
    "key-env": { type: "string", value: "VAR", description: "the same key, from environment variable VAR" },
    "max-memory": { type: "string", value: "MB", description: `cap on memory for frames being assembled (default ${DEFAULT_MAX_MEMORY_MB}: a 4K stream fits)` },
    "max-pixels": { type: "string", value: "N", description: `refuse frames larger than N pixels before decoding (default ${DEFAULT_MAX_PIXELS}: 8K)` },
    web: { type: "string", value: "[ADDR:]PORT", description: `also show the stream in browsers, at http://ADDR:PORT/ (ADDR default ${DEFAULT_WEB_HOST}: this machine only; 0.0.0.0 for phones on the network, with a token)` },
    "web-token": { type: "string", value: "TOKEN", description: "with --web: the token browsers must show (default: none on loopback, made at random elsewhere; the URL printed carries it)" },
    "web-max-viewers": { type: "string", value: "N", description: `with --web: browsers watching at once (default ${DEFAULT_MAX_VIEWERS})` },
    json: { type: "boolean", description: "print the summary as one JSON object on the last line" },
    quiet: { type: "boolean", short: "q", description: "no live status line on the terminal: only the start line and the summary" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  footer:
    "Keys in the window: s stats overlay, f (or double-click) fullscreen, space freeze/go live, m mute, up/down volume, q or Esc quit.\n" +
    "The legacy protocol has no integrity or authentication: any host can inject frames. With --key, only sealed v2 is accepted.",
};

export interface ReceiveOptions {
  port: number;
  bind: string;
  group?: string;
  interface?: string;
  headless: boolean;
  /** Play the sound: always with a window, with --headless only when --audio is given. */
  audio: boolean;
  record?: string;
  idleTimeoutSeconds?: number;
  from?: string;
  key?: Uint8Array;
  /** v2's return path: NACKs and reports to a unicast sender, frames held for repair within the budget. */
  feedback: boolean;
  latencyMs?: number;
  maxMemoryBytes: number;
  maxPixels: number;
  /** --web: browsers watch too. */
  web?: WebOptions;
  json: boolean;
  quiet: boolean;
}

/** --web, --web-token, --web-max-viewers: the token is settled here (a weak one given is refused before anything opens). */
export function webOptions(address: string | undefined, token: string | undefined, maxViewers: number | undefined): WebOptions | undefined {
  if (address === undefined) {
    if (token !== undefined || maxViewers !== undefined) throw new UsageError("--web-token and --web-max-viewers go with --web");
    return undefined;
  }
  try {
    const parsed = parseWebAddress(address);
    return { address: parsed, token: accessToken(parsed.host, token), maxViewers: maxViewers ?? DEFAULT_MAX_VIEWERS };
  } catch (error) {
    if (error instanceof WebOptionError) throw new UsageError(error.message);
    throw error;
  }
}

function groupOptions(group: string | undefined, iface: string | undefined): { group?: string; interface?: string } {
  if (iface !== undefined && group === undefined) throw new UsageError("--interface chooses where to join a multicast group: add --group");
  if (group !== undefined && !isMulticast(group)) throw new UsageError(`--group must be a multicast address (224.0.0.0–239.255.255.255 or ff00::/8), got "${group}"`);
  return { group, interface: iface };
}

/** The options a plain `udpvid receive` runs with: the one place receive's defaults live. */
export function defaultReceiveOptions(): ReceiveOptions {
  return {
    port: 9999,
    bind: "0.0.0.0",
    headless: false,
    audio: true,
    feedback: true,
    maxMemoryBytes: DEFAULT_MAX_MEMORY_MB * 1024 * 1024,
    maxPixels: DEFAULT_MAX_PIXELS,
    json: false,
    quiet: false,
  };
}

export function parseReceiveOptions(argv: string[]): ReceiveOptions | "help" {
  const { values } = parseCommand(receiveSpec, argv);
  if (values.help) return "help";
  const defaults = defaultReceiveOptions();
  return {
    port: portOption(values, "port") ?? defaults.port,
    bind: stringOption(values, "bind") ?? defaults.bind,
    ...groupOptions(stringOption(values, "group"), stringOption(values, "interface")),
    headless: values.headless === true,
    audio: values.headless !== true || values.audio === true,
    record: stringOption(values, "record"),
    idleTimeoutSeconds: numberOption(values, "idle-timeout", 0.01, 86400),
    from: stringOption(values, "from"),
    key: loadKey(stringOption(values, "key"), stringOption(values, "key-env")),
    feedback: values["no-feedback"] !== true,
    latencyMs: intOption(values, "latency", 0, 10_000),
    maxMemoryBytes: (intOption(values, "max-memory", 4, 65536) ?? defaults.maxMemoryBytes / 1024 / 1024) * 1024 * 1024,
    maxPixels: intOption(values, "max-pixels", 1, 2 ** 31) ?? defaults.maxPixels,
    web: webOptions(stringOption(values, "web"), stringOption(values, "web-token"), intOption(values, "web-max-viewers", 1, 1000)),
    json: values.json === true,
    quiet: values.quiet === true,
  };
}

/** Often enough that a NACK goes out within a few ms of a loss being certain. */
const HOUSEKEEPING_MS = 10;
const READOUT_MS = 500;

export interface ReceiveSummary extends ReceiveCounts {
  port: number;
  /** The kernel's socket receive buffer as granted (null where it cannot be read). */
  receiveBufferBytes: number | null;
  seconds: number;
  mbps: number;
  /** Frames and sound packets written to --record's file. */
  recorded: number;
  recordedSoundPackets: number;
  quitBy: "key" | "window" | "signal" | "idle-timeout" | "end-of-stream";
  /** The sound as played (null: no sound came, or it was not played: --headless without --audio). */
  sound: SoundStats | null;
  /** The picture against the sound's clock: frames held for their time, and when they were shown against it (null: no sound followed). */
  avSync: PresenterStats | null;
  /** The browser viewers (null: no --web): each one's frames and capture → drawn latency. */
  web: HubStats | null;
  /** How frames were decoded: TurboJPEG (to YUV planes for the window's IYUV texture, or RGBA) or sharp (the fallback), and from where or why. */
  decoder: { name: PictureDecoder["name"]; output: PictureDecoder["output"]; detail: string };
}

const realClock = { nowMs: () => performance.now(), wallClockUs };

/**
 * The receive command: a ReceiveSession fed from a UDP socket, shown in a
 * window (unless headless) and recorded (with --record); resolves with a
 * summary when the user quits, the stream ends (with --idle-timeout) or goes idle.
 */
export async function runReceive(options: ReceiveOptions, signal: AbortSignal, onListening?: (port: number) => void): Promise<ReceiveSummary> {
  const allowFrom = options.from === undefined ? undefined : (await resolveHost(options.from).catch((error) => Promise.reject(new Error(`--from: ${error.message}`)))).address;
  let quit: (by: ReceiveSummary["quitBy"]) => void = () => {};
  const quitBy = new Promise<ReceiveSummary["quitBy"]>((resolve) => (quit = resolve));
  signal.addEventListener("abort", () => quit("signal"));

  const outputs = await ReceiveOutputs.open(options, () => quit("key"));
  const decoder = choosePictureDecoder(outputs.takesI420);
  outputs.recyclePicturesWith(decoder.release);
  await decoder.warmUp();
  // Made once the socket is open (below); a frame waiting before then is shown by the first wake-up.
  let timer: ReceiveTimer | undefined;
  const session = new ReceiveSession(
    {
      maxMemoryBytes: options.maxMemoryBytes,
      key: options.key,
      allowFrom,
      maxPixels: options.maxPixels,
      // A group's receivers never answer: one sender, many receivers, no NACK storm.
      returnPath: options.feedback && !options.group ? { latencyMs: options.latencyMs } : undefined,
      pictureClock: outputs.pictureClock,
      decode: decoder.decode,
    },
    {
      show: (frame, image) => outputs.show(frame, image),
      prepare: (image) => outputs.prepare(image),
      assembled: outputs.web ? (frame, nowMs) => outputs.assembled(frame, nowMs) : undefined,
      heard: (audio, nowMs) => outputs.heard(audio, nowMs),
      waiting: () => timer?.schedule(),
      ended: () => {
        if (options.idleTimeoutSeconds !== undefined) quit("end-of-stream");
      },
    },
    realClock,
  );
  const warnings = new KeyWarnings(options.json ? console.error : console.warn);
  const multicast = { group: options.group, interface: options.interface };
  const onDatagram = (datagram: Uint8Array, address: string, port: number) => {
    if (!session.receive(datagram, address, performance.now(), port)) warnings.check(session.rejectedByReason, address);
  };
  const receiver = await UdpReceiver.open(options.bind, options.port, multicast, onDatagram).catch(async (error) => {
    await outputs.close(false).catch(() => {});
    throw error;
  });
  const rtpSound = await openRtpSoundPort(options, receiver.port, multicast, onDatagram);
  onListening?.(receiver.port);
  // Where a sender on another machine should aim: the bind address is often 0.0.0.0, which says nothing.
  const reachAt = options.group ? [options.group] : reachableAddresses(options.bind, localInterfaces());
  (options.json ? console.error : console.log)(listeningLine(options, receiver, reachAt));
  outputs.listening(receiver.port, reachAt[0]);
  for (const url of outputs.web?.urls ?? []) (options.json ? console.error : console.log)(`Watch in a browser: ${url}`);

  const startMs = performance.now();
  const status = new StatusLine(process.stderr.isTTY === true && !options.quiet);
  let lastReadoutMs = startMs;
  const housekeeping = () => {
    const now = performance.now();
    for (const reply of session.tick(now)) receiver.reply(reply.datagram, reply.address, reply.port);
    // Read again: showing a frame in session.tick can take 20 ms.
    outputs.tick(performance.now());
    const silentMs = session.silentForMs(now);
    if (silentMs !== undefined && options.idleTimeoutSeconds !== undefined && silentMs > options.idleTimeoutSeconds * 1000) quit("idle-timeout");
    if (now - lastReadoutMs >= READOUT_MS) {
      lastReadoutMs = now;
      const current = { ...session.readout(now, receiver.port, outputs.isFrozen), sound: outputs.sound?.readout(now, session.recentAvOffsetMs) };
      outputs.update(current);
      status.update(statusLine(current, stderrColors));
    }
  };
  timer = new ReceiveTimer(() => session, housekeeping, HOUSEKEEPING_MS);

  const by = await quitBy;
  timer.stop();
  status.clear();
  receiver.close();
  rtpSound?.close();
  await session.finish();
  // A stream that ended has its last sound still to play; a user who quit wants silence now.
  await outputs.close(by === "end-of-stream" || by === "idle-timeout");

  const seconds = (performance.now() - startMs) / 1000;
  const counts = session.counts();
  return {
    port: receiver.port,
    receiveBufferBytes: receiver.receiveBufferBytes ?? null,
    seconds: round(seconds, 3),
    ...counts,
    mbps: round((counts.bytesReceived * 8) / seconds / 1e6, 2),
    ...outputs.recorded,
    quitBy: by,
    sound: outputs.sound?.hasSound ? outputs.sound.stats() : null,
    avSync: session.presenterStats(),
    web: outputs.web?.stats() ?? null,
    decoder: { name: decoder.name, output: decoder.output, detail: decoder.detail },
  };
}

/**
 * RTP senders put each stream of a session on its own port pair, the sound
 * on the picture's port + 2 (udpvid's own `send --protocol rtp`, ffmpeg and
 * GStreamer by an SDP): listened to as well, into the same session, which
 * tells the streams apart by their packets. A port + 2 already taken costs
 * only an RTP sender's sound: said in one line, and the picture is received.
 */
async function openRtpSoundPort(options: ReceiveOptions, port: number, multicast: MulticastOptions, onDatagram: (datagram: Uint8Array, address: string, port: number) => void): Promise<UdpReceiver | undefined> {
  if (port + 2 > 65535) return undefined;
  try {
    return await UdpReceiver.open(options.bind, port + 2, multicast, onDatagram);
  } catch {
    (options.json ? console.error : console.warn)(`udpvid receive: port ${port + 2}, where RTP senders send the sound, is in use or cannot be bound: an RTP stream's sound will not be heard`);
    return undefined;
  }
}

/** "Listening on 0.0.0.0:9999; send to 192.168.1.20:9999 or …", and a receive buffer the kernel capped. */
function listeningLine(options: ReceiveOptions, receiver: UdpReceiver, reachAt: string[]): string {
  const sendTo = reachAt
    .slice(0, 3)
    .map((address) => `${address}:${receiver.port}`)
    .join(" or ");
  return `Listening on ${options.bind}:${receiver.port}${options.headless ? " (headless)" : ""}; send to ${sendTo}${describeReceiveBuffer(receiver.receiveBufferBytes)}`;
}

/** Names a receive buffer the kernel capped, with the setting that lifts the cap: bursts beyond it are lost. */
function describeReceiveBuffer(granted: number | undefined): string {
  if (granted === undefined || granted >= RECEIVE_BUFFER_BYTES / 2) return "";
  const fix = process.platform === "linux" ? `; sysctl -w net.core.rmem_max=${RECEIVE_BUFFER_BYTES} allows ${formatBytes(RECEIVE_BUFFER_BYTES)}` : "";
  return ` (receive buffer only ${formatBytes(granted)}${fix})`;
}

/** Says once, not per datagram, when key and stream do not match: otherwise nothing would show and nobody would know why. */
class KeyWarnings {
  private said = new Set<string>();
  constructor(private readonly print: (line: string) => void) {}

  check(rejected: Readonly<Record<string, number | undefined>>, address: string): void {
    if (rejected["sealed-no-key"] && this.once("sealed-no-key")) {
      this.print(`udpvid receive: the stream from ${address} is encrypted; pass its key with --key FILE or --key-env VAR`);
    }
    if (rejected["not-sealed"] && this.once("not-sealed")) {
      this.print(`udpvid receive: dropping unencrypted datagrams from ${address}: with --key, the sender needs the same key (udpvid send --key FILE)`);
    }
    if (rejected["bad-auth"] && this.once("bad-auth")) {
      this.print(`udpvid receive: dropping datagrams from ${address} that fail authentication: wrong key, or forged`);
    }
  }

  private once(what: string): boolean {
    if (this.said.has(what)) return false;
    this.said.add(what);
    return true;
  }
}

export function describeReceiveSummary(s: ReceiveSummary): string {
  const lines = [
    `Received ${s.framesReceived} frames in ${s.seconds.toFixed(2)} s (${formatBytes(s.bytesReceived)}, ${s.datagramsReceived} datagrams): ` +
      `${s.framesShown} shown (${s.fps} fps), ${s.framesSkipped} skipped, ${s.framesDroppedIncomplete} dropped incomplete, ${s.framesCorrupt} corrupt` +
      (s.framesOversized ? ` (${s.framesOversized} over --max-pixels)` : ""),
  ];
  if (s.datagramsLost || s.datagramsRecovered || s.datagramsDuplicated || s.datagramsReordered) {
    lines.push(
      `Datagrams: ${s.datagramsLost} lost, ${s.datagramsRecovered} rebuilt by FEC (${s.framesRecovered} frames saved), ` +
        `${s.datagramsDuplicated} duplicated, ${s.datagramsReordered} reordered`,
    );
  }
  if (s.returnPath && (s.returnPath.nacksSent || s.returnPath.audioAsked || s.returnPath.rttMs !== null)) {
    const r = s.returnPath;
    lines.push(
      `Return path: ${r.nacksSent} NACKs for ${r.chunksAsked} chunks, ${r.chunksRetransmitted} came back, ${r.framesSavedByRetransmission} frames saved by retransmission` +
        (r.audioAsked ? `; ${r.audioAsked} sound packets asked for, ${r.audioResent} came back` : "") +
        `${r.rttMs === null ? "" : `; RTT ${r.rttMs} ms`}; latency budget ${r.latencyBudgetMs} ms`,
    );
  }
  if (s.datagramsRejected) {
    const reasons = Object.entries(s.rejectedByReason)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    lines.push(`Rejected ${s.datagramsRejected} datagrams (${reasons})`);
  }
  if (s.latencyMs) lines.push(`Latency capture→display: p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms, p99 ${s.latencyMs.p99} ms`);
  if (s.decodeMs) lines.push(`Decoding a frame: p50 ${s.decodeMs.p50} ms, p99 ${s.decodeMs.p99} ms`);
  if (s.sound) lines.push(describeSound(s.sound, s.audio));
  if (s.avSync?.offsetMs) lines.push(`Picture with the sound: ${s.avSync.held} frames held for their time (median ${s.avSync.waitedMs ?? 0} ms); shown against it p50 ${s.avSync.offsetMs.p50} ms, p95 ${s.avSync.offsetMs.p95} ms`);
  if (s.recorded || s.recordedSoundPackets) lines.push(`Recorded ${s.recorded} frames` + (s.recordedSoundPackets ? ` and ${s.recordedSoundPackets} sound packets` : ""));
  return lines.join("\n");
}

/** "Sound: 500 packets played, 2 concealed (0.4%), 3 rebuilt by FEC; capture→heard p50 …". */
function describeSound(s: SoundStats, arrived: ReceiveSummary["audio"]): string {
  const total = s.played + s.concealed;
  return (
    `Sound: ${s.played} packets played, ${s.concealed} concealed (${total ? round((100 * s.concealed) / total, 2) : 0}%)` +
    (arrived?.packetsRecovered ? `, ${arrived.packetsRecovered} rebuilt by FEC` : "") +
    (s.late ? `, ${s.late} late` : "") +
    (s.skippedBehind ? `, ${s.skippedBehind} left out to catch up` : "") +
    (s.latencyMs ? `; capture→heard p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms` : "")
  );
}
