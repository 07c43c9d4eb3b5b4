import type { RgbaImage } from "../decoder/jpeg-decoder.ts";
import { isI420, type Picture } from "../decoder/picture.ts";
import { blendOver, blendOverI420 } from "./blend.ts";
import { overlayLines, windowTitle, type StreamReadout } from "./stream-readout.ts";
import { overlayFontSize, renderMessageCard, renderOverlayPanel } from "./text-image.ts";
import type { QrModules } from "../web/qr-code.ts";

export type ViewerKey = "quit" | "overlay" | "fullscreen" | "freeze" | "mute" | "louder" | "quieter";

/** What the viewer needs of a window: the SDL shell is one, a test's recorder another. */
export interface WindowSurface {
  readonly pixelWidth: number;
  readonly pixelHeight: number;
  /** Shows the picture letterboxed to the window. */
  draw(image: Picture): void;
  setTitle(title: string): void;
  toggleFullscreen(): void;
  /** Sizes the window for a picture this big, unless the user has sized it (or it is fullscreen). */
  fitTo(width: number, height: number): void;
  /** Gets ready to draw pictures this big (of planes or not), showing black meanwhile: the first draw at a size is the slow one. */
  prepare(width: number, height: number, i420: boolean): void;
}

export type Renderers = {
  card: typeof renderMessageCard;
  panel: typeof renderOverlayPanel;
};

/**
 * What the window shows, and when: a "Waiting for stream" card until the
 * first frame, the newest frame (with the `s` stats overlay drawn into it),
 * the held frame while frozen (space), and a "Stream ended" card once the
 * stream is over. The title carries the live numbers. SDL-free: it draws
 * through a WindowSurface.
 */
export class Viewer {
  private frame: Picture | undefined;
  /** The picture size the window was last fitted to: a stream changing size gets fitted again. */
  private fittedTo = { shape: 0, width: 0 };
  private frozen = false;
  private overlay = false;
  private panel: RgbaImage | undefined;
  private panelBusy = false;
  private scratch: Picture | undefined;
  private readout: StreamReadout;
  /** The card on show (or being rendered), by what it says and its size. */
  private cardKey: string | undefined;
  private showingCard = false;

  /**
   * `reachAt`: the address senders should use (shown on the waiting card);
   * undefined shows a placeholder.
   */
  constructor(
    private readonly surface: WindowSurface,
    port: number,
    private readonly reachAt: string | undefined,
    private readonly renderers: Renderers = { card: renderMessageCard, panel: renderOverlayPanel },
    /** --web: the browsers' URL, on the waiting card too (with a QR code for phones where it is not this machine's own). */
    private readonly web?: { url: string; qr?: QrModules },
  ) {
    this.readout = idleReadout(port);
    this.refresh();
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** The frame on show (kept for redraws): not to be reused while it is. */
  get currentFrame(): Picture | undefined {
    return this.frame;
  }

  get hasOverlay(): boolean {
    return this.overlay;
  }

  /** A key the window passed on (quit is the caller's business). */
  key(key: ViewerKey): void {
    if (key === "overlay") {
      this.overlay = !this.overlay;
      if (this.overlay) void this.renderPanel();
      else this.drawFrame();
    } else if (key === "freeze") {
      this.frozen = !this.frozen;
      this.readout = { ...this.readout, frozen: this.frozen };
      this.surface.setTitle(windowTitle(this.readout));
      this.refresh();
    } else if (key === "fullscreen") {
      this.surface.toggleFullscreen();
    }
  }

  /**
   * A decoded frame that waits for its time: while no frame is on show
   * (the waiting card), the window takes its size and gets ready to draw it
   * (black until it is due), so the first frame is on screen at its time,
   * not the 60-80 ms a window's first draw takes after it. Not while a
   * frame is on show: that would blank it.
   */
  prepare(image: Picture): void {
    if (this.frame && !this.showingCard) return;
    this.fit(image);
    this.surface.prepare(image.width, image.height, isI420(image));
  }

  /** A decoded frame: shown unless the picture is frozen. */
  showFrame(image: Picture): void {
    if (this.frozen && this.frame) return;
    this.frame = image;
    this.fit(image);
    if (this.readout.state !== "receiving") this.readout = { ...this.readout, state: "receiving" };
    this.showingCard = false;
    this.cardKey = undefined;
    this.drawFrame();
  }

  /**
   * The window follows the picture's shape and its largest size, not every size: a sender that
   * follows the link shrinks and grows the picture, and the window must not jump with it (letterboxing scales).
   */
  private fit(image: Picture): void {
    const shape = image.width / image.height;
    // Within 2%: shrunk sides are rounded to even numbers.
    if (Math.abs(shape - this.fittedTo.shape) > 0.02 * shape || image.width > this.fittedTo.width) {
      this.fittedTo = { shape, width: image.width };
      this.surface.fitTo(image.width, image.height);
    }
  }

  /** The latest numbers, about twice a second: title, overlay, and the waiting / ended cards. */
  update(readout: StreamReadout): void {
    this.readout = { ...readout, frozen: this.frozen };
    this.surface.setTitle(windowTitle(this.readout));
    if (this.overlay) void this.renderPanel();
    this.refresh();
  }

  /** The window changed size: cards are drawn at window size, so redraw them. */
  resized(): void {
    if (this.showingCard) this.refresh(true);
  }

  private refresh(force = false): void {
    const state = this.readout.state;
    if (state === "waiting" && !this.frame) {
      const send = `udpvid send FILE --to ${this.reachAt ?? "THIS-HOST"}:${this.readout.port}`;
      this.showCard(`Waiting for stream on :${this.readout.port}`, this.web ? [send, `or watch in a browser: ${this.web.url}`] : [send], force, this.web?.qr);
    } else if (state === "ended" && !this.frozen) {
      this.showCard("Stream ended", [`waiting for the next one on :${this.readout.port}`], force);
    } else if (this.showingCard) {
      this.showingCard = false;
      this.cardKey = undefined;
      this.drawFrame();
    }
  }

  private showCard(headline: string, detail: string[], force: boolean, qr?: QrModules): void {
    const width = this.surface.pixelWidth;
    const height = this.surface.pixelHeight;
    if (width <= 0 || height <= 0) return;
    const key = `${headline}|${detail.join("|")}|${width}x${height}`;
    if (key === this.cardKey && !force) return;
    this.cardKey = key;
    this.showingCard = true;
    void this.renderers.card(headline, detail, width, height, qr).then(
      (card) => {
        // Only if nothing newer was asked for meanwhile.
        if (this.cardKey === key && this.showingCard) this.surface.draw(card);
      },
      () => {},
    );
  }

  private async renderPanel(): Promise<void> {
    if (this.panelBusy) return; // the next update renders fresher numbers anyway
    this.panelBusy = true;
    try {
      const width = this.frame?.width ?? this.surface.pixelWidth;
      this.panel = await this.renderers.panel(overlayLines(this.readout, this.frame), width);
    } catch {
      this.panel = undefined; // no fonts or no SVG support: the picture without the overlay
    } finally {
      this.panelBusy = false;
    }
    if (this.overlay) this.drawFrame();
  }

  private drawFrame(): void {
    if (!this.frame || this.showingCard) return;
    if (!this.overlay || !this.panel) {
      this.surface.draw(this.frame);
      return;
    }
    // The overlay goes on a copy: the frame itself stays clean for the next redraw.
    const frame = this.frame;
    const margin = Math.round(overlayFontSize(frame.width) * 0.8);
    const scratch = this.scratchLike(frame);
    if (isI420(frame) && isI420(scratch)) {
      scratch.i420.set(frame.i420);
      blendOverI420(scratch, this.panel, margin, margin);
    } else if (!isI420(frame) && !isI420(scratch)) {
      scratch.rgba.set(frame.rgba);
      blendOver(scratch, this.panel, margin, margin);
    }
    this.surface.draw(scratch);
  }

  /** A reusable picture of the frame's kind and size, for the overlay's copy. */
  private scratchLike(frame: Picture): Picture {
    const s = this.scratch;
    if (s && s.width === frame.width && s.height === frame.height && isI420(s) === isI420(frame)) return s;
    const { width, height } = frame;
    return (this.scratch = isI420(frame) ? { width, height, i420: new Uint8Array(frame.i420.length) } : { width, height, rgba: new Uint8Array(frame.rgba.length) });
  }
}

function idleReadout(port: number): StreamReadout {
  return {
    port,
    state: "waiting",
    frozen: false,
    fps: 0,
    mbps: 0,
    lossPercent: undefined,
    latencyMs: undefined,
    decodeMs: undefined,
    shown: 0,
    skipped: 0,
    dropped: 0,
    recoveredFrames: 0,
    rejected: 0,
  };
}
