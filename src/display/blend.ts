import type { RgbaImage } from "../decoder/jpeg-decoder.ts";

/** round(x / 255) for 0 ≤ x ≤ 65535, without a division: the blend runs per pixel of the panel, per frame. */
function div255(x: number): number {
  return (x + 128 + ((x + 128) >> 8)) >> 8;
}

/**
 * Draws `top` over `bottom` at (x, y), "source over" with straight (not
 * premultiplied) alpha, in place. Parts of `top` outside `bottom` are
 * clipped. Blended here rather than by SDL because the window takes one
 * picture per render.
 */
export function blendOver(bottom: RgbaImage, top: RgbaImage, x: number, y: number): void {
  const left = Math.max(0, x);
  const right = Math.min(bottom.width, x + top.width);
  const upper = Math.max(0, y);
  const lower = Math.min(bottom.height, y + top.height);
  const dst = bottom.rgba;
  const src = top.rgba;
  for (let row = upper; row < lower; row++) {
    let d = (row * bottom.width + left) * 4;
    let s = ((row - y) * top.width + (left - x)) * 4;
    for (let column = left; column < right; column++, d += 4, s += 4) {
      const a = src[s + 3]!;
      if (a === 0) continue;
      const b = dst[d + 3]!;
      if (b === 255) {
        // Decoded frames are opaque: the common case, in integers.
        const keep = 255 - a;
        dst[d] = div255(src[s]! * a + dst[d]! * keep);
        dst[d + 1] = div255(src[s + 1]! * a + dst[d + 1]! * keep);
        dst[d + 2] = div255(src[s + 2]! * a + dst[d + 2]! * keep);
        continue;
      }
      // Otherwise the Porter–Duff "over" operator in full.
      const outA = a + (b * (255 - a)) / 255;
      for (let c = 0; c < 3; c++) {
        dst[d + c] = Math.round((src[s + c]! * a + (dst[d + c]! * b * (255 - a)) / 255) / outA);
      }
      dst[d + 3] = Math.round(outA);
    }
  }
}
