import { dlopen, FFIType, ptr, CString, type Pointer } from "bun:ffi";
import { openNativeLibrary } from "./native-parts.ts";

/*
 * libjpeg-turbo's TurboJPEG API (the 2.x calls, present in 2.0 to 3.x),
 * through bun:ffi: JPEG straight from and to YUV planes, with no RGB in
 * between. A thin shell: it loads the library and makes the calls; who
 * uses it (the encoder, the decoder) and what they fall back to is theirs.
 * A compiled binary carries its own build (scripts/build-turbojpeg.ts); a
 * clone uses the system's libturbojpeg, as the window uses the system's SDL.
 */

/** TurboJPEG's chroma subsampling codes (TJSAMP_*). */
export const TJSAMP_420 = 2;
/** TJPF_RGBA: 4 bytes a pixel, the order SDL's "rgba32" reads. */
const TJPF_RGBA = 7;
/** TJFLAG_NOREALLOC: write into our buffer, never one of its own. */
const TJFLAG_NOREALLOC = 1024;
/** TJFLAG_STOPONWARNING: a damaged frame is an error, never a picture patched with grey. */
const TJFLAG_STOPONWARNING = 8192;

/** `unsigned long` is 32 bits on Windows, 64 elsewhere. */
const LONG_IS_32 = process.platform === "win32";
const ULONG = LONG_IS_32 ? FFIType.u32 : FFIType.u64;

const SYMBOLS = {
  tjInitCompress: { args: [], returns: FFIType.ptr },
  tjInitDecompress: { args: [], returns: FFIType.ptr },
  tjBufSize: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: ULONG },
  tjCompressFromYUVPlanes: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjDecompressHeader3: { args: [FFIType.ptr, FFIType.ptr, ULONG, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  tjDecompressToYUVPlanes: { args: [FFIType.ptr, FFIType.ptr, ULONG, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  tjDecompress2: { args: [FFIType.ptr, FFIType.ptr, ULONG, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  tjGetErrorStr2: { args: [FFIType.ptr], returns: FFIType.ptr },
  tjDestroy: { args: [FFIType.ptr], returns: FFIType.i32 },
} as const;

type Library = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export class TurboJpegError extends Error {}

/** Where a clone looks for the system's library, by platform: Debian/Ubuntu's multiarch name first, then Homebrew's and MSYS2's. */
function systemCandidates(): string[] {
  if (process.platform === "darwin") return ["/opt/homebrew/opt/jpeg-turbo/lib/libturbojpeg.dylib", "/usr/local/opt/jpeg-turbo/lib/libturbojpeg.dylib", "libturbojpeg.dylib"];
  if (process.platform === "win32") return ["turbojpeg.dll", "libturbojpeg.dll"];
  return ["libturbojpeg.so.0", "libturbojpeg.so"];
}

/** A JPEG's header: its size and chroma subsampling (TJSAMP_*). */
export interface JpegHeader {
  width: number;
  height: number;
  subsampling: number;
}

/**
 * One TurboJPEG library with a compressor and a decompressor handle. Not
 * thread-safe (neither is the JS thread that calls it), and synchronous: a
 * call runs to its end on the calling thread.
 */
export class TurboJpeg {
  private compressor: Pointer;
  private decompressor: Pointer;
  /** Scratch for the pointer and length arguments TurboJPEG writes through. */
  private readonly planes = new BigUint64Array(3);
  private readonly strides = new Int32Array(3);
  private readonly outPointer = new BigUint64Array(1);
  private readonly outSize = LONG_IS_32 ? new Uint32Array(1) : new BigUint64Array(1);
  private readonly header = new Int32Array(4);
  private output = new Uint8Array(0);

  private constructor(
    private readonly lib: Library,
    /** Where the library came from: "embedded" or the path or name it was loaded by. */
    readonly origin: string,
  ) {
    const compressor = lib.tjInitCompress();
    const decompressor = lib.tjInitDecompress();
    if (!compressor || !decompressor) throw new TurboJpegError("libturbojpeg loaded, but could not make its handles");
    this.compressor = compressor as Pointer;
    this.decompressor = decompressor as Pointer;
  }

  /** Loads the binary's own libturbojpeg, or in a clone the system's; throws with the reason when there is none. */
  static load(): TurboJpeg {
    const opened = openNativeLibrary("turbojpeg", systemCandidates(), (path) => dlopen(path, SYMBOLS).symbols, (why) => new TurboJpegError(`no libturbojpeg (${why})`));
    return new TurboJpeg(opened.library, opened.origin);
  }

  /**
   * Encodes a 4:2:0 picture from its three planes (Y, then U and V at half
   * size each way, rounded up), as a baseline JPEG with standard Huffman
   * tables (see encoder/jpeg-encoder.ts for why not optimised ones).
   */
  compressI420(y: Uint8Array, u: Uint8Array, v: Uint8Array, width: number, height: number, quality: number): Uint8Array {
    const chromaWidth = (width + 1) >> 1;
    const chromaHeight = (height + 1) >> 1;
    if (y.length < width * height || u.length < chromaWidth * chromaHeight || v.length < chromaWidth * chromaHeight) {
      throw new TurboJpegError(`planes too small for ${width}x${height}`);
    }
    const bound = Number(this.lib.tjBufSize(width, height, TJSAMP_420));
    if (this.output.length < bound) this.output = new Uint8Array(bound);
    this.planes[0] = BigInt(ptr(y));
    this.planes[1] = BigInt(ptr(u));
    this.planes[2] = BigInt(ptr(v));
    this.strides[0] = width;
    this.strides[1] = chromaWidth;
    this.strides[2] = chromaWidth;
    this.outPointer[0] = BigInt(ptr(this.output));
    this.setOutSize(this.output.length);
    const result = this.lib.tjCompressFromYUVPlanes(this.compressor, ptr(this.planes), width, ptr(this.strides), height, TJSAMP_420, ptr(this.outPointer), ptr(this.outSize), quality, TJFLAG_NOREALLOC);
    if (result !== 0) throw this.failed("compressor", "TurboJPEG could not encode: ");
    return this.output.slice(0, Number(this.outSize[0]));
  }

  /** Reads a JPEG's header; throws on one TurboJPEG cannot read. */
  readHeader(jpeg: Uint8Array): JpegHeader {
    const h = this.header;
    if (this.lib.tjDecompressHeader3(this.decompressor, ptr(jpeg), jpeg.length, ptr(h, 0), ptr(h, 4), ptr(h, 8), ptr(h, 12)) !== 0) {
      throw this.failed("decompressor");
    }
    return { width: h[0]!, height: h[1]!, subsampling: h[2]! };
  }

  /** Decodes a 4:2:0 JPEG into one buffer: Y, then U, then V, rows packed (SDL's IYUV layout). Warnings are errors. */
  decompressI420(jpeg: Uint8Array, width: number, height: number, into: Uint8Array): void {
    const ySize = width * height;
    const chromaWidth = (width + 1) >> 1;
    const chromaSize = chromaWidth * ((height + 1) >> 1);
    if (into.length < ySize + 2 * chromaSize) throw new TurboJpegError(`buffer too small for ${width}x${height}`);
    const base = ptr(into);
    this.planes[0] = BigInt(base);
    this.planes[1] = BigInt(base + ySize);
    this.planes[2] = BigInt(base + ySize + chromaSize);
    this.strides[0] = width;
    this.strides[1] = chromaWidth;
    this.strides[2] = chromaWidth;
    if (this.lib.tjDecompressToYUVPlanes(this.decompressor, ptr(jpeg), jpeg.length, ptr(this.planes), width, ptr(this.strides), height, TJFLAG_STOPONWARNING) !== 0) {
      throw this.failed("decompressor");
    }
  }

  /** Decodes any JPEG TurboJPEG reads to packed RGBA. Warnings are errors. */
  decompressRgba(jpeg: Uint8Array, width: number, height: number, into: Uint8Array): void {
    if (into.length < width * height * 4) throw new TurboJpegError(`buffer too small for ${width}x${height}`);
    if (this.lib.tjDecompress2(this.decompressor, ptr(jpeg), jpeg.length, ptr(into), width, width * 4, height, TJPF_RGBA, TJFLAG_STOPONWARNING) !== 0) {
      throw this.failed("decompressor");
    }
  }

  private setOutSize(size: number): void {
    if (this.outSize instanceof Uint32Array) this.outSize[0] = size;
    else this.outSize[0] = BigInt(size);
  }

  /**
   * The error a call left, and a fresh handle in place of the one it used:
   * libjpeg keeps tables across images in one handle, and a forged frame's
   * bogus Huffman table made every good frame after it fail on the old one.
   */
  private failed(which: "compressor" | "decompressor", prefix = ""): TurboJpegError {
    const error = new TurboJpegError(prefix + this.errorText(this[which]));
    const fresh = which === "compressor" ? this.lib.tjInitCompress() : this.lib.tjInitDecompress();
    if (fresh) {
      this.lib.tjDestroy(this[which]);
      this[which] = fresh as Pointer;
    }
    return error;
  }

  private errorText(handle: Pointer): string {
    const text = this.lib.tjGetErrorStr2(handle);
    return text ? new CString(text).toString() : "unknown error";
  }
}

let loaded: { turbo: TurboJpeg } | { error: string } | undefined;

/** The process's one TurboJPEG, loaded on first use; undefined (with why) where it cannot load or UDPVID_JPEG=sharp asks for the fallback. */
export function turboJpeg(): TurboJpeg | undefined {
  loaded ??= load();
  return "turbo" in loaded ? loaded.turbo : undefined;
}

/** Why turboJpeg() gave nothing, or undefined when it loaded. */
export function turboJpegUnavailable(): string | undefined {
  loaded ??= load();
  return "error" in loaded ? loaded.error : undefined;
}

function load(): { turbo: TurboJpeg } | { error: string } {
  if (process.env.UDPVID_JPEG === "sharp") return { error: "UDPVID_JPEG=sharp" };
  try {
    return { turbo: TurboJpeg.load() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
