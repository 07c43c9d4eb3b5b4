import { createRequire } from "node:module";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { embeddedEntry, hasEmbedded } from "../native/native-parts.ts";

export interface FfmpegCandidate {
  source: "--ffmpeg" | "FFMPEG_BIN" | "embedded" | "ffmpeg-static" | "PATH";
  /** Finds the candidate's path, if it has one; only called when every earlier candidate is absent. */
  locate: () => string | undefined;
}

/**
 * Where to look for ffmpeg, in the documented order of precedence. A
 * compiled binary carries its own ffmpeg, after the user's explicit choices.
 */
export function ffmpegCandidates(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): FfmpegCandidate[] {
  return [
    { source: "--ffmpeg", locate: () => flag },
    { source: "FFMPEG_BIN", locate: () => env.FFMPEG_BIN || undefined },
    ...(hasEmbedded("ffmpeg") ? [{ source: "embedded" as const, locate: () => embeddedEntry("ffmpeg") }] : []),
    { source: "ffmpeg-static", locate: ffmpegStaticPath },
    { source: "PATH", locate: () => Bun.which("ffmpeg") ?? undefined },
  ];
}

function ffmpegStaticPath(): string | undefined {
  try {
    // ffmpeg-static exports the path it would download to; its download is
    // often impossible (no GitHub access), so only use it if the file is there.
    const path = createRequire(import.meta.url)("ffmpeg-static") as string | null;
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const MISSING: Record<FfmpegCandidate["source"], string> = {
  "--ffmpeg": "not given",
  FFMPEG_BIN: "not set",
  embedded: "not in this build",
  "ffmpeg-static": "its binary is not installed",
  PATH: "no ffmpeg on PATH",
};

export class FfmpegNotFoundError extends Error {}

export interface FoundFfmpeg {
  path: string;
  source: FfmpegCandidate["source"];
  /**
   * True when the ffmpeg is known to predate 5.1, which renamed -vsync to
   * -fps_mode: the builds udpvid's binaries embed are 4.1.x. Others are
   * tried with -fps_mode first (FfmpegSource falls back on its error).
   */
  legacyVsync: boolean;
}

/**
 * Every candidate that is an executable file, best first (an explicit
 * choice alone: it is never quietly replaced); otherwise one error naming all
 * four places. None is run here: `ffmpeg -version` cost a quarter of a second
 * of start-up (a distribution's ffmpeg loads ~200 shared libraries). The
 * caller tries the next one only if a candidate cannot even start (a cache
 * folder mounted noexec, another processor's binary).
 */
export function resolveFfmpeg(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundFfmpeg[] {
  const report: string[] = [];
  const found: FoundFfmpeg[] = [];
  let explicitFailed = false;
  for (const candidate of ffmpegCandidates(flag, env)) {
    if (explicitFailed) {
      report.push(`${candidate.source}: not tried`);
      continue;
    }
    const path = candidate.locate();
    const problem = path === undefined ? MISSING[candidate.source] : notExecutable(path);
    if (problem === undefined) {
      found.push({ path: path!, source: candidate.source, legacyVsync: candidate.source === "embedded" });
      if (candidate.source === "--ffmpeg" || candidate.source === "FFMPEG_BIN") break;
      continue;
    }
    report.push(`${candidate.source}: ${problem}`);
    // An explicit choice that fails is an error, not a reason to quietly use another ffmpeg.
    explicitFailed = path !== undefined && (candidate.source === "--ffmpeg" || candidate.source === "FFMPEG_BIN");
  }
  if (found.length > 0) return found;
  throw new FfmpegNotFoundError(
    `no working ffmpeg (${report.join("; ")}); install ffmpeg (e.g. apt-get install ffmpeg) or point --ffmpeg or FFMPEG_BIN at one`,
  );
}

/** Why `path` cannot be run, or undefined if it is an executable file. */
function notExecutable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${path} does not exist` : code === "EACCES" ? `${path} is not executable` : `${path} cannot be used (${code})`;
  }
}
