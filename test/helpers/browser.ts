import puppeteer, { type Browser, type Page } from "puppeteer-core";
import sharp from "sharp";

/** Debian's chromium (scripts/setup.sh test installs it): puppeteer-core downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** A headless chromium for one test file; `await using` closes it. */
export async function openBrowser(): Promise<Browser & AsyncDisposable> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container: no sandbox; no GPU here.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** A page of `width` × `height` CSS pixels (device pixel ratio 1 unless given) on `url`. */
export async function openViewer(browser: Browser, url: string, width = 640, height = 360, deviceScaleFactor = 1): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width, height, deviceScaleFactor });
  await page.goto(url, { waitUntil: "load" });
  return page;
}

/** The page's sound clock, as it says of itself. */
export interface PageSound {
  state: string;
  packets: number;
  played: number;
  late: number;
  rebased: number;
  /** Packets left out to bring the delay back down after a late spell. */
  caughtUp: number;
  delayMs: number | null;
  scheduledUntil: number;
}

/** The page's sound clock now. */
export function pageSound(page: Page): Promise<PageSound> {
  return page.evaluate(() => (globalThis as unknown as { udpvidViewer: { sound: PageSound } }).udpvidViewer.sound);
}

export interface ViewerState {
  state: string;
  framesDrawn: number;
  lastDrawn: { frameNumber: number; width: number; height: number } | null;
  statsVisible: boolean;
  frozen: boolean;
}

/** What the page says of itself (window.udpvidViewer). */
export function viewerState(page: Page): Promise<ViewerState> {
  return page.evaluate(() => {
    const v = (globalThis as unknown as { udpvidViewer: ViewerState }).udpvidViewer;
    return { state: v.state, framesDrawn: v.framesDrawn, lastDrawn: v.lastDrawn, statsVisible: v.statsVisible, frozen: v.frozen };
  });
}

/** Waits until the page's state satisfies `done`, or throws with the last state seen. */
export async function waitForViewer(page: Page, done: (s: ViewerState) => boolean, timeoutMs: number, what: string): Promise<ViewerState> {
  const deadline = performance.now() + timeoutMs;
  let last = await viewerState(page);
  while (!done(last)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; the page: ${JSON.stringify(last)}`);
    await Bun.sleep(100);
    last = await viewerState(page);
  }
  return last;
}

/** A region of what the page shows (CSS pixels), as packed RGB at `size` (default: as the screen has it, CSS pixels × the device pixel ratio). */
export async function screenshotRgb(page: Page, clip: { x: number; y: number; width: number; height: number }, size?: { width: number; height: number }): Promise<Uint8Array> {
  const png = await page.screenshot({ type: "png", clip });
  let image = sharp(png).removeAlpha();
  if (size) image = image.resize(size.width, size.height, { fit: "fill" });
  const { data } = await image.raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** What a page opened with ?record-sound played and drew: its sound figures, the tap's blocks (context time, left channel), each picture drawn. */
export interface PageRecording {
  sound: PageSound;
  chunks: { at: number; left: number[] }[];
  frames: { at: number; heardLatency: number; flash: boolean }[];
}

/** Waits until all the sound the page scheduled has been played (and tapped), then reads its recording. */
export async function pageRecording(page: Page, timeoutMs = 10_000): Promise<PageRecording> {
  const read = () =>
    page.evaluate(() => {
      const v = (globalThis as unknown as { udpvidViewer: { sound: PageRecording["sound"]; recording: Omit<PageRecording, "sound"> } }).udpvidViewer;
      return { sound: v.sound, chunks: v.recording.chunks, frames: v.recording.frames };
    });
  const deadline = performance.now() + timeoutMs;
  let recording = await read();
  while (!(recording.sound.scheduledUntil > 0 && (recording.chunks.at(-1)?.at ?? 0) > recording.sound.scheduledUntil + 0.1)) {
    if (performance.now() > deadline) throw new Error(`the page's sound did not play out: ${JSON.stringify(recording.sound)}`);
    await Bun.sleep(200);
    recording = await read();
  }
  return recording;
}

/** What the page played, as 48 kHz stereo (the left channel on both sides), each tapped block at its place on the context's clock. */
export function playedSound(recording: PageRecording): Float32Array {
  const first = recording.chunks[0]!.at;
  const last = recording.chunks.at(-1)!;
  const left = new Float32Array(Math.round((last.at - first) * 48_000) + last.left.length);
  for (const chunk of recording.chunks) left.set(chunk.left, Math.round((chunk.at - first) * 48_000));
  const stereo = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) stereo[2 * i] = stereo[2 * i + 1] = left[i]!;
  return stereo;
}

/**
 * Context time the tap never saw between its first block and its last, ms:
 * the browser's audio thread, starved, rendered nothing there (its clock
 * skipped ahead), so nothing scheduled there was played, whatever the page did.
 */
export function unrenderedMs(recording: PageRecording): number {
  let missing = 0;
  let expected: number | undefined;
  for (const chunk of [...recording.chunks].sort((a, b) => a.at - b.at)) {
    if (expected !== undefined && chunk.at > expected + 0.5 / 48_000) missing += chunk.at - expected;
    expected = Math.max(expected ?? 0, chunk.at + chunk.left.length / 48_000);
  }
  return missing * 1000;
}

/**
 * On the flash-and-beep clip (make-video.sh), each flash drawn against its
 * beep heard, ms (positive: the picture late), from what the page played
 * and drew rather than from capture times: a beep's start is where the
 * played sound turns loud after half a second of quiet, heard the
 * context's output latency later; a flash is the first picture drawn with
 * the white square after one without.
 */
export function flashBeepOffsetsMs(recording: PageRecording): number[] {
  const beeps: number[] = [];
  let loudAt = -Infinity;
  for (const chunk of recording.chunks) {
    chunk.left.forEach((v, i) => {
      const at = chunk.at + i / 48_000;
      if (Math.abs(v) > 0.25) {
        if (at - loudAt > 0.5) beeps.push(at);
        loudAt = at;
      }
    });
  }
  const heardLatency = recording.frames.at(-1)?.heardLatency ?? 0;
  const flashes = recording.frames.filter((f, i) => f.flash && !recording.frames[i - 1]?.flash).map((f) => f.at);
  if (beeps.length === 0) return [];
  return flashes.map((flash) => {
    const beep = beeps.reduce((best, b) => (Math.abs(b + heardLatency - flash) < Math.abs(best + heardLatency - flash) ? b : best));
    return (flash - (beep + heardLatency)) * 1000;
  });
}
