import type { RgbImage } from "../decoder/jpeg-decoder.ts";
import { letterbox } from "./letterbox.ts";

export const WINDOW_TITLE = "Video Stream";

type Sdl = typeof import("@kmamal/sdl");
type SdlWindow = ReturnType<Sdl["video"]["createWindow"]>;

export class DisplayUnavailableError extends Error {}

/**
 * The window: shows the newest frame letterboxed, and reports when the user
 * asks to quit (q, Esc, or closing it). SDL is imported here only, so that
 * headless runs never load it.
 */
export class SdlWindowDisplay {
  private last: RgbImage | undefined;
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
    try {
      const window = sdl.video.createWindow({ title: WINDOW_TITLE, width, height, resizable: true });
      const display = new SdlWindowDisplay(window, onQuit);
      display.clear();
      return display;
    } catch (error) {
      throw new DisplayUnavailableError(`cannot open a window (${firstLine(error)}); is there a display? Use --headless to run without one`);
    }
  }

  show(image: RgbImage): void {
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
    const black = Buffer.alloc(3);
    this.window.render(1, 1, 3, "rgb24", black, { dstRect: { x: 0, y: 0, width: 0, height: 0 } });
  }

  private redraw(): void {
    if (this.closed || this.window.destroyed || !this.last) return;
    const { width, height, rgb } = this.last;
    const dstRect = letterbox(width, height, this.window.pixelWidth, this.window.pixelHeight);
    const buffer = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
    this.window.render(width, height, width * 3, "rgb24", buffer, { dstRect, scaling: "linear" });
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
