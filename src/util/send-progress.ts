import cliProgress from "cli-progress";
import { stderrColors as pc } from "./colors.ts";
import { StatusLine } from "./terminal.ts";

export interface SendProgressState {
  /** Seconds of the source sent so far. */
  positionSeconds: number;
  fps: number;
  mbps: number;
  /** Free text after the numbers: skips, refusals. */
  extra: string;
}

/**
 * What `send` shows while it runs, on a terminal only: a progress bar
 * (cli-progress) with position/duration, fps, Mbit/s and ETA when the
 * source has a known length, else one rewriting status line. Silent when
 * stderr is not a terminal, and with --quiet.
 */
export class SendProgress {
  private bar: cliProgress.SingleBar | undefined;
  private readonly line: StatusLine | undefined;

  constructor(
    private readonly durationSeconds: number | undefined,
    enabled: boolean,
  ) {
    if (!enabled) return;
    if (durationSeconds !== undefined && durationSeconds > 0) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${pc.cyan("{bar}")} {position}/{length} s | {fps} fps | {mbps} Mbit/s | ETA {eta_formatted}{extra}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 30,
          // "{duration}" is cli-progress's own elapsed-time token, hence "{length}" for the source's.
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(round1(durationSeconds), 0, { position: "0.0", length: round1(durationSeconds).toFixed(1), fps: "0", mbps: "0", extra: "" });
    } else {
      this.line = new StatusLine(true);
    }
  }

  update(state: SendProgressState): void {
    if (this.bar) {
      const position = Math.min(round1(state.positionSeconds), round1(this.durationSeconds!));
      this.bar.update(position, { position: position.toFixed(1), fps: state.fps.toFixed(1), mbps: state.mbps.toFixed(1), extra: state.extra });
    } else {
      this.line?.update(`sent ${round1(state.positionSeconds).toFixed(1)} s  ${state.fps.toFixed(1)} fps  ${state.mbps.toFixed(1)} Mbit/s${state.extra}`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.line?.clear();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
