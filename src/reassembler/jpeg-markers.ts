/** JPEG start-of-image: FF D8, then the FF that opens the next marker segment. */
export function startsLikeJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** JPEG end-of-image marker FF D9 as the final two bytes. */
export function endsLikeJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 2 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
}

