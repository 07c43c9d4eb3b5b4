import type { ReceiverReport } from "../../src/protocol/feedback-report.ts";

/** Receiver report number `n` of a steady stream: `perReport` datagrams announced each, none lost, 1 MB/s arriving, unless `fields` say otherwise. */
export function receiverReport(n: number, fields: Partial<ReceiverReport> = {}, perReport = 100): ReceiverReport {
  return {
    reportNumber: n,
    highestFrame: n,
    chunksExpected: perReport * n,
    chunksLost: 0,
    chunksRebuilt: 0,
    framesComplete: n,
    framesDropped: 0,
    receiveBytesPerSecond: 1_000_000,
    delayTrendUsPerS: 0,
    echoFrameNumber: n,
    echoPosition: 0,
    echoHoldUs: 0,
    latencyBudgetMs: 120,
    ...fields,
  };
}
