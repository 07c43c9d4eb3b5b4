/**
 * Runs at most one decode at a time and keeps at most one frame waiting.
 * A frame that arrives while another waits replaces it (counted as
 * skipped), so when decoding or display falls behind the picture jumps
 * forward to the newest frame instead of lagging further and further.
 */
export class LatestFrameDecoder<Frame, Image> {
  private busy = false;
  private waiting: Frame | undefined;
  private idleWaiters: (() => void)[] = [];

  readonly stats = { decoded: 0, skipped: 0, corrupt: 0 };

  constructor(
    private readonly decode: (frame: Frame) => Promise<Image>,
    private readonly onDecoded: (frame: Frame, image: Image) => void,
    private readonly onCorrupt: (frame: Frame, error: unknown) => void = () => {},
    /**
     * Awaited between one decode and the next. A decode that finishes at
     * once (TurboJPEG runs on this thread) would otherwise chain the next in
     * a microtask: a backlog of frames, decoded back to back, kept timers and
     * datagrams waiting (frames shown 50 ms after their time, the sound's
     * packets read late). By default, the event loop's next turn.
     */
    private readonly between: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
  ) {}

  /** A frame is decoding (or about to be: between two, the event loop has its turn). */
  get working(): boolean {
    return this.busy;
  }

  /** A frame is waiting behind the one decoding: offering another now would replace it. */
  get full(): boolean {
    return this.busy && this.waiting !== undefined;
  }

  offer(frame: Frame): void {
    if (!this.busy) {
      void this.run(frame);
      return;
    }
    if (this.waiting !== undefined) this.stats.skipped++;
    this.waiting = frame;
  }

  /** Resolves once nothing is decoding or waiting. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(frame: Frame): Promise<void> {
    this.busy = true;
    for (let next: Frame | undefined = frame; next !== undefined; ) {
      try {
        const image = await this.decode(next);
        this.stats.decoded++;
        this.onDecoded(next, image);
      } catch (error) {
        this.stats.corrupt++;
        this.onCorrupt(next, error);
      }
      if (this.waiting !== undefined) await this.between();
      next = this.waiting;
      this.waiting = undefined;
    }
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
