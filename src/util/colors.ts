import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours for one output stream. On when it is a terminal (and TERM is not
 * "dumb"), off whenever NO_COLOR is set and non-empty (no-color.org), on
 * when FORCE_COLOR is set (and not "0") off a terminal. picocolors' own
 * default looks at stdout and turns on under CI; udpvid's live output and
 * errors go to stderr, so the decision is made per stream here.
 */
export function colorsFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): Colors {
  return pc.createColors(colorsEnabled(stream, env));
}

export function colorsEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** Colours for what udpvid writes to stderr: progress, status, warnings and errors. */
export const stderrColors: Colors = colorsFor(process.stderr);
