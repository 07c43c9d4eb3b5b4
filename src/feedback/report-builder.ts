import type { ReceiverReport } from "../protocol/feedback-report.ts";
import type { ArrivalLog } from "./arrival-log.ts";

/** The receiver's cumulative counts of the stream it follows, as the reassembler keeps them. */
export type StreamCounts = Pick<ReceiverReport, "highestFrame" | "chunksExpected" | "chunksLost" | "chunksRebuilt" | "framesComplete" | "framesDropped">;

/** Reports go out this often: often enough for rate control to react within a few frames. */
export const REPORT_INTERVAL_MS = 100;
/** A stream silent this long (ended, or its sender gone) gets no more reports: nobody may be listening. */
export const SILENT_AFTER_MS = 1000;

/**
 * Builds a receiver report about every REPORT_INTERVAL_MS from the
 * reassembler's counts and the arrival log. Pure: given the time.
 */
export class ReportBuilder {
  private nextNumber = 0;
  private lastMs: number | undefined;

  /** A report if one is due now, else undefined. */
  due(nowMs: number, counts: StreamCounts, log: ArrivalLog, latencyBudgetMs: number): ReceiverReport | undefined {
    if (this.lastMs !== undefined && nowMs - this.lastMs < REPORT_INTERVAL_MS) return undefined;
    // The first report waits for the first frame's delivery rate (the sender is waiting for it to pick its rate), at most an interval.
    if (this.lastMs === undefined && !log.deliveryMeasured && (log.sinceFirstArrivalMs(nowMs) ?? 0) < REPORT_INTERVAL_MS) return undefined;
    const echo = log.echo(nowMs);
    if (!echo) return undefined; // nothing arrived yet: nothing to report, nowhere known to send it
    if (echo.holdUs > SILENT_AFTER_MS * 1000) return undefined;
    this.lastMs = nowMs;
    return {
      reportNumber: this.nextNumber++,
      ...counts,
      receiveBytesPerSecond: log.takeReceiveRate(nowMs),
      delayTrendUsPerS: log.delayTrendUsPerS(),
      echoFrameNumber: echo.frameNumber,
      echoPosition: echo.position,
      echoHoldUs: echo.holdUs,
      latencyBudgetMs,
    };
  }

  reset(): void {
    this.lastMs = undefined;
  }
}
