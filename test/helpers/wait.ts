/**
 * Waiting on evidence instead of guessing how fast a busy machine is: polls
 * until `probe` gives a value, with a deadline that is generous because it
 * costs nothing when the evidence comes early.
 */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Polls until `done()` holds, for at most `timeoutMs`; the caller's own assertions say what was missing. */
export async function waitUntil(done: () => boolean, timeoutMs: number, everyMs = 50): Promise<void> {
  for (const deadline = performance.now() + timeoutMs; !done() && performance.now() < deadline; ) await Bun.sleep(everyMs);
}
