import { createRequire } from "node:module";
import { existsSync } from "node:fs";
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

/** The first candidate that runs `ffmpeg -version`; otherwise one error naming all four places. */
export function resolveFfmpeg(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const report: string[] = [];
  let explicitFailed = false;
  for (const candidate of ffmpegCandidates(flag, env)) {
    if (explicitFailed) {
      report.push(`${candidate.source}: not tried`);
      continue;
    }
    const path = candidate.locate();
    if (!path) {
      report.push(`${candidate.source}: ${MISSING[candidate.source]}`);
    } else if (runs(path)) {
      return path;
    } else {
      report.push(`${candidate.source}: ${path} does not run`);
      // An explicit choice that fails is an error, not a reason to quietly use another ffmpeg.
      explicitFailed = candidate.source === "--ffmpeg" || candidate.source === "FFMPEG_BIN";
    }
  }
  throw new FfmpegNotFoundError(
    `no working ffmpeg (${report.join("; ")}); install ffmpeg (e.g. apt-get install ffmpeg) or point --ffmpeg or FFMPEG_BIN at one`,
  );
}

function runs(path: string): boolean {
  try {
    return Bun.spawnSync([path, "-version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  } catch {
    return false;
  }
}
