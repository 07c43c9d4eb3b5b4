/** Least-squares slope of `value` over `atMs` (value units per ms); 0 with fewer than 3 samples or no spread in time. */
export function linearTrend(samples: readonly { atMs: number; value: number }[]): number {
  const n = samples.length;
  if (n < 3) return 0;
  let sumT = 0;
  let sumV = 0;
  for (const s of samples) {
    sumT += s.atMs;
    sumV += s.value;
  }
  const meanT = sumT / n;
  const meanV = sumV / n;
  let cov = 0;
  let varT = 0;
  for (const s of samples) {
    cov += (s.atMs - meanT) * (s.value - meanV);
    varT += (s.atMs - meanT) ** 2;
  }
  return varT === 0 ? 0 : cov / varT;
}
