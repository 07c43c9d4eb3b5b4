/** Rounds for display and JSON: summaries should be readable, not 15 digits long. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
