import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { EmbeddedFile, EmbeddedPart } from "./embedded.ts";

/** The platform's usual per-user cache folder. Pure. */
export function userCacheRoot(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === "win32") return env.LOCALAPPDATA || join(home, "AppData", "Local");
  if (platform === "darwin") return join(home, "Library", "Caches");
  return env.XDG_CACHE_HOME || join(home, ".cache");
}

/** Errors that mean "this folder cannot take the files", not a bug: try elsewhere. */
const UNWRITABLE = new Set(["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENOTDIR", "EEXIST"]);

export interface ExtractOptions {
  version: string;
  partName: string;
  /** Defaults to the user's cache folder, then a temporary one. */
  roots?: string[];
  warn?: (line: string) => void;
}

/**
 * Writes an embedded part's files to `<root>/udpvid/<version>/<part>-<hash>/`
 * once, and returns that folder. Each file goes to a temporary name and is
 * renamed into place, and a `.complete` marker last: concurrent first runs
 * each write whole files and never see a half-written one. A root that is
 * read-only or full is passed over for the next, with a warning.
 */
export function extractPart(part: EmbeddedPart, options: ExtractOptions): string {
  const warn = options.warn ?? ((line: string) => console.error(line));
  const roots = options.roots ?? [userCacheRoot(process.platform, process.env, homedir()), join(tmpdir(), `udpvid-cache-${safeUser()}`)];
  const failures: string[] = [];
  for (const [i, root] of roots.entries()) {
    const folder = join(root, "udpvid", options.version, `${options.partName}-${part.hash}`);
    try {
      if (!existsSync(join(folder, ".complete"))) writePart(part, folder);
      if (i > 0) warn(`udpvid: could not use the cache folder (${failures.join("; ")}); using ${folder}`);
      return folder;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code || !UNWRITABLE.has(code)) throw error;
      failures.push(`${root}: ${code}`);
    }
  }
  throw new Error(`cannot unpack udpvid's ${options.partName} anywhere (${failures.join("; ")}): free some disk space or set XDG_CACHE_HOME to a writable folder`);
}

function writePart(part: EmbeddedPart, folder: string): void {
  const unique = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  for (const file of part.files) {
    const target = join(folder, file.name);
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.${unique}.tmp`;
    try {
      writeFileSync(temporary, unpacked(file));
      if (file.executable) chmodSync(temporary, 0o755);
      renameSync(temporary, target);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
  const marker = join(folder, `.complete.${unique}.tmp`);
  writeFileSync(marker, part.hash);
  renameSync(marker, join(folder, ".complete"));
}

/** An embedded file's bytes as they go to the cache folder: decompressed, and checked for their size, where stored compressed. */
export function unpacked(file: Pick<EmbeddedFile, "path" | "name" | "compressed">): Uint8Array {
  const stored = readFileSync(file.path);
  if (!file.compressed) return stored;
  let bytes: Uint8Array;
  try {
    bytes = Bun.zstdDecompressSync(stored);
  } catch (error) {
    throw new Error(`udpvid's embedded ${file.name} is damaged (${(error as Error).message}): download the binary again`);
  }
  if (bytes.length !== file.compressed.size) throw new Error(`udpvid's embedded ${file.name} unpacked to ${bytes.length} bytes, not ${file.compressed.size}: download the binary again`);
  return bytes;
}

function safeUser(): string {
  try {
    return userInfo().username.replace(/[^\w.-]/g, "_");
  } catch {
    return "user";
  }
}
