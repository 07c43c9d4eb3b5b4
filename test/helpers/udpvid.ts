import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readSummary } from "../../scripts/lib/udpvid-summary.ts";
import { waitFor } from "./wait.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const CLI = join(ROOT, "src", "cli.ts");
export const VIDEO = join(ROOT, "video.mp4");

export interface Running {
  process: Bun.Subprocess<"ignore", "pipe", "pipe">;
  stdout: Promise<string>;
  stderr: Promise<string>;
  /** Resolves with the port from the "Listening on ADDR:PORT" line. */
  listening: Promise<number>;
  /** All it has printed so far, stdout and stderr. */
  output(): string;
  kill(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `udpvid ARGS` under the same Bun that runs the tests. */
export function startUdpvid(args: string[], env: Record<string, string | undefined> = {}): Running {
  return startCommand([process.execPath, CLI, ...args], env);
}

/** Starts any command that behaves like udpvid (prints "Listening on ADDR:PORT" when it listens). */
export function startCommand(command: string[], env: Record<string, string | undefined> = {}): Running {
  const process_ = Bun.spawn(command, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  let onListening: (port: number) => void = () => {};
  let onFailed: (error: Error) => void = () => {};
  const listening = new Promise<number>((resolve, reject) => {
    onListening = resolve;
    onFailed = reject;
  });
  let printed = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text += piece;
      printed += piece;
      const match = /Listening on \S+:(\d+)/.exec(text);
      if (match) onListening(Number(match[1]));
    }
    return text;
  };
  const stdout = collect(process_.stdout);
  const stderr = collect(process_.stderr);
  void process_.exited.then(async () => onFailed(new Error(`udpvid exited before listening: ${await stderr}`)));
  listening.catch(() => {}); // only a failure for callers that wait for it

  const kill = () => {
    if (process_.exitCode === null) process_.kill();
  };
  return { process: process_, stdout, stderr, listening, output: () => printed, kill, [Symbol.asyncDispose]: async () => kill() };
}

export interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function finish(running: Running, timeoutMs = 30_000): Promise<Finished> {
  const timer = setTimeout(() => running.kill(), timeoutMs);
  const exitCode = await running.process.exited;
  clearTimeout(timer);
  return { exitCode, stdout: await running.stdout, stderr: await running.stderr };
}

export async function runUdpvid(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<Finished> {
  return finish(startUdpvid(args, env), timeoutMs);
}

/** The JSON summary printed as the last line of stdout with --json. */
export const lastJson = readSummary;

/** The shared objects a running process has mapped (Linux /proc). */
export function loadedLibraries(pid: number): string {
  return readFileSync(`/proc/${pid}/maps`, "utf8");
}

export { rssMiB } from "../../scripts/lib/processes.ts";

/** The browser viewer's URL, once `receive --web` (or `demo --web`) has printed it. */
export function printedViewerUrl(running: Running, timeoutMs = 15_000): Promise<string> {
  return waitFor(() => /Watch in a browser: (\S+)/.exec(running.output())?.[1], timeoutMs, "the viewer's URL");
}
