#!/usr/bin/env bun
import packageJson from "../package.json" with { type: "json" };
import { formatHelp, UsageError, type CommandSpec } from "./commands/command-line.ts";
import { describeReceiveSummary, parseReceiveOptions, receiveSpec, runReceive } from "./commands/receive.ts";
import { describeSendSummary, parseSendOptions, runSend, sendSpec } from "./commands/send.ts";
import { describeRelaySummary, parseRelayOptions, relaySpec, runRelay } from "./commands/relay.ts";
import { demoSpec, describeDemoSummary, parseDemoOptions, runDemo } from "./commands/demo.ts";
import { generateKeyHex } from "./commands/key-option.ts";
import { EMBEDDED } from "./native/embedded.ts";
import { stderrColors as pc } from "./util/colors.ts";

const TOP_HELP = `udpvid ${packageJson.version}: stream a video file over UDP and watch it live.

Usage:
  udpvid demo                     watch video.mp4 stream over loopback: the quickest look
  udpvid send [FILE] [options]    stream FILE (default ./video.mp4) to --to HOST:PORT
  udpvid receive [options]        show the stream arriving on --port in a window
  udpvid relay --listen PORT --to HOST:PORT [--loss P ...]
                                  forward through an emulated lossy network
  udpvid keygen > FILE            make a random key for send/receive --key FILE
  udpvid --version

Run "udpvid COMMAND --help" for a command's options.`;

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "send":
        return await runSubcommand(SUBCOMMANDS.send, rest);
      case "receive":
        return await runSubcommand(SUBCOMMANDS.receive, rest);
      case "relay":
        return await runSubcommand(SUBCOMMANDS.relay, rest);
      case "demo":
        return await runSubcommand(SUBCOMMANDS.demo, rest);
      case "keygen":
        if (rest.length > 0) throw new UsageError(`keygen takes no arguments, got "${rest[0]}"`);
        console.log(generateKeyHex());
        return 0;
      case "--version":
      case "-v":
        // A compiled binary also names the commit it was built from and its platform.
        console.log(EMBEDDED ? `udpvid ${EMBEDDED.version} (${EMBEDDED.commit}, ${EMBEDDED.target})` : `udpvid ${packageJson.version}`);
        return 0;
      case "--help":
      case "-h":
      case "help":
        console.log(TOP_HELP);
        return 0;
      case undefined:
        console.error(TOP_HELP);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}" (expected demo, send, receive, relay or keygen)`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const where = command !== undefined && command in SUBCOMMANDS ? ` ${command}` : "";
      printError(`${pc.red(`udpvid${where}:`)} ${error.message} (see udpvid${where} --help)`);
      return 2;
    }
    printError(`${pc.red("udpvid:")} ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Written as is: Bun's console.error paints whole lines red when colours are forced, over ours. */
function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** What each subcommand provides: its spec for --help, how to read its options, run it and describe its summary. */
interface Subcommand<Options extends { json: boolean }, Summary> {
  spec: CommandSpec;
  parse(argv: string[]): Options | "help";
  run(options: Options, signal: AbortSignal): Promise<Summary>;
  describe(summary: Summary): string;
}

const SUBCOMMANDS = {
  send: { spec: sendSpec, parse: parseSendOptions, run: runSend, describe: describeSendSummary },
  receive: { spec: receiveSpec, parse: parseReceiveOptions, run: runReceive, describe: describeReceiveSummary },
  relay: { spec: relaySpec, parse: parseRelayOptions, run: runRelay, describe: describeRelaySummary },
  demo: { spec: demoSpec, parse: parseDemoOptions, run: runDemo, describe: describeDemoSummary },
} satisfies Record<string, Subcommand<any, any>>;

async function runSubcommand<Options extends { json: boolean }, Summary>(command: Subcommand<Options, Summary>, argv: string[]): Promise<number> {
  const options = command.parse(argv);
  if (options === "help") {
    console.log(formatHelp(command.spec));
    return 0;
  }
  const summary = await command.run(options, interruptSignal());
  console.log(options.json ? JSON.stringify(summary) : command.describe(summary));
  return 0;
}

/** Aborts on the first Ctrl-C (or SIGTERM) so the command can stop cleanly; a second one exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}

/** Runs the command line as the program: its exit code, and nothing (the SDL addon, a stray timer) keeps a finished command alive. */
export async function runProgram(): Promise<never> {
  process.exitCode = await main(process.argv.slice(2));
  process.exit(process.exitCode);
}

// From source (bun src/cli.ts). Compiled binaries start from src/binary-entry.ts instead.
if (import.meta.main) await runProgram();
