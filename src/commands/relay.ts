import { parseRateSchedule, type RateStep } from "../relay/bottleneck.ts";
import { Impairment, type ImpairmentOptions } from "../relay/impairment.ts";
import { UdpRelay } from "../relay/udp-relay.ts";
import { parseHostPort, resolveHost } from "../socket/address.ts";
import { round } from "../util/round.ts";
import {
  hostPortOption,
  intOption,
  numberOption,
  parseCommand,
  portOption,
  stringOption,
  UsageError,
  type CommandSpec,
  type ParsedCommand,
} from "./command-line.ts";

export const relaySpec: CommandSpec = {
  name: "relay",
  usage: "udpvid relay --listen PORT --to HOST:PORT [impairments]",
  summary:
    "Forward UDP datagrams from --listen to --to through an emulated network: loss per IP fragment, bursts, reordering, duplication, delay, jitter and a rate limit. Seeded, so runs repeat.",
  positionals: 0,
  options: {
    listen: { type: "string", value: "PORT", description: "UDP port to receive on (0 picks a free one)" },
    bind: { type: "string", value: "ADDR", description: "local address to receive on (default 0.0.0.0)" },
    to: { type: "string", value: "HOST:PORT", description: "where to forward" },
    loss: { type: "string", value: "PERCENT", description: "independent loss per IP fragment (default 0)" },
    "burst-loss": { type: "string", value: "PERCENT:LEN", description: "Gilbert–Elliott bursts: average loss and mean burst length in fragments" },
    reorder: { type: "string", value: "PERCENT", description: "datagrams held back 4 ms so later ones overtake them" },
    duplicate: { type: "string", value: "PERCENT", description: "datagrams delivered twice" },
    delay: { type: "string", value: "MS", description: "one-way delay, each way (default 0)" },
    "reverse-loss": { type: "string", value: "PERCENT", description: "loss on the way back (receiver feedback to the sender; default 0)" },
    jitter: { type: "string", value: "MS", description: "extra random delay up to MS (can reorder, as netem does)" },
    rate: { type: "string", value: "MBIT[,MBIT@T...]", description: "bottleneck rate, or rates over time from the first datagram: 25,6@3s,25@7s" },
    "queue-ms": { type: "string", value: "MS", description: "the bottleneck's drop-tail queue, in ms at the rate of the moment (default 200)" },
    mtu: { type: "string", value: "BYTES", description: "path MTU that datagrams are fragmented to (default 1500)" },
    seed: { type: "string", value: "N", description: "random seed (default 1)" },
    json: { type: "boolean", description: "print the counts as one JSON object on the last line" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  footer:
    "Stops on Ctrl-C and prints what it did. Replies from the destination (a receiver's feedback) go back to whoever sent last, with the same delay and --reverse-loss; the other impairments apply forward only.",
};

export interface RelayOptions {
  listen: number;
  bind: string;
  to: string;
  impairment: ImpairmentOptions;
  /** Loss on the way back, a fraction. */
  reverseLoss: number;
  json: boolean;
}

export function parseRelayOptions(argv: string[]): RelayOptions | "help" {
  const { values } = parseCommand(relaySpec, argv);
  if (values.help) return "help";
  const listenPort = portOption(values, "listen");
  const to = hostPortOption(values, "to");
  if (listenPort === undefined) throw new UsageError("--listen PORT is required");
  if (to === undefined) throw new UsageError("--to HOST:PORT is required");
  const burst = stringOption(values, "burst-loss");
  let burstLoss: ImpairmentOptions["burstLoss"];
  if (burst !== undefined) {
    const match = /^(\d+(?:\.\d+)?)%?:(\d+(?:\.\d+)?)$/.exec(burst);
    if (!match || Number(match[1]) >= 100 || Number(match[2]) < 1) {
      throw new UsageError(`--burst-loss must be PERCENT:LEN with PERCENT below 100 and LEN ≥ 1, e.g. 5:4, got "${burst}"`);
    }
    burstLoss = { rate: Number(match[1]) / 100, meanLength: Number(match[2]) };
  }
  return {
    listen: listenPort,
    bind: stringOption(values, "bind") ?? "0.0.0.0",
    to,
    json: values.json === true,
    reverseLoss: percentOption(values, "reverse-loss"),
    impairment: {
      loss: percentOption(values, "loss"),
      burstLoss,
      reorder: percentOption(values, "reorder"),
      duplicate: percentOption(values, "duplicate"),
      delayMs: numberOption(values, "delay", 0, 60_000) ?? 0,
      jitterMs: numberOption(values, "jitter", 0, 60_000) ?? 0,
      rate: rateOption(values),
      queueMs: numberOption(values, "queue-ms", 0, 60_000),
      mtu: intOption(values, "mtu", 68, 65535) ?? 1500,
      seed: intOption(values, "seed", 0, 2 ** 32 - 1) ?? 1,
    },
  };
}

function rateOption(values: ParsedCommand["values"]): RateStep[] | undefined {
  const text = stringOption(values, "rate");
  if (text === undefined) {
    if (values["queue-ms"] !== undefined) throw new UsageError("--queue-ms needs --rate: without a bottleneck nothing queues");
    return undefined;
  }
  try {
    return parseRateSchedule(text);
  } catch (error) {
    throw new UsageError(`--rate: ${(error as Error).message}`);
  }
}

function percentOption(values: ParsedCommand["values"], name: string): number {
  const text = values[name];
  if (typeof text === "string" && text.endsWith("%")) values = { ...values, [name]: text.slice(0, -1) };
  return (numberOption(values, name, 0, 99.999) ?? 0) / 100;
}

export type RelaySummary = Impairment["stats"] & { listen: number; to: string; seconds: number; lossPercent: number; reverse: Impairment["stats"] };

export async function runRelay(options: RelayOptions, signal: AbortSignal): Promise<RelaySummary> {
  const target = parseHostPort(options.to);
  const destination = await resolveHost(target.host);
  const impairment = new Impairment(options.impairment);
  // The way back has the same delay and MTU, its own loss and its own random stream.
  const reverse = new Impairment({ loss: options.reverseLoss, delayMs: options.impairment.delayMs, mtu: options.impairment.mtu, seed: (options.impairment.seed ?? 1) + 1 });
  const { relay, receiver } = await UdpRelay.open({ forward: impairment, reverse }, { bind: options.bind, port: options.listen }, { ...destination, port: target.port });
  const info = options.json ? console.error : console.log;
  info(`Listening on ${options.bind}:${receiver.port}, relaying to ${target.host}:${target.port}`);
  const startMs = performance.now();
  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  receiver.close();
  relay.close();
  const stats = impairment.stats;
  return {
    listen: receiver.port,
    to: `${target.host}:${target.port}`,
    seconds: round((performance.now() - startMs) / 1000, 3),
    ...stats,
    lossPercent: round((100 * (stats.datagramsLost + stats.datagramsQueueDropped)) / Math.max(1, stats.datagramsIn), 2),
    reverse: reverse.stats,
  };
}

export function describeRelaySummary(s: RelaySummary): string {
  return (
    `Relayed ${s.datagramsIn} datagrams in ${s.seconds.toFixed(2)} s: ${s.datagramsLost} lost (${s.fragmentsLost} of ${s.fragments} fragments), ` +
    `${s.datagramsQueueDropped} dropped by the bottleneck's queue, ${s.datagramsReordered} reordered, ${s.datagramsDuplicated} duplicated, ` +
    `${s.datagramsOut} sent on (${s.lossPercent}% loss)` +
    (s.reverse.datagramsIn ? `; back: ${s.reverse.datagramsIn} in, ${s.reverse.datagramsLost} lost, ${s.reverse.datagramsOut} sent back` : "")
  );
}
