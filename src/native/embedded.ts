/**
 * The native parts a compiled udpvid binary carries. In a clone nothing is
 * embedded (node_modules has it all); scripts/build.ts replaces this module,
 * per target, with one that imports each file `with { type: "file" }`.
 */
export interface EmbeddedFile {
  /** Where the file sits inside the binary (Bun's $bunfs), readable with node:fs. */
  path: string;
  /** Its path inside the part's cache folder: the packages' own layout, so rpaths and DLL lookups resolve. */
  name: string;
  executable: boolean;
  /**
   * The file is stored zstd-compressed in the binary (the large ones: ffmpeg,
   * libvips), `size` bytes once unpacked: a third of the download for them.
   */
  compressed?: { size: number };
}

export interface EmbeddedPart {
  /** SHA-256 of the part's files (short), computed at build time: the cache folder's key. */
  hash: string;
  files: EmbeddedFile[];
  /** The file to load (an addon) or run (ffmpeg), by `name`. */
  entry: string;
}

export type NativePartName = "sharp" | "ffmpeg" | "sdl" | "turbojpeg" | "opus";

export interface EmbeddedNatives {
  target: string;
  version: string;
  commit: string;
  parts: Partial<Record<NativePartName, EmbeddedPart>>;
  /** Parts this target's build could not include, and why. */
  missing: Partial<Record<NativePartName, string>>;
}

export const EMBEDDED: EmbeddedNatives | undefined = undefined;
