import type { RgbaImage } from "../decoder/jpeg-decoder.ts";
import { letterbox } from "./letterbox.ts";

export const WINDOW_TITLE = "Video Stream";

type Sdl = typeof import("@kmamal/sdl");
type SdlWindow = ReturnType<Sdl["video"]["createWindow"]>;

export class DisplayUnavailableError extends Error {}

/** SDL falls back to these when there is no display: a window there is invisible, so refuse it. */
const HEADLESS_DRIVERS = new Set(["offscreen", "dummy", "evdev"]);

/**
 * The window: shows the newest frame letterboxed, and reports when the user
 * asks to quit (q, Esc, or closing it). SDL is imported here only, so that
 * headless runs never load it.
 */
export class SdlWindowDisplay {
  private last: RgbaImage | undefined;
  private closed = false;

  private constructor(
    private readonly window: SdlWindow,
    onQuit: () => void,
  ) {
    const quit = () => {
      if (this.closed) return;
      this.closed = true;
      onQuit();
    };
    window.on("keyDown", (event) => {
      if (event.key === "q" || event.key === "escape") quit();
    });
    window.on("close", quit);
    window.on("resize", () => this.redraw());
    window.on("expose", () => this.redraw());
  }

  static async open(onQuit: () => void, width = 960, height = 540): Promise<SdlWindowDisplay> {
    let sdl: Sdl;
    try {
      sdl = await import("@kmamal/sdl");
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
      const window = sdl.video.createWindow({ title: WINDOW_TITLE, width, height, resizable: true, accelerated: false, vsync: false });
      const display = new SdlWindowDisplay(window, onQuit);
      display.clear();
      return display;
    } catch (error) {
      throw new DisplayUnavailableError(`cannot open a window (${firstLine(error)}); is there a display? Use --headless to run without one`);
    }
  }

  show(image: RgbaImage): void {
    this.last = image;
    this.redraw();
  }

  setTitle(title: string): void {
    if (!this.closed && !this.window.destroyed) this.window.setTitle(title);
  }

  close(): void {
    this.closed = true;
    if (!this.window.destroyed) this.window.destroy();
  }

  private clear(): void {
    // One black pixel stretched over the window: black until the first frame.
    this.window.render(1, 1, 4, "rgba32", Buffer.from([0, 0, 0, 255]));
  }

  private redraw(): void {
    if (this.closed || this.window.destroyed || !this.last) return;
    const { width, height, rgba } = this.last;
    const dstRect = letterbox(width, height, this.window.pixelWidth, this.window.pixelHeight);
    const buffer = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    this.window.render(width, height, width * 4, "rgba32", buffer, { dstRect, scaling: "linear" });
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
