/** Splits a recording (back-to-back JPEGs, as MjpegRecorder writes) at each end-of-image marker followed by a start-of-image. */
export function splitMjpeg(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let start = 0;
  for (let i = 1; i + 2 < bytes.length; i++) {
    if (bytes[i - 1] === 0xff && bytes[i] === 0xd9 && bytes[i + 1] === 0xff && bytes[i + 2] === 0xd8) {
      frames.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) frames.push(bytes.subarray(start));
  return frames;
}
