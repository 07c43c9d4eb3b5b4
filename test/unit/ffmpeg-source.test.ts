import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FfmpegDidNotStart, FfmpegSource, inputIsBt709, parseFfmpegHeader, scaleFilter, SourceError } from "../../src/source/ffmpeg-source.ts";

const LOG = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'video.mp4':
  Duration: 00:00:10.00, start: 0.000000, bitrate: 1143 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 1139 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
Stream mapping:
  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))
Output #0, rawvideo, to 'pipe:1':
  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 640x360 [SAR 1:1 DAR 16:9], q=2-31, 165888 kb/s, 29.97 fps, 29.97 tbn (default)
`;

test("reads the output stream's size and rate, and the input duration, from ffmpeg's log", () => {
  expect(parseFfmpegHeader(LOG)).toEqual({ width: 640, height: 360, fps: 29.97, durationSeconds: 10 });
});

test("no output section yet means no header yet", () => {
  expect(parseFfmpegHeader(LOG.slice(0, LOG.indexOf("Output #0")))).toBeUndefined();
});

test("scale filter keeps the aspect ratio for the side not given", () => {
  expect(scaleFilter(undefined, undefined)).toBeUndefined();
  expect(scaleFilter(640, undefined)).toBe("scale=640:-1:flags=area");
  expect(scaleFilter(undefined, 360)).toBe("scale=-1:360:flags=area");
  expect(scaleFilter(640, 480)).toBe("scale=640:480:flags=area");
});

test("planes for JPEG are asked for in full range, scaled or not", () => {
  expect(scaleFilter(undefined, undefined, "yuv420p")).toMatch(/^format=yuv420p,lutyuv=y=clip\(\(val-16\)\*255\/219/);
  expect(scaleFilter(640, undefined, "yuv420p")).toMatch(/^scale=640:-1:flags=area,format=yuv420p,lutyuv=/);
});

test("the planes ffmpeg hands over are full range: the source's black and white reach 0 and 255, as ffmpeg's own conversion makes them", async () => {
  // A limited-range clip of black, white and mid-grey bars; each pixel format's Y through FfmpegSource.
  const dir = mkdtempSync(join(tmpdir(), "udpvid-range-"));
  try {
    const clip = join(dir, "bars.mp4");
    const made = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=black:s=96x32:d=0.2,drawbox=x=32:w=32:c=white:t=fill,drawbox=x=64:w=32:c=0x808080:t=fill", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-qp", "0", clip]);
    expect(made.exitCode).toBe(0);
    const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: clip, pixelFormat: "yuv420p" });
    let y: Uint8Array | undefined;
    for await (const frame of source.frames()) {
      y = frame.pixels.slice(0, 96 * 32);
      break;
    }
    const at = (x: number) => y![16 * 96 + x]!;
    expect(at(16)).toBeLessThanOrEqual(1);
    expect(at(48)).toBeGreaterThanOrEqual(254);
    expect(Math.abs(at(80) - 128)).toBeLessThanOrEqual(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const frameReader of ["fifo worker", "stdout"] as const) {
  describe(`frames read from ffmpeg's ${frameReader}`, () => {
    test("leaving the frame loop early stops ffmpeg and returns promptly", async () => {
      const { FfmpegSource } = await import("../../src/source/ffmpeg-source.ts");
      const { VIDEO } = await import("../helpers/udpvid.ts");
      const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: VIDEO, width: 320, frameReader });
      const started = performance.now();
      let frames = 0;
      for await (const frame of source.frames()) {
        expect(frame.pixels.length).toBe(320 * 180 * 3);
        if (++frames === 3) break;
      }
      expect(frames).toBe(3);
      expect(performance.now() - started).toBeLessThan(5000);
    });

    test("a script that leaves the frame loop early still exits by itself (nothing left holding the event loop)", async () => {
      const { ROOT, VIDEO } = await import("../helpers/udpvid.ts");
      const script = `
        import { FfmpegSource } from ${JSON.stringify(`${ROOT}/src/source/ffmpeg-source.ts`)};
        const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: ${JSON.stringify(VIDEO)}, frameReader: ${JSON.stringify(frameReader)} });
        for await (const frame of source.frames()) if (frame.index === 5) break;
        console.log("done");`;
      const child = Bun.spawn([process.execPath, "--eval", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => child.kill(), 10_000);
      const exitCode = await child.exited;
      clearTimeout(timer);
      expect(await new Response(child.stdout).text()).toContain("done");
      expect(child.signalCode).toBeNull(); // not killed by the timer
      expect(exitCode).toBe(0);
    });

    test("recycled frame buffers are reused, and every frame still carries its own picture", async () => {
      const { FfmpegSource } = await import("../../src/source/ffmpeg-source.ts");
      const { VIDEO } = await import("../helpers/udpvid.ts");
      const digests = async (recycle: boolean) => {
        const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: VIDEO, width: 160, frameReader });
        const seen: string[] = [];
        for await (const frame of source.frames()) {
          seen.push(new Bun.CryptoHasher("sha1").update(frame.pixels).digest("hex"));
          if (recycle) source.recycle(frame);
          if (seen.length === 40) break;
        }
        return { seen, pool: source.poolStats };
      };
      const fresh = await digests(false);
      const reused = await digests(true);
      expect(reused.seen).toEqual(fresh.seen);
      expect(new Set(fresh.seen).size).toBeGreaterThan(30); // the clip moves: frames differ
      expect(fresh.pool.allocated).toBe(40);
      // Reused: the stdout reader's pool (one or two) or the FIFO reader's slots (four, read ahead).
      expect(reused.pool.allocated).toBeLessThanOrEqual(4);
    });
  });
}

test("an ffmpeg that cannot start gives way to the next one found, with one warning; one that runs but fails does not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "udpvid-ffmpeg-"));
  try {
    // An executable whose interpreter does not exist: exec fails, as for another processor's binary.
    const unstartable = join(dir, "ffmpeg");
    writeFileSync(unstartable, "#!/nonexistent/interpreter\n", { mode: 0o755 });
    const system = Bun.which("ffmpeg")!;
    const warnings: string[] = [];
    const options = { input: "color=red:s=64x48:d=0.2", inputFormat: "lavfi" };
    const candidates = [
      { path: unstartable, source: "embedded", legacyVsync: true },
      { path: system, source: "PATH", legacyVsync: false },
    ];
    const source = await FfmpegSource.openWithFirstThatRuns(candidates, options, (line) => warnings.push(line));
    expect(source.info).toMatchObject({ width: 64, height: 48 });
    source.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`ffmpeg (${unstartable}) does not run`);
    expect(warnings[0]).toContain(`using ${system} (PATH) instead`);
    // A bad input is the input's fault: no other ffmpeg is tried.
    const tried: string[] = [];
    await expect(FfmpegSource.openWithFirstThatRuns([candidates[1]!, candidates[1]!], { input: join(dir, "missing.mp4") }, (line) => tried.push(line))).rejects.toThrow(SourceError);
    expect(tried).toEqual([]);
    // The last candidate's failure to start is the error.
    await expect(FfmpegSource.openWithFirstThatRuns([candidates[0]!], options, () => {})).rejects.toThrow(FfmpegDidNotStart);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a BT.709 source is told from ffmpeg's log (its colour space tag), untagged and BT.601 ones are not", () => {
  const input = (video: string) => `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n  Stream #0:0[0x1](und): Video: ${video}, 1920x1080, 30 fps\nOutput #0, rawvideo, to 'pipe:1':\n  Stream #0:0: Video: rawvideo, yuv420p(tv, bt709), 1920x1080, 30 fps\n`;
  expect(inputIsBt709(input("h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive)"))).toBe(true);
  expect(inputIsBt709(input("h264 (High), yuv420p(tv, bt709/bt709/bt709)"))).toBe(true);
  expect(inputIsBt709(input("h264 (High), yuv420p(progressive)"))).toBe(false);
  expect(inputIsBt709(input("h264 (High), yuv420p(tv, bt470bg/bt709/bt709, progressive)"))).toBe(false);
  expect(inputIsBt709(input("mjpeg (Baseline), yuvj422p(pc, bt470bg/unknown/unknown)"))).toBe(false);
  // The output's tag (what ffmpeg will write) is not the input's.
  expect(inputIsBt709(input("h264 (High), yuv420p"))).toBe(false);
  expect(scaleFilter(640, 360, "yuv420p", true)).toMatch(/^scale=640:360:flags=area,colormatrix=bt709:bt601,format=yuv420p,lutyuv=/);
  expect(scaleFilter(640, 360, "rgb24", true)).toBe("scale=640:360:flags=area");
});
