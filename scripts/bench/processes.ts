// Small process and port helpers the network benchmarks share.

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

/** Runs ffmpeg to completion; throws with what it said if it fails. */
export function ffmpegSync(args: string[]): void {
  const result = Bun.spawnSync(["ffmpeg", "-loglevel", "error", ...args]);
  if (result.exitCode !== 0) throw new Error(result.stderr.toString());
}

export function ffmpegVersion(): string {
  return /ffmpeg version (\S+)/.exec(Bun.spawnSync(["ffmpeg", "-version"]).stdout.toString())?.[1] ?? "?";
}
