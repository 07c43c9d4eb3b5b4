import type { StreamReadout } from "../display/stream-readout.ts";
import { elapsedSinceCaptureUs } from "../protocol/v2.ts";
import type { AssembledFrame } from "../reassembler/datagram-reassembler.ts";
import type { ReceivedAudio } from "../reassembler/audio-reassembler.ts";
import { OpusPacketDecoder, OUTPUT_CHANNELS } from "../decoder/opus-decoder.ts";
import { localInterfaces, reachableAddresses } from "../socket/address.ts";
import { wallClockUs } from "../util/terminal.ts";
import { qrModules, type QrModules } from "./qr-code.ts";
import { accessToken, isLoopbackHost, viewerUrl, type WebAddress } from "./web-access.ts";
import { ViewerHub, type HubStats } from "./viewer-hub.ts";
import { WebViewerServer } from "./web-server.ts";

export const DEFAULT_MAX_VIEWERS = 20;

export interface WebOptions {
  address: WebAddress;
  /** --web-token (undefined: none on loopback, one made at random elsewhere). */
  token?: string;
  maxViewers: number;
}

/**
 * The browser viewers as one of a receiver's outputs: each frame goes to
 * them as soon as it is whole, as it arrived (no re-encoding), the sound
 * decoded, with the stream's state and numbers. The server is the edge;
 * the hub decides who gets what.
 */
export class WebOutput {
  private lastState: StreamReadout["state"] | undefined;
  private decoder: OpusPacketDecoder | undefined;
  private closed = false;

  private constructor(
    private readonly hub: ViewerHub,
    private readonly server: WebViewerServer,
    /** Where a browser should go: one URL per address it can reach. */
    readonly urls: string[],
  ) {}

  static open(options: WebOptions): WebOutput {
    const token = accessToken(options.address.host, options.token);
    const hub = new ViewerHub(options.maxViewers);
    const server = WebViewerServer.open(options.address, token, hub, () => performance.now());
    // Bound to all addresses: the ones a phone on the network can use (the loopback one last).
    const hosts = options.address.host === "0.0.0.0" || options.address.host === "::" ? [...reachableAddresses(options.address.host, localInterfaces()), "127.0.0.1"] : [options.address.host];
    const urls = [...new Set(hosts)].map((host) => viewerUrl(host, server.port, token));
    const output = new WebOutput(hub, server, urls);
    // Loaded now (the WebAssembly fallback compiles for tens of ms): opened with the first sound, it cost the pages that sound.
    OpusPacketDecoder.open().then(
      (decoder) => (output.closed ? decoder.close() : (output.decoder = decoder)),
      () => {}, // no decoder: the pages get the picture alone
    );
    return output;
  }

  /** What the window's waiting card shows: the first URL, with a QR code of it for phones unless it is this machine's own. */
  get cardUrl(): { url: string; qr?: QrModules } {
    const url = this.urls[0]!;
    return { url, qr: isLoopbackHost(new URL(url).hostname.replace(/^\[|\]$/g, "")) ? undefined : qrModules(url) };
  }

  get port(): number {
    return this.server.port;
  }

  show(frame: AssembledFrame, nowMs: number): void {
    const captureUs = frame.captureTimeUs;
    // A capture time anchored where an RTP stream arrived still times the picture against its sound, but says nothing of its age.
    const ageUs = captureUs === undefined || frame.captureAnchoredOnArrival ? undefined : elapsedSinceCaptureUs(wallClockUs(), captureUs);
    this.hub.picture({ jpeg: frame.jpeg, captureUs, ageUs }, nowMs);
  }

  /**
   * A sound packet as it arrived (rebuilt or resent ones too), decoded once
   * for all the pages (see web-messages.ts: why not Opus), which play it at
   * its capture time. Nothing is decoded while nobody watches.
   */
  heard(audio: ReceivedAudio): void {
    if (this.hub.viewerCount === 0 || !this.decoder) return;
    this.hub.sound({ sequence: audio.sequence, channels: OUTPUT_CHANNELS, captureUs: audio.captureTimeUs, samples: this.decoder.decode(audio.data, audio.durationSamples) });
  }

  /** About twice a second: the numbers for the pages' overlays, and the state when it changes. */
  update(readout: StreamReadout): void {
    if (readout.state !== this.lastState) {
      this.lastState = readout.state;
      this.hub.say({ type: "state", state: readout.state });
    }
    const { fps, mbps, lossPercent, latencyMs, quality, shown, skipped, dropped } = readout;
    this.hub.say({ type: "stats", fps, mbps, lossPercent: lossPercent ?? null, latencyMs: latencyMs ?? null, quality: quality ?? null, shown, skipped, dropped });
  }

  tick(nowMs: number): void {
    this.hub.tick(nowMs);
  }

  stats(): HubStats {
    return this.hub.stats();
  }

  /** The pages are told the stream ended (if it did), then let go. */
  close(ended: boolean): void {
    if (ended) this.hub.say({ type: "state", state: "ended" });
    this.hub.closeAll();
    this.server.close();
    this.closed = true;
    this.decoder?.close();
  }
}
