import { existsSync } from "node:fs";
import { DisplayUnavailableError } from "../display/sdl-window.ts";
import { formatBytes } from "../util/terminal.ts";
import { parseCommand, stringOption, type CommandSpec } from "./command-line.ts";
import type { WebOptions } from "../web/web-output.ts";
import { chooseSource } from "../source/source-choice.ts";
import { defaultReceiveOptions, describeReceiveSummary, runReceive, webOptions, type ReceiveSummary } from "./receive.ts";
import { defaultSendOptions, describeSendSummary, runSend, type SendSummary } from "./send.ts";

export const demoSpec: CommandSpec = {
  name: "demo",
  usage: "udpvid demo [options]",
  summary: "Watch ./video.mp4 (or a test pattern) stream over UDP on this machine: a receiver window and a sender on loopback.",
  positionals: 0,
  options: {
    "test-pattern": { type: "boolean", description: "stream 10 s of a generated test pattern instead of ./video.mp4" },
    headless: { type: "boolean", description: "no window: receive, decode and count only (the default where there is no display)" },
    web: { type: "string", value: "[ADDR:]PORT", description: "also show it in browsers, at http://ADDR:PORT/ (as receive --web); the video then plays in a loop until q or Ctrl-C, so there is time to open a page" },
    json: { type: "boolean", description: "print the summary as one JSON object on the last line" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  footer: "Keys in the window: s stats overlay, f (or double-click) fullscreen, space freeze/go live, q or Esc quit. The window stays open on \"Stream ended\" until you quit it.",
};

export interface DemoOptions {
  testPattern: boolean;
  headless: boolean;
  /** --web: browsers watch too. */
  web?: WebOptions;
  json: boolean;
}

export interface DemoSummary {
  source: string;
  /** Whether it ran without a window (asked for, or no display to open one on). */
  headless: boolean;
  send: SendSummary;
  receive: ReceiveSummary;
}

export function parseDemoOptions(argv: string[]): DemoOptions | "help" {
  const { values } = parseCommand(demoSpec, argv);
  if (values.help) return "help";
  return { testPattern: values["test-pattern"] === true, headless: values.headless === true, web: webOptions(stringOption(values, "web"), undefined, undefined), json: values.json === true };
}

/** The main job in one command: a receiver on a free loopback port, and a sender streaming to it. */
export async function runDemo(options: DemoOptions, signal: AbortSignal): Promise<DemoSummary> {
  const testPattern = options.testPattern || !existsSync("video.mp4");
  const source = chooseSource({
    positional: testPattern ? undefined : "video.mp4",
    testPattern,
    inputOptions: testPattern ? ["t=10"] : [],
    camera: false,
    platform: process.platform,
    defaultVideoExists: !testPattern,
  });
  const note = options.json ? console.error : console.log;
  if (testPattern && !options.testPattern) note("demo: no ./video.mp4 here, streaming a test pattern");

  const stopReceiving = new AbortController();
  signal.addEventListener("abort", () => stopReceiving.abort(), { once: true });
  const receive = async (headless: boolean) => {
    let listening: (port: number) => void = () => {};
    const port = new Promise<number>((resolve) => (listening = resolve));
    // Headless, the demo ends with the stream; a window stays on "Stream ended" until q.
    // The sender's progress bar is the one live line on the terminal.
    // Headless plays no sound (as receive --headless without --audio); the window plays it.
    // Browsers take a moment to open: with --web the demo loops and the receiver stays until stopped.
    const idleTimeoutSeconds = headless && !options.web ? 2 : undefined;
    const receiveOptions = { ...defaultReceiveOptions(), port: 0, quiet: true, headless, audio: !headless, idleTimeoutSeconds, web: options.web, json: options.json };
    const done = runReceive(receiveOptions, stopReceiving.signal, listening);
    // A receiver that fails (no display) fails before it listens.
    return { port: await Promise.race([port, done.then(() => Promise.reject(new Error("the receiver stopped before listening")))]), done };
  };
  let headless = options.headless;
  let receiver: Awaited<ReturnType<typeof receive>>;
  try {
    receiver = await receive(headless);
  } catch (error) {
    if (!(error instanceof DisplayUnavailableError)) throw error;
    note(`demo: ${error.message.split(";")[0]}: receiving headless, the summary shows what arrived`);
    headless = true;
    receiver = await receive(true);
  }

  // Quitting the window (q) stops the sender too.
  const stopSending = new AbortController();
  signal.addEventListener("abort", () => stopSending.abort(), { once: true });
  void receiver.done.then(() => stopSending.abort(), () => stopSending.abort());
  const send = await runSend({ ...defaultSendOptions(source, `127.0.0.1:${receiver.port}`), loop: options.web !== undefined, json: options.json }, stopSending.signal);
  const receiveSummary = await receiver.done;
  return { source: testPattern ? "test pattern" : "video.mp4", headless, send, receive: receiveSummary };
}

export function describeDemoSummary(s: DemoSummary): string {
  return [
    `Demo: ${s.source} over loopback${s.headless ? ", headless" : ""} (${formatBytes(s.send.bytes)} sent)`,
    describeSendSummary(s.send),
    describeReceiveSummary(s.receive),
  ].join("\n");
}
