import type { RgbaImage } from "../decoder/jpeg-decoder.ts";
import type { I420Image } from "../decoder/picture.ts";

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

/**
 * The same "over" onto a 4:2:0 picture's planes, in place: luma per pixel,
 * chroma per 2×2 block from the block's mean colour and alpha. JPEG's
 * YCbCr (BT.601, full range), so the panel looks as it does on RGBA.
 */
export function blendOverI420(bottom: I420Image, top: RgbaImage, x: number, y: number): void {
  const { width, height, i420 } = bottom;
  const chromaWidth = (width + 1) >> 1;
  const chromaHeight = (height + 1) >> 1;
  const uBase = width * height;
  const vBase = uBase + chromaWidth * chromaHeight;
  const src = top.rgba;
  const left = Math.max(0, x);
  const right = Math.min(width, x + top.width);
  const upper = Math.max(0, y);
  const lower = Math.min(height, y + top.height);
  for (let row = upper; row < lower; row++) {
    let s = ((row - y) * top.width + (left - x)) * 4;
    for (let column = left; column < right; column++, s += 4) {
      const a = src[s + 3]!;
      if (a === 0) continue;
      const luma = (77 * src[s]! + 150 * src[s + 1]! + 29 * src[s + 2]! + 128) >> 8;
      const d = row * width + column;
      i420[d] = div255(luma * a + i420[d]! * (255 - a));
    }
  }
  for (let cy = upper >> 1; cy < (lower + 1) >> 1 && cy < chromaHeight; cy++) {
    for (let cx = left >> 1; cx < (right + 1) >> 1 && cx < chromaWidth; cx++) {
      // The block's panel pixels, alpha-weighted (pixels outside the panel count as transparent).
      let r = 0, g = 0, b = 0, alpha = 0;
      for (let dy = 0; dy < 2; dy++) {
        const py = 2 * cy + dy - y;
        if (py < 0 || py >= top.height) continue;
        for (let dx = 0; dx < 2; dx++) {
          const px = 2 * cx + dx - x;
          if (px < 0 || px >= top.width) continue;
          const s = (py * top.width + px) * 4;
          const pa = src[s + 3]!;
          r += src[s]! * pa;
          g += src[s + 1]! * pa;
          b += src[s + 2]! * pa;
          alpha += pa;
        }
      }
      if (alpha === 0) continue;
      const cb = clampByte(128 + (-0.168736 * r - 0.331264 * g + 0.5 * b) / alpha);
      const cr = clampByte(128 + (0.5 * r - 0.418688 * g - 0.081312 * b) / alpha);
      const a = Math.round(alpha / 4);
      const c = cy * chromaWidth + cx;
      i420[uBase + c] = div255(cb * a + i420[uBase + c]! * (255 - a));
      i420[vBase + c] = div255(cr * a + i420[vBase + c]! * (255 - a));
    }
  }
}

const clampByte = (x: number) => Math.min(255, Math.max(0, Math.round(x)));
