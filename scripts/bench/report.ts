// What every benchmark report starts with and where it goes.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** "machine: …; Bun …; commit …; time", with anything else worth knowing (an ffmpeg version, run counts) before the commit. */
export function machineLine(...extra: string[]): string {
  const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim();
  // Results measured on a tree with uncommitted changes say so: the commit alone would not reproduce them.
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "scripts"], { cwd: ROOT }).stdout.toString().trim() !== "";
  return [`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}`, `Bun ${Bun.version}`, ...extra, `commit ${commit}${dirty ? " + uncommitted changes" : ""}`, new Date().toISOString()].join("; ");
}

/** Writes bench/results/NAME and returns its path. */
export function saveResult(name: string, content: string | Uint8Array): string {
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const file = join(ROOT, "bench", "results", name);
  writeFileSync(file, content);
  return file;
}
