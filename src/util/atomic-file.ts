import { renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * Writes a file whole or not at all: into a temporary name beside it, then
 * renamed over it. A program that waits for the file to appear (a player
 * opening an SDP file) never reads it half written.
 */
export function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
