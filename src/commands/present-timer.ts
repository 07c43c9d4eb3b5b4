/** What the timer drives: a session whose frames wait for their time on the sound's clock. */
export interface Presenting {
  nextPresentMs(nowMs: number): number | undefined;
  present(nowMs: number): void;
}

/**
 * Shows a frame that waits for its time on a timer of its own, set for its
 * due time: the receiver's 10 ms housekeeping tick would show it up to 10 ms
 * late. Re-armed after each showing for the next frame due.
 */
export class PresentTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private atMs: number | undefined;

  constructor(private readonly session: () => Presenting) {}

  /** A frame is waiting (or the clock moved its time): make sure the timer fires when the first one is due. */
  schedule(): void {
    const next = this.session().nextPresentMs(performance.now());
    if (next === undefined || next === this.atMs) return;
    clearTimeout(this.timer);
    this.atMs = next;
    this.timer = setTimeout(() => {
      this.atMs = undefined;
      this.session().present(performance.now());
      this.schedule();
    }, Math.max(0, next - performance.now()));
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
