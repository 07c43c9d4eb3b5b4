// Process, port and reading helpers the scripts (benchmarks, soak, fuzz) share.
import { readFileSync } from "node:fs";

/** A UDP port free on loopback right now (bound, read and released). */
export async function freePort(): Promise<number> {
  const socket = await Bun.udpSocket({ port: 0, hostname: "127.0.0.1" });
  const port = socket.port;
  socket.close();
  return port;
}

/** A child with stdout and stderr piped (a udpvid's summary, ffmpeg's complaints). */
export function spawnPiped(args: string[]) {
  return Bun.spawn(args, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
}

/** Runs ffmpeg to completion (overwriting its output); throws with what it said if it fails. */
export function ffmpegSync(args: string[]): void {
  const result = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", ...args]);
  if (result.exitCode !== 0) throw new Error(`ffmpeg ${args.join(" ")}: ${result.stderr.toString()}`);
}

export function ffmpegVersion(): string {
  return /ffmpeg version (\S+)/.exec(Bun.spawnSync(["ffmpeg", "-version"]).stdout.toString())?.[1] ?? "?";
}

/** Resident memory of a running process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** CPU time a finished process used, ms, with the children it waited for (a sender's ffmpeg counts). */
export function cpuMs(process: Bun.Subprocess): number {
  const usage = process.resourceUsage();
  if (!usage) throw new Error("no resource usage for a finished process");
  return Number(usage.cpuTime.user + usage.cpuTime.system) / 1000;
}

/**
 * Waits until a udpvid receiver (or relay) started with stderr piped says
 * "Listening on HOST:PORT", and returns the port. Its stderr goes on being
 * read (a full pipe would stall it); `stderr` resolves to all of it once it
 * ends. Readiness from the process itself, not from a guessed sleep.
 */
export async function untilListening(process: { stderr: ReadableStream<Uint8Array> }, timeoutMs = 15_000): Promise<{ port: number; stderr: Promise<string> }> {
  const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = performance.now() + timeoutMs;
  let port = 0;
  while (!port) {
    const timeLeft = deadline - performance.now();
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, timeLeft)).then(() => "timeout" as const)]);
    if (next === "timeout") throw new Error(`no "Listening on" within ${timeoutMs} ms; it said: ${text.slice(-500)}`);
    if (next.done) throw new Error(`it exited before listening: ${text.slice(-500)}`);
    text += next.value;
    port = Number(/Listening on \S+:(\d+)/.exec(text)?.[1] ?? 0);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { port, stderr: rest };
}
