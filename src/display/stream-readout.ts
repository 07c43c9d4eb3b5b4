import type { Colors } from "../util/colors.ts";

/** What the receiver knows about the stream right now: the numbers behind the window title, the overlay and the status line. */
export interface StreamReadout {
  port: number;
  state: "waiting" | "receiving" | "ended";
  /** The picture is held by the user (space); frames still arrive and are counted. */
  frozen: boolean;
  /** Frames shown per second over the last couple of seconds. */
  fps: number;
  mbps: number;
  /** Over the last couple of seconds; undefined when the stream carries no sequence numbers (legacy) or nothing arrived. */
  lossPercent: number | undefined;
  /** Capture to display, median of the last frames; undefined until known (v2 carries capture times). */
  latencyMs: number | undefined;
  decodeMs: number | undefined;
  shown: number;
  skipped: number;
  dropped: number;
  recoveredFrames: number;
  rejected: number;
  /** Round trip to the sender, once the return path has measured it (v2 unicast). */
  rttMs?: number;
  /** Frames completed thanks to a retransmission asked for by NACK. */
  framesSavedByRetransmission?: number;
  /** JPEG quality of the picture shown (from its tables; undefined for other encoders' tables). */
  quality?: number;
  /** What the sender says it aims at and why (v2 with a return path, once it has said). */
  sender?: { targetMbps: number | null; reason: string };
  /** The sound, while a stream with sound plays. */
  sound?: SoundReadout;
}

export interface SoundReadout {
  /** Its level lately, dBFS (null before any). */
  levelDb: number | null;
  /** When frames are shown against the sound, median of the last ones, ms (positive: the picture late); null before any. */
  avOffsetMs: number | null;
  /** Packets concealed so far (lost, or later than their turn). */
  concealed: number;
  muted: boolean;
  /** 0 to 1. */
  volume: number;
}

/** "sound -23 dB · A/V +1 ms · 0 concealed", with "muted" or the volume when not full. */
function describeSound(s: SoundReadout): string {
  const level = s.muted ? "sound muted" : `sound ${s.levelDb === null ? "-" : Math.round(s.levelDb)} dB` + (s.volume < 1 ? ` (volume ${Math.round(s.volume * 100)}%)` : "");
  const offset = s.avOffsetMs === null ? "" : ` · A/V ${s.avOffsetMs >= 0 ? "+" : ""}${Math.round(s.avOffsetMs)} ms`;
  return `${level}${offset} · ${s.concealed} concealed`;
}

/** "sender 12.5 Mbit/s (link limit)", or "sender unlimited (full quality)". */
function describeSender(sender: NonNullable<StreamReadout["sender"]>): string {
  return `sender ${sender.targetMbps === null ? "unlimited" : `${one(sender.targetMbps)} Mbit/s`} (${sender.reason})`;
}

const one = (value: number) => value.toFixed(1);

/**
 * The window title: short enough for a title bar, updated about twice a
 * second. ASCII only: X11 titles in a non-UTF-8 locale drop anything else.
 */
export function windowTitle(r: StreamReadout): string {
  if (r.state === "waiting") return `udpvid - waiting for stream on :${r.port}`;
  if (r.state === "ended") return `udpvid :${r.port} - stream ended`;
  const parts = [`${one(r.fps)} fps`, `${one(r.mbps)} Mbit/s`];
  if (r.lossPercent !== undefined) parts.push(`${one(r.lossPercent)}% loss`);
  if (r.latencyMs !== undefined) parts.push(`${Math.round(r.latencyMs)} ms`);
  return `udpvid :${r.port} - ${r.frozen ? "FROZEN, " : ""}${parts.join(", ")}`;
}

/** The lines of the `s` overlay, drawn into a picture of `size`. */
export function overlayLines(r: StreamReadout, size?: { width: number; height: number }): string[] {
  const lines = [`${one(r.fps)} fps · ${one(r.mbps)} Mbit/s`];
  const loss = r.lossPercent === undefined ? "loss n/a (legacy)" : `loss ${one(r.lossPercent)}%`;
  lines.push(r.recoveredFrames ? `${loss} · ${r.recoveredFrames} frames rebuilt by FEC` : loss);
  if (r.rttMs !== undefined || r.framesSavedByRetransmission) {
    lines.push([r.rttMs === undefined ? undefined : `RTT ${Math.round(r.rttMs)} ms`, r.framesSavedByRetransmission ? `${r.framesSavedByRetransmission} frames saved by retransmission` : undefined].filter(Boolean).join(" · "));
  }
  const timing = [r.latencyMs === undefined ? undefined : `latency ${Math.round(r.latencyMs)} ms`, r.decodeMs === undefined ? undefined : `decode ${one(r.decodeMs)} ms`];
  if (timing.some(Boolean)) lines.push(timing.filter(Boolean).join(" · "));
  // Size and quality: what a sender that follows the link changes.
  const dimensions = (size ? `${size.width}×${size.height} · ` : "") + (r.quality === undefined ? "" : `q${r.quality} · `);
  lines.push(`${dimensions}shown ${r.shown} · skipped ${r.skipped} · dropped ${r.dropped}`);
  if (r.sender) lines.push(describeSender(r.sender));
  if (r.sound) lines.push(describeSound(r.sound));
  if (r.rejected) lines.push(`rejected ${r.rejected} datagrams`);
  if (r.frozen) lines.push("FROZEN: space goes live");
  return lines;
}

/** The terminal's one live line. */
export function statusLine(r: StreamReadout, c: Colors): string {
  const state =
    r.state === "waiting" ? c.yellow(`waiting on :${r.port}`) : r.state === "ended" ? c.dim("stream ended") : c.green(r.frozen ? "receiving (frozen)" : "receiving");
  const parts = [state, `${one(r.fps)} fps`, `${one(r.mbps)} Mbit/s`];
  if (r.lossPercent !== undefined) parts.push(r.lossPercent > 0 ? c.yellow(`loss ${one(r.lossPercent)}%`) : `loss ${one(r.lossPercent)}%`);
  if (r.latencyMs !== undefined) parts.push(`latency ${Math.round(r.latencyMs)} ms`);
  parts.push(`shown ${r.shown}`);
  // Only what happened: a line that fits an 80-column terminal in the usual case.
  if (r.recoveredFrames) parts.push(`recovered ${r.recoveredFrames}`);
  if (r.framesSavedByRetransmission) parts.push(`saved by resends ${r.framesSavedByRetransmission}`);
  if (r.rttMs !== undefined) parts.push(`rtt ${Math.round(r.rttMs)} ms`);
  if (r.sender && r.sender.reason !== "full quality") parts.push(describeSender(r.sender));
  if (r.sound?.muted) parts.push("muted");
  if (r.sound?.concealed) parts.push(`concealed ${r.sound.concealed}`);
  if (r.dropped) parts.push(c.yellow(`dropped ${r.dropped}`));
  if (r.skipped) parts.push(`skipped ${r.skipped}`);
  if (r.rejected) parts.push(c.red(`rejected ${r.rejected}`));
  return parts.join("  ");
}
