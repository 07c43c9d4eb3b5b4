import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface VirtualDisplay {
  display: string;
  width: number;
  height: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a private Xvfb server on a free display number and waits until it
 * accepts clients. With `windowManager`, openbox manages its windows, as a
 * desktop would: fullscreen and its way back need one.
 */
export async function startXvfb(width = 1280, height = 800, { windowManager = false } = {}): Promise<VirtualDisplay> {
  let number = 90 + Math.floor(Math.random() * 400);
  while (existsSync(`/tmp/.X11-unix/X${number}`) || existsSync(`/tmp/.X${number}-lock`)) number++;
  const display = `:${number}`;
  const server = Bun.spawn(["Xvfb", display, "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp"], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${number}`); i++) await Bun.sleep(50);
  if (!existsSync(`/tmp/.X11-unix/X${number}`)) throw new Error(`Xvfb ${display} did not start`);
  let manager: Bun.Subprocess | undefined;
  if (windowManager) {
    // openbox runs its --startup command once it manages the screen.
    const dir = mkdtempSync(join(tmpdir(), "udpvid-wm-"));
    const ready = join(dir, "ready");
    manager = Bun.spawn(["openbox", "--startup", `touch ${ready}`], { env: { ...process.env, DISPLAY: display }, stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !existsSync(ready); i++) await Bun.sleep(50);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    display,
    width,
    height,
    [Symbol.asyncDispose]: async () => {
      manager?.kill();
      server.kill();
      await server.exited;
    },
  };
}

function run(args: string[], display: string): string {
  const result = Bun.spawnSync(args, { env: { ...process.env, DISPLAY: display }, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${args[0]} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** Window ids whose title matches the regular expression, via xdotool. */
export function findWindows(display: string, titlePattern: string): string[] {
  const result = Bun.spawnSync(["xdotool", "search", "--name", titlePattern], { env: { ...process.env, DISPLAY: display }, stdout: "pipe" });
  return result.stdout.toString().split("\n").filter(Boolean);
}

/** udpvid's window titles all start so. */
export const UDPVID_WINDOW = "^udpvid";

export function windowTitle(display: string, id: string): string {
  return run(["xdotool", "getwindowname", id], display).trim();
}

export function windowGeometry(display: string, id: string): { x: number; y: number; width: number; height: number } {
  const out = run(["xdotool", "getwindowgeometry", "--shell", id], display);
  const get = (key: string) => Number(new RegExp(`^${key}=(\\d+)`, "m").exec(out)?.[1]);
  return { x: get("X"), y: get("Y"), width: get("WIDTH"), height: get("HEIGHT") };
}

/** A real key press, delivered by the X server to the focused window. */
export function pressKey(display: string, id: string, key: string): void {
  run(["xdotool", "windowfocus", "--sync", id, "key", key], display);
}

/** Grabs a region of the screen as packed RGB with ffmpeg's x11grab. */
export function screenshot(display: string, region: { x: number; y: number; width: number; height: number }, png?: string): Uint8Array {
  const args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0", "-video_size", `${region.width}x${region.height}`];
  const grab = [...args, "-i", `${display}+${region.x},${region.y}`, "-frames:v", "1"];
  if (png) run([...grab, "-y", png], display);
  const result = Bun.spawnSync([...grab, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`screenshot failed: ${result.stderr.toString()}`);
  return result.stdout;
}
