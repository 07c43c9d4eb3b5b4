// What the window's `s` overlay costs the receiver per frame, next to what
// the receiver already spends on that frame (decoding its JPEG), in one run:
//   bun run bench:overlay
// The overlay is composited into a copy of every frame (copy + blend of the
// panel), and its panel is drawn from SVG by sharp twice a second.
import { machineLine, saveResult } from "./bench/report.ts";
import { decodeJpeg } from "../src/decoder/jpeg-decoder.ts";
import { overlayLines, type StreamReadout } from "../src/display/stream-readout.ts";
import { renderOverlayPanel } from "../src/display/text-image.ts";
import { Viewer, type WindowSurface } from "../src/display/viewer.ts";
import { encodeJpeg } from "../src/encoder/jpeg-encoder.ts";
import { loadSharp } from "../src/native/sharp.ts";
import { meanMs, sampleFrames1080p } from "./bench/sample-frames.ts";

const RUNS = 200;

async function meanAsyncMs(fn: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
}

const readout: StreamReadout = {
  port: 9999, state: "receiving", frozen: false, fps: 29.9, mbps: 17.9, lossPercent: 0.4, latencyMs: 33, decodeMs: 7.2,
  shown: 12345, skipped: 3, dropped: 1, recoveredFrames: 21, rejected: 0,
};

const sharp = await loadSharp();
const [, q80] = (await sampleFrames1080p())[0]!;
const full = await decodeJpeg(q80);
const raw720 = await sharp(full.rgba, { raw: { width: 1920, height: 1080, channels: 4 } }).resize(1280, 720).removeAlpha().raw().toBuffer();
const sizes: [string, Uint8Array][] = [
  ["1280×720", await encodeJpeg(raw720, 1280, 720, 80)],
  ["1920×1080", q80],
];

const rows: string[] = [];
for (const [name, jpeg] of sizes) {
  const frame = await decodeJpeg(jpeg);
  const surface: WindowSurface = { pixelWidth: frame.width, pixelHeight: frame.height, draw() {}, setTitle() {}, toggleFullscreen() {}, fitTo() {}, prepare() {} };
  const viewer = new Viewer(surface, 9999, undefined);
  viewer.showFrame(frame);
  viewer.update(readout);
  const decode = await meanAsyncMs(() => decodeJpeg(jpeg), RUNS / 4);
  const plain = meanMs(() => viewer.showFrame(frame), RUNS);
  viewer.key("overlay");
  await Bun.sleep(500); // the panel renders in the background
  if (!viewer.hasOverlay) throw new Error("overlay did not turn on");
  const withOverlay = meanMs(() => viewer.showFrame(frame), RUNS);
  const panel = await meanAsyncMs(() => renderOverlayPanel(overlayLines(readout, frame), frame.width), RUNS / 4);
  rows.push(
    `| ${name} | ${decode.toFixed(2)} | ${plain.toFixed(3)} | ${withOverlay.toFixed(2)} | ${((withOverlay - plain) / decode).toFixed(2)} | ${panel.toFixed(2)} | ${((panel * 2) / 1000 * 100).toFixed(2)}% |`,
  );
}

const report = [
  `# The window's stats overlay (key s): cost per frame, mean of ${RUNS} runs`,
  "",
  machineLine(),
  "",
  "A frame of video.mp4 at JPEG q80. Decode is what the receiver already spends per frame; the viewer columns are handing a decoded frame to the window (SDL's own upload excluded, the same either way); the ratio is the overlay's extra cost as a share of decoding. The panel is redrawn from SVG twice a second on libvips' threads, off the frame path.",
  "",
  "| frame | JPEG decode ms | viewer, no overlay ms | viewer, overlay ms | overlay ÷ decode | panel SVG render ms | panel CPU share |",
  "|---|---|---|---|---|---|---|",
  ...rows,
  "",
].join("\n");
console.log(report);
saveResult("overlay.md", report);
process.exit(0);
