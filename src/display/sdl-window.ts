import { RecentSamples } from "../util/percentiles.ts";
import { isI420, type Picture } from "../decoder/picture.ts";
import { SdlYuvTexture } from "./sdl-yuv-texture.ts";
import { EMBEDDED } from "../native/embedded.ts";
import { withNativeStderrQuiet } from "./quiet-native-stderr.ts";
import { letterbox } from "./letterbox.ts";
import type { ViewerKey, WindowSurface } from "./viewer.ts";

type Sdl = typeof import("@kmamal/sdl");
type SdlWindow = ReturnType<Sdl["video"]["createWindow"]>;

export class DisplayUnavailableError extends Error {}

/** SDL falls back to these when there is no display: a window there is invisible, so refuse it. */
const HEADLESS_DRIVERS = new Set(["offscreen", "dummy", "evdev"]);

/** One line for a binary that carries no window: the two ways to watch the stream without one. */
const NO_WINDOW_IN_BINARY = (target: string) =>
  `this udpvid (${target}) has no window; run receive --headless --record out.mjpeg and play it with ffplay -f mjpeg out.mjpeg, ` +
  `or send with --protocol rtp --sdp stream.sdp and open stream.sdp in ffplay or VLC`;

/** Two clicks this close together are a double-click (SDL 2's events here carry no click count). */
const DOUBLE_CLICK_MS = 400;

/** SDL key names → what they do in the viewer. */
const KEYS: Record<string, ViewerKey> = { q: "quit", escape: "quit", s: "overlay", f: "fullscreen", space: "freeze", m: "mute", up: "louder", down: "quieter" };

/**
 * The window, as a thin shell over SDL: draws a picture letterboxed, sets
 * the title, goes fullscreen, and reports keys, resizes and closing. SDL
 * is imported here only, so that headless runs never load it.
 */
export class SdlWindowDisplay implements WindowSurface {
  private last: Picture | undefined;
  /** YUV pictures go to an IYUV texture through this; undefined where it could not be had (they are decoded to RGBA instead). */
  private readonly yuv: SdlYuvTexture | undefined;
  /** Why the window draws RGBA only (undefined: it takes YUV planes). */
  readonly yuvUnavailable: string | undefined;
  private closed = false;
  private title = "";
  private readonly drawTimes = new RecentSamples(60);
  /** The size udpvid last gave the window; any other size is the user's choice, and stays. */
  private sizeSet: { width: number; height: number };

  private constructor(
    private readonly sdl: Sdl,
    private readonly window: SdlWindow,
    onKey: (key: ViewerKey) => void,
    onResize: () => void,
  ) {
    this.sizeSet = { width: window.width, height: window.height };
    const yuv = process.env.UDPVID_JPEG === "sharp" ? "UDPVID_JPEG=sharp" : SdlYuvTexture.open(window.id);
    this.yuv = typeof yuv === "string" ? undefined : yuv;
    this.yuvUnavailable = typeof yuv === "string" ? yuv : undefined;
    window.on("keyDown", (event) => {
      const key = event.key === null ? undefined : KEYS[event.key];
      if (key !== undefined && !this.closed) onKey(key);
    });
    // Double-click toggles fullscreen, as in most players.
    let lastClickMs = -Infinity;
    window.on("mouseButtonDown", (event) => {
      if (event.button !== 1 || this.closed) return;
      const now = performance.now();
      if (now - lastClickMs < DOUBLE_CLICK_MS) {
        lastClickMs = -Infinity;
        onKey("fullscreen");
      } else {
        lastClickMs = now;
      }
    });
    window.on("close", () => {
      if (!this.closed) onKey("quit");
    });
    window.on("resize", () => {
      this.redraw();
      onResize();
    });
    window.on("expose", () => this.redraw());
  }

  static async open(onKey: (key: ViewerKey) => void, onResize: () => void, width = 960, height = 540): Promise<SdlWindowDisplay> {
    // A binary built without the window addon: say so, and how to watch anyway, instead of failing to load it.
    if (EMBEDDED && !EMBEDDED.parts.sdl) throw new DisplayUnavailableError(NO_WINDOW_IN_BINARY(EMBEDDED.target));
    let sdl: Sdl;
    try {
      sdl = await withNativeStderrQuiet(() => import("@kmamal/sdl"));
    } catch (error) {
      throw new DisplayUnavailableError(
        `cannot load the SDL window library (${firstLine(error)}); install libsdl2 (apt-get install libsdl2-2.0-0) or use --headless`,
      );
    }
    const driver = sdl.info.drivers.video.current;
    if (driver === null || HEADLESS_DRIVERS.has(driver)) {
      throw new DisplayUnavailableError(`no display to open a window on (SDL video driver: ${driver ?? "none"}); set DISPLAY, or use --headless`);
    }
    try {
      // Software rendering without vsync: a vsync'd present blocks the JS thread (and so the socket)
      // for a whole refresh, and where the "accelerated" renderer is a software GL (VMs, Xvfb, remote X)
      // it measured 2x slower than SDL's plain software path.
      const window = sdl.video.createWindow({ title: "udpvid", width, height, resizable: true, accelerated: false, vsync: false });
      const display = new SdlWindowDisplay(sdl, window, onKey, onResize);
      // One black pixel stretched over the window: black until there is something to show.
      window.render(1, 1, 4, "rgba32", Buffer.from([0, 0, 0, 255]));
      return display;
    } catch (error) {
      throw new DisplayUnavailableError(`cannot open a window (${firstLine(error)}); is there a display? Use --headless to run without one`);
    }
  }

  get pixelWidth(): number {
    return this.window.destroyed ? 0 : this.window.pixelWidth;
  }

  get pixelHeight(): number {
    return this.window.destroyed ? 0 : this.window.pixelHeight;
  }

  /** Whether it draws YUV planes (the decoder then makes them instead of RGBA). */
  get takesI420(): boolean {
    return this.yuv !== undefined;
  }

  prepare(width: number, height: number, i420: boolean): void {
    if (this.closed || this.window.destroyed || !i420 || !this.yuv) return;
    this.yuv.prepare(width, height);
  }

  draw(image: Picture): void {
    this.last = image;
    const startMs = performance.now();
    this.redraw();
    this.drawTimes.add(performance.now() - startMs);
  }

  /**
   * How long drawing a frame takes, median of the last 60: SDL's software
   * path waits for the display server to have the picture, so a frame is on
   * the screen about this long after it is handed over (Xvfb, 720p: ~8 ms).
   */
  get drawMs(): number {
    return this.drawTimes.percentile(50) ?? 0;
  }

  setTitle(title: string): void {
    if (this.closed || this.window.destroyed || title === this.title) return;
    this.title = title;
    this.window.setTitle(title);
  }

  /**
   * Gives the window the picture's size, as a player does, shrunk to fit 90%
   * of the screen: a 4:3 stream gets a 4:3 window instead of bars. Only while
   * the window still has the size udpvid gave it.
   */
  fitTo(width: number, height: number): void {
    const window = this.window;
    if (this.closed || window.destroyed || window.fullscreen) return;
    if (window.width !== this.sizeSet.width || window.height !== this.sizeSet.height) return;
    // Window sizes are in screen units; on a high-DPI screen a unit is several pixels.
    const pixelsPerUnit = window.pixelWidth / window.width || 1;
    const usable = this.screenArea();
    if (!usable) return;
    const scale = Math.min(1 / pixelsPerUnit, (0.9 * usable.width) / width, (0.9 * usable.height) / height);
    const fitted = { width: Math.max(160, Math.round(width * scale)), height: Math.max(90, Math.round(height * scale)) };
    if (fitted.width === window.width && fitted.height === window.height) return;
    this.sizeSet = fitted;
    window.setSize(fitted.width, fitted.height);
  }

  /** The usable area of the screen the window is on (its centre's). */
  private screenArea(): { width: number; height: number } | undefined {
    const displays = this.sdl.video.displays;
    const cx = this.window.x + this.window.width / 2;
    const cy = this.window.y + this.window.height / 2;
    const on = displays.find(({ geometry: g }) => cx >= g.x && cx < g.x + g.width && cy >= g.y && cy < g.y + g.height);
    return (on ?? displays[0])?.usable;
  }

  toggleFullscreen(): void {
    if (!this.closed && !this.window.destroyed) this.window.setFullscreen(!this.window.fullscreen);
  }

  close(): void {
    this.closed = true;
    this.yuv?.close();
    if (!this.window.destroyed) this.window.destroy();
  }

  private redraw(): void {
    if (this.closed || this.window.destroyed || !this.last) return;
    const picture = this.last;
    const dstRect = letterbox(picture.width, picture.height, this.window.pixelWidth, this.window.pixelHeight);
    if (isI420(picture)) {
      this.yuv?.draw(picture.i420, picture.width, picture.height, dstRect);
      return;
    }
    const { width, height, rgba } = picture;
    const buffer = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    this.window.render(width, height, width * 4, "rgba32", buffer, { dstRect, scaling: "linear" });
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
