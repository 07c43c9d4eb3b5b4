import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { renderMessageCard } from "../../src/display/text-image.ts";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { expectEveryFrameAccounted, expectRecordingMatchesSource } from "../helpers/accounting.ts";
import { ffmpeg, makeClip, psnr, rgbaToRgb, useSourceClip } from "../helpers/frames.ts";
import { compareSound } from "../helpers/sound-compare.ts";
import { finish, lastJson, loadedLibraries, printedViewerUrl, ROOT, startCommand, type Finished, type Running } from "../helpers/udpvid.ts";
import { buildTargets } from "../helpers/foreign-binaries.ts";
import { decodePicture } from "../../src/web/web-messages.ts";
import sharp from "sharp";
import { expectWindowShowsStream } from "../helpers/window-proof.ts";
import { UDPVID_WINDOW, findWindows, pressKey, screenshot, startXvfb, windowGeometry } from "../helpers/xvfb.ts";

// The proof that the binary carries everything: dist/udpvid-linux-x64, copied
// alone into an empty folder, run in a mount namespace where /usr/bin/ffmpeg
// is hidden, with a PATH that has no ffmpeg and no Bun, and no node_modules
// anywhere above it.
const WIDTH = 320;
const HEIGHT = 180;
const fixture = useSourceClip(2, WIDTH, HEIGHT);
const BINARY = join(ROOT, "dist", "udpvid-linux-x64");
const SOUND_SECONDS = 3;
let home = "";

beforeAll(() => {
  buildTargets(["linux-x64"]);
  home = join(fixture.dir, "home");
  mkdirSync(home);
  copyFileSync(BINARY, join(home, "udpvid"));
  Bun.spawnSync(["chmod", "755", join(home, "udpvid")]);
  copyFileSync(fixture.clip, join(home, "clip.mp4"));
}, 600_000);

interface IsolatedOptions {
  env?: Record<string, string>;
  /** Mount a read-only file system on the cache folder first. */
  readOnlyCache?: boolean;
  cache?: string;
  /** Hide the system's libSDL2, as on a machine without it. */
  hideSdl?: boolean;
  /** Mount the cache folder noexec (as some /tmp and home folders are), and leave the system's ffmpeg in reach. */
  noexecCache?: boolean;
}

/** Runs `./udpvid ARGS` (or a shell line, with `shell`) in the bare folder, ffmpeg hidden, a clean environment. */
function isolatedCommand(args: string[], options: IsolatedOptions = {}, shell?: string): string[] {
  const cache = options.cache ?? "cache";
  const env = Object.entries({ HOME: home, XDG_CACHE_HOME: join(home, cache), TMPDIR: join(home, "tmp"), PATH: "/usr/bin:/bin", ...options.env })
    .map(([key, value]) => `${key}='${value}'`)
    .join(" ");
  const mounts = [
    ...(options.noexecCache ? [] : ["mount --bind /dev/null /usr/bin/ffmpeg"]),
    `mkdir -p "${join(home, cache)}" "${join(home, "tmp")}"`,
    ...(options.readOnlyCache ? [`mount -t tmpfs -o ro tmpfs "${join(home, cache)}"`] : []),
    ...(options.noexecCache ? [`mount -t tmpfs -o noexec tmpfs "${join(home, cache)}"`] : []),
    ...(options.hideSdl ? ["for f in /usr/lib/*/libSDL2-2.0.so.0.*; do mount --bind /dev/null $f; done"] : []),
  ].join(" && ");
  const run = shell ?? `./udpvid ${args.map((a) => `'${a}'`).join(" ")}`;
  return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", `${mounts} && cd "${home}" && exec env -i ${env} sh -c "exec ${run.replace(/"/g, '\\"')}"`];
}

function startIsolated(args: string[], options?: IsolatedOptions): Running {
  return startCommand(isolatedCommand(args, options));
}

/** The newest `./udpvid receive` started in the bare folder (inside its mount namespace, so not the Running's own pid). */
function isolatedReceiverPid(): number {
  return Number(Bun.spawnSync(["pgrep", "-f", "-n", "^./udpvid receive"]).stdout.toString().trim());
}

async function runIsolated(args: string[], options?: IsolatedOptions, shell?: string): Promise<Finished> {
  return finish(startCommand(isolatedCommand(args, options, shell)), 60_000);
}

describe("the linux-x64 binary on its own", () => {
  test("nothing else is in reach: no ffmpeg, no Bun, no node_modules", async () => {
    writeFileSync(
      join(home, "probe.sh"),
      'ffmpeg -version >/dev/null 2>&1; echo "ffmpeg=$?"\ncommand -v bun node; echo "bun=$?"\n' +
        'd=$PWD; while [ "$d" != / ]; do [ -e "$d/node_modules" ] && echo "node_modules in $d"; d=$(dirname "$d"); done; echo done\n',
    );
    const probe = await runIsolated([], {}, "sh probe.sh");
    expect(probe.stdout).toMatch(/^ffmpeg=12[67]$/m); // hidden: cannot run
    expect(probe.stdout).toMatch(/^bun=(1|127)$/m); // neither bun nor node found
    expect(probe.stdout).not.toMatch(/^\//m); // command -v printed no path
    expect(probe.stdout).not.toContain("node_modules in");
    expect(probe.stdout).toContain("done");
  });

  test("--version names the version, commit and target; --help works; neither unpacks anything", async () => {
    const version = await runIsolated(["--version"]);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(new RegExp(`^udpvid ${packageJson.version.replace(/\./g, "\\.")} \\([0-9a-f]{4,}, linux-x64\\)$`));
    const help = await runIsolated(["send", "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: udpvid send");
    const keygen = await runIsolated(["keygen"], { cache: "cache-none" });
    expect(keygen.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(join(home, "cache-none"))).toEqual([]);
  });

  test("send → receive --headless --record delivers intact frames, with its own ffmpeg and libturbojpeg", async () => {
    await using receiver = startIsolated(["receive", "--headless", "--port", "0", "--record", "out.mjpeg", "--idle-timeout", "1", "--json"], { cache: "cache-receive" });
    const port = await receiver.listening;
    const sent = await runIsolated(["send", "clip.mp4", "--to", `127.0.0.1:${port}`, "--json"]);
    expect(sent.stderr).not.toContain("error");
    expect(sent.exitCode).toBe(0);
    const received = await finish(receiver);
    expect(received.exitCode).toBe(0);
    const summary = lastJson<ReceiveSummary>(received.stdout);
    expectEveryFrameAccounted(lastJson<SendSummary>(sent.stdout), summary, fixture.frames.length);
    expectRecordingMatchesSource(join(home, "out.mjpeg"), fixture, WIDTH, HEIGHT, summary.framesShown);
    // Both sides used the libturbojpeg the binary carries, and receive --headless unpacked that only: no sharp, ffmpeg or SDL.
    expect(lastJson<SendSummary>(sent.stdout).encoder).toEqual({ name: "turbojpeg", detail: "embedded" });
    // The binary found its frame reader's worker among its own modules.
    expect(lastJson<SendSummary>(sent.stdout).frameReader).toBe("fifo worker");
    expect(summary.decoder).toEqual({ name: "turbojpeg", output: "i420", detail: "embedded" });
    const parts = readdirSync(join(home, "cache-receive", "udpvid", packageJson.version));
    expect(parts.map((p) => p.replace(/-.*/, ""))).toEqual(["turbojpeg"]);
  }, 60_000);

  test("send → receive --headless --audio plays the clip's sound, decoded by the binary's own libopus, intact", async () => {
    const clip = makeClip(fixture.dir, SOUND_SECONDS, WIDTH, "sound.mp4", true);
    copyFileSync(clip, join(home, "sound.mp4"));
    const pcm = ffmpeg(["-i", clip, "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-ar", "48000", "-"]);
    const disk = { SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: join(home, "sound.f32") };
    await using receiver = startIsolated(["receive", "--headless", "--audio", "--port", "0", "--idle-timeout", "2", "--json"], { cache: "cache-sound", env: disk });
    const port = await receiver.listening;
    const sent = await runIsolated(["send", "sound.mp4", "--to", `127.0.0.1:${port}`, "--json"]);
    expect(sent.exitCode).toBe(0);
    const received = await finish(receiver);
    expect(received.exitCode).toBe(0);
    const sound = lastJson<ReceiveSummary>(received.stdout).sound!;
    expect(sound.decoder).toEqual({ name: "libopus", detail: "embedded" });
    expect(sound.refused).toBe(0);
    expect(sound.played).toBeGreaterThanOrEqual((SOUND_SECONDS * 1000) / 20 - 5);
    const bytes = readFileSync(join(home, "sound.f32"));
    const c = compareSound(new Float32Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 4), new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4)));
    expect(c.presentShare).toBeGreaterThanOrEqual(0.99);
    expect(Math.min(...c.perSecond)).toBeGreaterThanOrEqual(0.9);
    // The window's SDL (for the sound device), libopus and libturbojpeg: each unpacked from the binary.
    const parts = readdirSync(join(home, "cache-sound", "udpvid", packageJson.version)).map((p) => p.replace(/-.*/, ""));
    expect(parts.sort()).toEqual(["opus", "sdl", "turbojpeg"]);
  }, 60_000);

  test("receive --web serves its embedded page and script, and a WebSocket viewer gets the stream's JPEGs", async () => {
    await using receiver = startIsolated(["receive", "--headless", "--port", "0", "--web", "0", "--idle-timeout", "1", "--json"], { cache: "cache-web" });
    const port = await receiver.listening;
    const url = await printedViewerUrl(receiver, 10_000);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<canvas id="picture">');
    expect(await (await fetch(new URL("viewer.js", url))).text()).toContain("createImageBitmap");
    const pictures: Uint8Array[] = [];
    const socket = new WebSocket(new URL("ws", url.replace(/^http/, "ws")));
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      if (typeof event.data === "string") return;
      const picture = decodePicture(new Uint8Array(event.data as ArrayBuffer));
      if (!picture) return;
      pictures.push(picture.jpeg);
      socket.send(JSON.stringify({ type: "got", frame: picture.frameNumber }));
    };
    await new Promise((resolve) => (socket.onopen = resolve));
    const sent = await runIsolated(["send", "clip.mp4", "--to", `127.0.0.1:${port}`, "--json"]);
    expect(sent.exitCode).toBe(0);
    expect((await finish(receiver)).exitCode).toBe(0);
    socket.close();
    expect(pictures.length).toBeGreaterThan(fixture.frames.length / 2);
    const { width, height } = await sharp(pictures.at(-1)!).metadata();
    expect({ width, height }).toEqual({ width: WIDTH, height: HEIGHT });
  }, 60_000);

  test("receive opens its window under Xvfb and quits on q", async () => {
    await using x = await startXvfb();
    await using receiver = startIsolated(["receive", "--port", "0", "--json"], { env: { DISPLAY: x.display } });
    const port = await receiver.listening;
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      id = findWindows(x.display, UDPVID_WINDOW)[0];
      if (!id) await Bun.sleep(100);
    }
    expect(id).toBeDefined();
    // Its text is SVG drawn by the embedded sharp/libvips with the system's fonts: the same card the tests' sharp draws.
    await Bun.sleep(1000);
    const geometry = windowGeometry(x.display, id!);
    const sendTo = /; send to (\S+?:\d+)/.exec(receiver.output())?.[1];
    const card = await renderMessageCard(`Waiting for stream on :${port}`, `udpvid send FILE --to ${sendTo}`, geometry.width, geometry.height);
    expect(psnr(screenshot(x.display, geometry), rgbaToRgb(card.rgba))).toBeGreaterThan(40);
    const pid = isolatedReceiverPid();
    expect(loadedLibraries(pid)).toMatch(/sdl\/sdl\.node/); // the addon from the cache folder, not node_modules
    pressKey(x.display, id!, "q");
    const result = await finish(receiver, 10_000);
    expect(result.exitCode).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ quitBy: "key" });
  }, 30_000);

  test("with every system libSDL2 hidden, receive still opens its window, shows the stream and quits on q", async () => {
    const options = (display: string) => ({ env: { DISPLAY: display }, hideSdl: true, cache: "cache-no-system-sdl" });
    await expectWindowShowsStream({
      receiver: (args, display) => isolatedCommand(args, options(display)),
      sender: (args) => isolatedCommand(args.map((arg) => (arg === fixture.clip ? "clip.mp4" : arg)), options("")),
      clip: fixture,
      width: WIDTH,
      height: HEIGHT,
      timeoutMs: 20_000,
      whileShowing: () => {
        // SDL came from the cache folder, beside the addon, not from the system.
        const maps = loadedLibraries(isolatedReceiverPid());
        expect(maps).toMatch(/cache-no-system-sdl\/udpvid\/[^/]+\/sdl-[0-9a-f]+\/sdl\/libSDL2-2\.0\.so\.0/);
        expect(maps).not.toMatch(/\/usr\/lib\/[^ ]*libSDL2/);
      },
    });
  }, 60_000);

  test("concurrent first runs share one cache without corrupting it", async () => {
    // Four senders at once, each unpacking libturbojpeg and ffmpeg into the same empty cache.
    const send = ["send", "clip.mp4", "--to", "127.0.0.1:9", "--fps", "120", "--json"];
    const runs = await Promise.all([1, 2, 3, 4].map(() => runIsolated(send, { cache: "cache-race" })));
    for (const run of runs) {
      expect(run.exitCode).toBe(0);
      expect(lastJson<{ frames: number }>(run.stdout).frames).toBeGreaterThan(0);
      expect(run.stderr).not.toMatch(/Error|cannot|could not/);
    }
    const parts = readdirSync(join(home, "cache-race", "udpvid", packageJson.version)).sort();
    expect(parts.map((p) => p.replace(/-.*/, ""))).toEqual(["ffmpeg", "turbojpeg"]);
    for (const [part, file, original] of <[string, string, string][]>[
      [parts[0]!, "ffmpeg/ffmpeg", join(ROOT, "build", "native", "@ffmpeg-installer+linux-x64@4.1.0", "ffmpeg")],
      [parts[1]!, "turbojpeg/libturbojpeg.so.0", join(ROOT, "build", "turbojpeg", "linux-x64", "libturbojpeg.so.0")],
    ]) {
      const folder = join(home, "cache-race", "udpvid", packageJson.version, part);
      const files = readdirSync(folder, { recursive: true, encoding: "utf8" });
      expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(files).toContain(".complete");
      // Byte-identical to the file the build embedded.
      expect(sha256(join(folder, file))).toBe(sha256(original));
    }
  }, 60_000);

  test("a cache folder mounted noexec: one line that names the cause and the way out", async () => {
    const result = await runIsolated(["send", "clip.mp4", "--to", "127.0.0.1:9", "--json"], { noexecCache: true, cache: "cache-noexec" });
    expect(result.exitCode).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("cannot load sharp from");
    expect(lines[0]).toContain("noexec");
    expect(lines[0]).toContain("XDG_CACHE_HOME");
  }, 30_000);

  test("a read-only cache folder falls back to a temporary one, with a warning", async () => {
    const result = await runIsolated(["send", "clip.mp4", "--to", "127.0.0.1:9", "--fps", "120", "--json"], { readOnlyCache: true, cache: "cache-ro" });
    expect(result.exitCode).toBe(0);
    expect(lastJson<{ frames: number }>(result.stdout).frames).toBeGreaterThan(0);
    expect(result.stderr).toContain("could not use the cache folder");
    expect(result.stderr).toContain("EROFS");
  }, 30_000);
});

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}
