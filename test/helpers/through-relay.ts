import { expect } from "bun:test";
import type { ReceiveSummary } from "../../src/commands/receive.ts";
import type { SendSummary } from "../../src/commands/send.ts";
import { finish, lastJson, startUdpvid } from "./udpvid.ts";

/** What the relay says it did (its --json summary), as far as tests read it. */
export interface RelayCounts {
  datagramsIn: number;
  datagramsLost: number;
  datagramsQueueDropped: number;
  reverse: { datagramsIn: number; datagramsLost: number };
}

/**
 * send → relay (impairments) → receive, all real processes; the receiver
 * records what it shows to `record`. Each exits 0; their summaries come back.
 */
export async function streamThroughRelay(clip: string, relayArgs: string[], sendArgs: string[], receiveArgs: string[], record: string, receiveEnv: Record<string, string> = {}) {
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--record", record, "--idle-timeout", "3", "--json", ...receiveArgs], receiveEnv);
  const receiverPort = await receiver.listening;
  await using relay = startUdpvid(["relay", "--listen", "0", "--to", `127.0.0.1:${receiverPort}`, "--json", ...relayArgs]);
  const relayPort = await relay.listening;
  const sent = await finish(startUdpvid(["send", clip, "--to", `127.0.0.1:${relayPort}`, "--json", ...sendArgs]), 60_000);
  expect(sent.exitCode).toBe(0);
  const received = await finish(receiver, 30_000);
  expect(received.exitCode).toBe(0);
  relay.process.kill("SIGINT");
  const relayed = await finish(relay, 10_000);
  return { send: lastJson<SendSummary>(sent.stdout), receive: lastJson<ReceiveSummary>(received.stdout), relay: lastJson<RelayCounts>(relayed.stdout) };
}
