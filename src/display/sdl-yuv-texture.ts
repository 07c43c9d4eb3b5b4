import { dlopen, FFIType, ptr, CString, type Pointer } from "bun:ffi";
import { dirname, join } from "node:path";
import { EMBEDDED } from "../native/embedded.ts";
import { embeddedEntry } from "../native/native-parts.ts";

/*
 * Draws 4:2:0 YUV planes through an SDL IYUV texture on the window's own
 * renderer, which @kmamal/sdl's render() cannot (it takes RGB surfaces
 * only). The renderer converts the colour: a desktop's GPU renderer does it
 * in a shader, and the upload is 12 bits a pixel instead of 32. A thin
 * shell: the same SDL library the addon loaded (so one SDL, one renderer),
 * opened again by name through bun:ffi.
 */

const SDL_PIXELFORMAT_IYUV = 0x56555949; // SDL_DEFINE_PIXELFOURCC('I', 'Y', 'U', 'V')
const SDL_TEXTUREACCESS_STREAMING = 1;
const SDL_SCALEMODE_LINEAR = 1;

const SYMBOLS = {
  SDL_GetWindowFromID: { args: [FFIType.u32], returns: FFIType.ptr },
  SDL_GetRenderer: { args: [FFIType.ptr], returns: FFIType.ptr },
  SDL_CreateTexture: { args: [FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.ptr },
  SDL_DestroyTexture: { args: [FFIType.ptr], returns: FFIType.void },
  SDL_SetTextureScaleMode: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  SDL_UpdateYUVTexture: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  SDL_SetRenderDrawColor: { args: [FFIType.ptr, FFIType.u8, FFIType.u8, FFIType.u8, FFIType.u8], returns: FFIType.i32 },
  SDL_RenderClear: { args: [FFIType.ptr], returns: FFIType.i32 },
  SDL_RenderCopy: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  SDL_RenderPresent: { args: [FFIType.ptr], returns: FFIType.void },
  SDL_GetError: { args: [], returns: FFIType.ptr },
} as const;

type Sdl = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

/** The SDL library the addon links: the binary's own copy beside its sdl.node, else the system's by its usual name. */
function sdlLibraryName(): string {
  const name = process.platform === "win32" ? "SDL2.dll" : process.platform === "darwin" ? "libSDL2-2.0.0.dylib" : "libSDL2-2.0.so.0";
  return EMBEDDED?.parts.sdl ? join(dirname(embeddedEntry("sdl")), name) : name;
}

export class SdlYuvTexture {
  private texture: Pointer | null = null;
  private size = { width: 0, height: 0 };
  private readonly rect = new Int32Array(4);

  private constructor(
    private readonly sdl: Sdl,
    private readonly windowId: number,
  ) {}

  /** The texture path for the window `windowId`, or the reason it cannot be had (the window then draws RGBA as before). */
  static open(windowId: number): SdlYuvTexture | string {
    try {
      const sdl = dlopen(sdlLibraryName(), SYMBOLS).symbols;
      const window = sdl.SDL_GetWindowFromID(windowId);
      if (!window || !sdl.SDL_GetRenderer(window)) return `SDL has no renderer for window ${windowId}`;
      return new SdlYuvTexture(sdl, windowId);
    } catch (error) {
      return (error as Error).message.split("\n")[0]!;
    }
  }

  /** Shows the planes (Y, U, V packed one after another) scaled into `dst` (window pixels), black around it. */
  draw(i420: Uint8Array, width: number, height: number, dst: { x: number; y: number; width: number; height: number }): void {
    const renderer = this.renderer();
    const texture = this.textureFor(renderer, width, height);
    const ySize = width * height;
    const chromaWidth = (width + 1) >> 1;
    const chromaSize = chromaWidth * ((height + 1) >> 1);
    const base = ptr(i420);
    const ok =
      this.sdl.SDL_UpdateYUVTexture(texture, null, base, width, (base + ySize) as Pointer, chromaWidth, (base + ySize + chromaSize) as Pointer, chromaWidth) === 0 &&
      this.sdl.SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255) === 0 &&
      this.sdl.SDL_RenderClear(renderer) === 0;
    this.rect.set([dst.x, dst.y, dst.width, dst.height]);
    if (!ok || this.sdl.SDL_RenderCopy(renderer, texture, null, ptr(this.rect)) !== 0) throw new Error(`SDL could not draw the YUV picture: ${this.error()}`);
    this.sdl.SDL_RenderPresent(renderer);
  }

  /**
   * Gets ready to draw pictures this big, showing black meanwhile: the
   * texture made and the window's framebuffer presented at its size. Done
   * on a window's first picture, the two took 60-80 ms under Xvfb (25 and
   * 40), the picture on screen that much after its time.
   */
  prepare(width: number, height: number): void {
    const renderer = this.renderer();
    this.textureFor(renderer, width, height);
    if (this.sdl.SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255) !== 0 || this.sdl.SDL_RenderClear(renderer) !== 0) throw new Error(`SDL could not clear the window: ${this.error()}`);
    this.sdl.SDL_RenderPresent(renderer);
  }

  /** The streaming texture for pictures this big (made anew when the size changes). */
  private textureFor(renderer: Pointer, width: number, height: number): Pointer {
    if (!this.texture || this.size.width !== width || this.size.height !== height) {
      if (this.texture) this.sdl.SDL_DestroyTexture(this.texture);
      this.texture = this.sdl.SDL_CreateTexture(renderer, SDL_PIXELFORMAT_IYUV, SDL_TEXTUREACCESS_STREAMING, width, height) as Pointer | null;
      if (!this.texture) throw new Error(`SDL_CreateTexture (IYUV ${width}x${height}): ${this.error()}`);
      this.sdl.SDL_SetTextureScaleMode(this.texture, SDL_SCALEMODE_LINEAR);
      this.size = { width, height };
    }
    return this.texture;
  }

  close(): void {
    if (this.texture) this.sdl.SDL_DestroyTexture(this.texture);
    this.texture = null;
  }

  /** Asked each time: the addon makes a new renderer when the window's is lost (a resize on some drivers). */
  private renderer(): Pointer {
    const window = this.sdl.SDL_GetWindowFromID(this.windowId);
    const renderer = window ? this.sdl.SDL_GetRenderer(window) : null;
    if (!renderer) throw new Error(`SDL window ${this.windowId} has no renderer: ${this.error()}`);
    if (renderer !== this.lastRenderer) {
      // A texture belongs to the renderer that made it.
      this.texture = null;
      this.lastRenderer = renderer;
    }
    return renderer as Pointer;
  }

  private lastRenderer: unknown;

  private error(): string {
    const text = this.sdl.SDL_GetError();
    return text ? new CString(text).toString() : "unknown error";
  }
}
