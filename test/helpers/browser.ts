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
