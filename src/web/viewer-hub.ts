import { RecentSamples } from "../util/percentiles.ts";
import { round } from "../util/round.ts";
import { drawnLatencyMs, encodePicture, encodeSound, parseViewerMessage, type SoundMessage } from "./web-messages.ts";

/** A viewer that has not taken what was sent to it for this long is dropped: it would hold memory and tell nobody anything. */
export const STALLED_AFTER_MS = 5000;
/**
 * Frames sent to a viewer and not yet said to have arrived: one on its way,
 * one being decoded. Beyond it the newest waits here, where it can still
 * be replaced: frames sent blindly would queue in the network's buffers
 * (megabytes of TCP buffer: seconds of a slow phone's picture), unseen.
 */
export const MAX_IN_FLIGHT = 2;
/** The close code a stalled viewer gets (4000–4999 are the application's). */
export const CLOSE_STALLED = 4001;
/** Frames whose age is remembered per viewer, for its reports (it reports each frame it draws, shortly after). */
const REMEMBERED_FRAMES = 32;
/** Sound is sent to a viewer only while Bun holds less than this unsent for it: sound queued behind a stalled socket would only play late. */
const SOUND_BACKLOG_BYTES = 256 * 1024;
/** Viewers whose figures are kept after they leave, for the summary. */
const REMEMBERED_VIEWERS = 64;

/** One browser's socket, as the hub needs it (Bun's ServerWebSocket, or a fake in the tests). */
export interface ViewerSocket {
  /** Bytes sent; -1 queued behind what is not yet taken; 0 dropped. */
  send(data: Uint8Array | string): number;
  /** Bytes written to the socket and not yet taken by the peer. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface PictureForViewers {
  jpeg: Uint8Array;
  captureUs: number | undefined;
  /** Capture → now, µs, if known (the sender's wall clock and this one's). */
  ageUs: number | undefined;
}

export interface ViewerStats {
  id: number;
  /** Still watching at the end (false: left, or dropped). */
  connected: boolean;
  framesSent: number;
  /** Frames a newer one overtook while this viewer was still taking the one before. */
  framesSkipped: number;
  soundPacketsSent: number;
  /** Sound packets not sent because the viewer's socket was backed up. */
  soundPacketsDropped: number;
  /** Capture → drawn on the page, ms, from its reports (null: none yet, or the stream has no capture times). */
  latencyMs: { p50: number; p95: number; p99: number } | null;
  droppedAsStalled: boolean;
}

export interface HubStats {
  viewersNow: number;
  viewersJoined: number;
  refusedFull: number;
  droppedStalled: number;
  /** Messages from pages that were not a well-formed report (counted and dropped). */
  reportsRefused: number;
  viewers: ViewerStats[];
}

interface Viewer {
  readonly id: number;
  readonly socket: ViewerSocket;
  /** The newest picture not yet sent: at most one waits; a newer one replaces it. */
  waiting: { frameNumber: number; bytes: Uint8Array } | undefined;
  /** Since when the viewer could take no more (undefined: it can). */
  blockedSinceMs: number | undefined;
  /** Frames sent that it has not said it got, oldest first. */
  readonly inFlight: number[];
  readonly ages: Map<number, number>;
  readonly latency: RecentSamples;
  framesSent: number;
  framesSkipped: number;
  soundSent: number;
  soundDropped: number;
  connected: boolean;
  droppedAsStalled: boolean;
}

/**
 * The browser viewers of one receiver: each gets the newest frame, the
 * JPEG as it arrived. A viewer still taking the last frame has the next one
 * wait (only the newest: a slow viewer skips frames, it never holds the
 * others or the receiver back), and one that takes nothing for
 * STALLED_AFTER_MS is dropped. Memory: one message per frame shared by all,
 * and at most one waiting per viewer. Pure: given the time; the server
 * shell hands it sockets and events.
 */
export class ViewerHub {
  private readonly viewers = new Map<number, Viewer>();
  private readonly departed: Viewer[] = [];
  private nextId = 1;
  private frameNumber = 0;
  private readonly counts = { viewersJoined: 0, refusedFull: 0, droppedStalled: 0, reportsRefused: 0 };
  /** The last state said, for a viewer that joins later. */
  private lastState: string | undefined;

  constructor(private readonly maxViewers: number) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  get hasRoom(): boolean {
    return this.viewers.size < this.maxViewers;
  }

  /** A page connected; undefined if there is no room (closed with 1013, which the page tells its user). */
  join(socket: ViewerSocket): number | undefined {
    if (!this.hasRoom) {
      this.counts.refusedFull++;
      socket.close(1013, "too many viewers");
      return undefined;
    }
    const id = this.nextId++;
    this.viewers.set(id, { id, socket, waiting: undefined, blockedSinceMs: undefined, inFlight: [], ages: new Map(), latency: new RecentSamples(2000), framesSent: 0, framesSkipped: 0, soundSent: 0, soundDropped: 0, connected: true, droppedAsStalled: false });
    this.counts.viewersJoined++;
    if (this.lastState !== undefined) socket.send(this.lastState);
    return id;
  }

  left(id: number): void {
    const viewer = this.viewers.get(id);
    if (!viewer) return;
    viewer.connected = false;
    viewer.waiting = undefined;
    this.viewers.delete(id);
    this.departed.push(viewer);
    if (this.departed.length > REMEMBERED_VIEWERS) this.departed.shift();
  }

  /** A whole frame: to every viewer now, or waiting (the newest only) for the ones still busy. */
  picture(picture: PictureForViewers, nowMs: number): void {
    if (this.viewers.size === 0) return;
    const frameNumber = this.frameNumber++ >>> 0;
    const message = { frameNumber, bytes: encodePicture({ frameNumber, captureUs: picture.captureUs ?? 0, ageUs: picture.captureUs === undefined ? undefined : picture.ageUs, sentAtMs: nowMs, jpeg: picture.jpeg }) };
    for (const viewer of this.viewers.values()) {
      if (picture.ageUs !== undefined) {
        viewer.ages.set(frameNumber, picture.ageUs);
        if (viewer.ages.size > REMEMBERED_FRAMES) viewer.ages.delete(viewer.ages.keys().next().value!);
      }
      if (viewer.waiting) viewer.framesSkipped++;
      viewer.waiting = message;
      this.pump(viewer, nowMs);
    }
  }

  /** A sound packet: to every viewer whose socket is not backed up (small, and never skipped for a newer one as pictures are). */
  sound(packet: SoundMessage): void {
    if (this.viewers.size === 0) return;
    const bytes = encodeSound(packet);
    for (const viewer of this.viewers.values()) {
      if (viewer.socket.bufferedAmount() > SOUND_BACKLOG_BYTES || viewer.socket.send(bytes) === 0) viewer.soundDropped++;
      else viewer.soundSent++;
    }
  }

  /** The stream's state ("waiting", "receiving", "ended") or stats, as JSON text; a state is kept for viewers who join later. */
  say(message: { type: "state" | "stats" } & Record<string, unknown>): void {
    const text = JSON.stringify(message);
    if (message.type === "state") this.lastState = text;
    for (const viewer of this.viewers.values()) {
      // A viewer behind on pictures is not sent stats it would only queue behind them.
      if (message.type === "stats" && viewer.blockedSinceMs !== undefined) continue;
      viewer.socket.send(text);
    }
  }

  /** The socket took what was queued: what waits goes now. */
  drained(id: number, nowMs: number): void {
    const viewer = this.viewers.get(id);
    if (viewer) this.pump(viewer, nowMs);
  }

  /** A message from a page: a frame got or drawn, or counted and dropped. */
  message(id: number, data: string | Uint8Array, nowMs: number): void {
    const viewer = this.viewers.get(id);
    if (!viewer) return;
    const report = parseViewerMessage(data, nowMs);
    if (!report) {
      this.counts.reportsRefused++;
      return;
    }
    if (report.type === "got") {
      // Frames arrive in order: this one and any before it are in.
      while (viewer.inFlight.length > 0 && viewer.inFlight[0]! <= report.frameNumber) viewer.inFlight.shift();
      this.pump(viewer, nowMs);
      return;
    }
    // Reports for frames without a capture time (or long forgotten, or reported before) say nothing.
    const ageUs = viewer.ages.get(report.frameNumber);
    if (ageUs === undefined) return;
    viewer.ages.delete(report.frameNumber);
    viewer.latency.add(drawnLatencyMs(ageUs, report, nowMs));
  }

  /** Every housekeeping tick: pictures that can go now go, and viewers stalled past the bound are dropped. */
  tick(nowMs: number): void {
    for (const viewer of [...this.viewers.values()]) {
      this.pump(viewer, nowMs);
      if (viewer.blockedSinceMs !== undefined && nowMs - viewer.blockedSinceMs > STALLED_AFTER_MS) {
        viewer.droppedAsStalled = true;
        this.counts.droppedStalled++;
        this.left(viewer.id);
        viewer.socket.close(CLOSE_STALLED, "not reading: dropped");
      }
    }
  }

  /** Everyone is told the stream is over and let go. */
  closeAll(): void {
    for (const viewer of [...this.viewers.values()]) {
      this.left(viewer.id);
      viewer.socket.close(1001, "receiver stopped");
    }
  }

  stats(): HubStats {
    const p = (s: RecentSamples, n: number) => round(s.percentile(n)!, 1);
    const describe = (v: Viewer): ViewerStats => ({
      id: v.id,
      connected: v.connected,
      framesSent: v.framesSent,
      framesSkipped: v.framesSkipped,
      soundPacketsSent: v.soundSent,
      soundPacketsDropped: v.soundDropped,
      latencyMs: v.latency.count > 0 ? { p50: p(v.latency, 50), p95: p(v.latency, 95), p99: p(v.latency, 99) } : null,
      droppedAsStalled: v.droppedAsStalled,
    });
    return { viewersNow: this.viewers.size, ...this.counts, viewers: [...this.departed, ...this.viewers.values()].sort((a, b) => a.id - b.id).map(describe) };
  }

  /** Sends what waits if the viewer can take it: Bun holds nothing unsent for it, and fewer than MAX_IN_FLIGHT are on their way. */
  private pump(viewer: Viewer, nowMs: number): void {
    if (viewer.socket.bufferedAmount() > 0 || viewer.inFlight.length >= MAX_IN_FLIGHT) {
      viewer.blockedSinceMs ??= nowMs;
      return;
    }
    viewer.blockedSinceMs = undefined;
    const message = viewer.waiting;
    if (!message) return;
    viewer.waiting = undefined;
    const sent = viewer.socket.send(message.bytes);
    if (sent === 0) return;
    viewer.framesSent++;
    viewer.inFlight.push(message.frameNumber);
    if (sent === -1 || viewer.inFlight.length >= MAX_IN_FLIGHT) viewer.blockedSinceMs = nowMs;
  }
}
