// Takes the README's pictures of the window under Xvfb, as a user would see
// it: `bun run screenshots` writes docs/screenshot.png (video.mp4 with the
// `s` overlay on) and docs/window-waiting.png (before a stream arrives).
// Needs Xvfb, xdotool and ffmpeg (bash scripts/setup.sh test installs them).
import { join } from "node:path";
import { ROOT, startUdpvid, finish } from "../test/helpers/udpvid.ts";
import { UDPVID_WINDOW, findWindows, pressKey, screenshot, startXvfb, windowGeometry, windowTitle } from "../test/helpers/xvfb.ts";

const DOCS = join(ROOT, "docs");

await using x = await startXvfb(1920, 1080); // room for video.mp4's 1280x720 at its own size
await using receiver = startUdpvid(["receive", "--port", "0", "--json"], { DISPLAY: x.display });
const port = await receiver.listening;
let id: string | undefined;
for (let i = 0; i < 100 && !id; i++) {
  id = findWindows(x.display, UDPVID_WINDOW)[0];
  if (!id) await Bun.sleep(100);
}
if (!id) throw new Error("the receiver's window did not appear");
const shoot = (name: string) => {
  screenshot(x.display, windowGeometry(x.display, id!), join(DOCS, name));
  console.log(`docs/${name}: title "${windowTitle(x.display, id!)}"`);
};

await Bun.sleep(1000);
shoot("window-waiting.png");

await using sender = startUdpvid(["send", join(ROOT, "video.mp4"), "--loop", "--to", `127.0.0.1:${port}`]);
await Bun.sleep(2500);
pressKey(x.display, id, "s");
await Bun.sleep(1600); // two overlay refreshes: the numbers are settled
shoot("screenshot.png");

pressKey(x.display, id, "q");
await finish(receiver, 10_000);
sender.kill();
