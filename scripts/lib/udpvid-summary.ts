// One way for scripts and tests to run udpvid from source and read the
// summary it prints with --json (one JSON object on the last line of stdout).
import { join } from "node:path";

export const UDPVID_CLI = join(import.meta.dir, "..", "..", "src", "cli.ts");

/** The summary on the last line of `stdout`; a clear error (with what was printed) when there is none. */
export function readSummary<T = Record<string, unknown>>(stdout: string): T {
  const last = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`no --json summary on udpvid's last line; it printed: ${JSON.stringify(stdout.slice(-500))}`);
  }
}

/** Waits for a udpvid process started with stdout piped, and returns its summary. */
export async function summaryOf<T = Record<string, unknown>>(process: { stdout: ReadableStream<Uint8Array>; exited: Promise<number> }): Promise<T> {
  const [stdout] = await Promise.all([new Response(process.stdout).text(), process.exited]);
  return readSummary<T>(stdout);
}

/** Starts `udpvid ARGS` from source under the running Bun, stdout piped for its summary. */
export function spawnUdpvid(args: string[], options: { stderr?: "pipe" | "inherit" | "ignore"; env?: Record<string, string | undefined> } = {}) {
  return Bun.spawn([process.execPath, UDPVID_CLI, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: options.stderr ?? "pipe",
    env: { ...process.env, ...options.env },
  });
}
