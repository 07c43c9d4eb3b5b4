import { stripVTControlCharacters } from "node:util";

/** A single status line that rewrites itself on a terminal, and stays silent when stderr is not one. */
export class StatusLine {
  private readonly enabled: boolean;
  private shown = false;

  constructor(enabled = process.stderr.isTTY === true) {
    this.enabled = enabled;
  }

  update(text: string): void {
    if (!this.enabled) return;
    const width = process.stderr.columns || 100;
    // A line wider than the terminal wraps, and "\r" then rewrites only its last row: cut it (colours go with the cut).
    const plain = stripVTControlCharacters(text);
    const line = plain.length < width ? text : plain.slice(0, width - 1);
    process.stderr.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  clear(): void {
    if (this.enabled && this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function wallClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
