import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./udpvid.ts";

// Running the binaries built for other platforms on this Linux x64 host:
// windows-x64 under Debian's wine, linux-arm64 under qemu-user.

export const DIST = join(ROOT, "dist");

/** Builds the given targets with scripts/build.ts (and its `options`); throws with its output if the build fails. */
export function buildTargets(targets: string[], options: string[] = []): void {
  const args = targets.flatMap((t) => ["--target", t]);
  const build = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "build.ts"), ...args, ...options], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}${build.stdout.toString()}`);
}

function run(command: string[], env: Record<string, string>, what: string): void {
  const result = Bun.spawnSync(command, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${what} failed (${result.exitCode}): ${result.stderr.toString().slice(-2000)}`);
}

export interface WineBox {
  /** Where udpvid.exe sits, with the test-only DLL beside it. */
  dir: string;
  exe: string;
  env: Record<string, string>;
  /** The command line that runs udpvid.exe ARGS under wine. */
  command(args: string[]): string[];
}

/**
 * A wine prefix of its own, initialised once (wine's first start prints its
 * set-up chatter there, not in the test's output), and udpvid.exe copied into
 * `dir` beside a ProcessPrng stand-in: wine 8's bcryptprimitives.dll lacks
 * the function bun.exe imports (test/wine/process-prng.c).
 */
export function prepareWine(dir: string): WineBox {
  mkdirSync(dir, { recursive: true });
  const env = { WINEPREFIX: join(dir, "prefix"), WINEDEBUG: "-all", WINEDLLOVERRIDES: "bcryptprimitives=n,b;mscoree,mshtml=" };
  const exe = join(dir, "udpvid.exe");
  copyFileSync(join(DIST, "udpvid-windows-x64.exe"), exe);
  run(
    ["x86_64-w64-mingw32-gcc", "-O2", "-shared", "-s", "-o", join(dir, "bcryptprimitives.dll"), join(ROOT, "test", "wine", "process-prng.c"), "-ladvapi32"],
    {},
    "building the ProcessPrng stand-in",
  );
  if (!existsSync(join(env.WINEPREFIX, "system.reg"))) run(["wineboot", "-i"], env, "wineboot -i");
  return { dir, exe, env, command: (args) => ["wine", exe, ...args] };
}

/** qemu-user running the arm64 binary: Debian's arm64 C library comes from multiarch (libc6:arm64). */
export function arm64Command(binary: string, args: string[]): string[] {
  return ["qemu-aarch64-static", binary, ...args];
}
