import { expect } from "bun:test";
import type { SourceClip } from "./frames.ts";
import { psnr } from "./frames.ts";
import { finish, lastJson, startCommand, startUdpvid } from "./udpvid.ts";
import { waitFor, waitUntil } from "./wait.ts";
import { UDPVID_WINDOW, findWindows, pressKey, screenshot, startXvfb, windowGeometry, windowTitle } from "./xvfb.ts";

export interface WindowProofOptions {
  /** The command line that runs `udpvid ARGS` as the receiver under test (a binary, emulated or not) on X display `display`. */
  receiver: (args: string[], display: string) => string[];
  env?: Record<string, string>;
  /** The sender's command line; by default udpvid from source, so only the receiver is on trial. */
  sender?: (args: string[]) => string[];
  clip: SourceClip;
  width: number;
  height: number;
  /** How long the window may take to appear and show frames (emulation is slow). */
  timeoutMs: number;
  /** Checks made while the stream is on screen (which libraries the receiver loaded, say). */
  whileShowing?: () => void;
}

/**
 * The window proof for a binary: on a fresh Xvfb, `receive` opens its window,
 * the title reports a frame rate, the window takes the stream's size and shows
 * one of the source's frames (PSNR > 28 against the nearest), and q quits it
 * with exit 0, as `quitBy: "key"` in its summary; its summary is returned.
 */
export async function expectWindowShowsStream(options: WindowProofOptions): Promise<Record<string, unknown>> {
  await using x = await startXvfb();
  const env = { DISPLAY: x.display, ...options.env };
  await using receiver = startCommand(options.receiver(["receive", "--port", "0", "--json"], x.display), env);
  const port = await receiver.listening;
  // --adapt off: an emulated receiver falls behind and its reports would shrink the picture; this proves the window, frame for frame.
  const sendArgs = ["send", options.clip.clip, "--loop", "--to", `127.0.0.1:${port}`, "--quiet", "--adapt", "off"];
  await using _sender = options.sender ? startCommand(options.sender(sendArgs), env) : startUdpvid(sendArgs);
  const id = await waitFor(() => findWindows(x.display, UDPVID_WINDOW)[0], options.timeoutMs, "the window");
  await waitUntil(() => /fps/.test(windowTitle(x.display, id)), options.timeoutMs);
  expect(windowTitle(x.display, id)).toMatch(/^udpvid :\d+ - [\d.]+ fps/);
  await Bun.sleep(500);
  const geometry = windowGeometry(x.display, id);
  expect([geometry.width, geometry.height]).toEqual([options.width, options.height]);
  const shot = screenshot(x.display, geometry);
  expect(Math.max(...options.clip.frames.map((frame) => psnr(shot, frame)))).toBeGreaterThan(28);
  options.whileShowing?.();
  pressKey(x.display, id, "q");
  const result = await finish(receiver, options.timeoutMs);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<Record<string, unknown>>(result.stdout);
  expect(summary).toMatchObject({ quitBy: "key" });
  // Every receiver under test has libturbojpeg (its own, or the system's from a clone): the window drew YUV planes
  // through its IYUV texture, unless sent to sharp.
  expect(summary.decoder).toMatchObject({ output: options.env?.UDPVID_JPEG === "sharp" ? "rgba" : "i420" });
  return summary;
}

/**
 * `command` in a mount namespace where every system libSDL2 is /dev/null, as on
 * a machine without SDL: a window can then only come from the SDL the binary carries.
 */
export function withoutSystemSdl(command: string[]): string[] {
  const hide = 'for f in /usr/lib/*/libSDL2-2.0.so.0*; do if [ -e "$f" ]; then mount --bind /dev/null "$f" || exit 97; fi; done; exec "$@"';
  return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", hide, "sh", ...command];
}

/** The pid of the newest process whose command line matches `pattern` (pgrep -f -n). */
export function newestPid(pattern: string): number {
  const pid = Number(Bun.spawnSync(["pgrep", "-f", "-n", pattern]).stdout.toString().trim());
  if (!pid) throw new Error(`no process matches ${pattern}`);
  return pid;
}
