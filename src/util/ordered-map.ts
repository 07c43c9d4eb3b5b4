/**
 * Maps an async sequence through an async function with up to `concurrency`
 * calls in flight, yielding results in input order. Lets the next frames
 * encode on libuv's pool while the current one is being sent.
 */
export async function* orderedMap<T, U>(
  source: AsyncIterable<T>,
  fn: (item: T) => Promise<U>,
  concurrency: number,
): AsyncGenerator<U> {
  const iterator = source[Symbol.asyncIterator]();
  const inFlight: Promise<U>[] = [];
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && inFlight.length < concurrency) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else {
        const result = fn(next.value);
        result.catch(() => {}); // surfaced when awaited in order below
        inFlight.push(result);
      }
    }
  };
  try {
    await fill();
    while (inFlight.length > 0) {
      const result = await inFlight.shift()!;
      yield result;
      await fill();
    }
  } finally {
    await iterator.return?.();
  }
}
