/*
 * Shrinks a 4:2:0 picture on its planes, for rate control's smaller sizes
 * (encoding-planner's SCALE_STEPS: down to a quarter), so the source never
 * restarts and no RGB is made. Pure: plain arrays in, plain arrays out.
 *
 * Each plane is first halved with 2×2 box averages while it is still at
 * least twice the size wanted (so a quarter-size picture averages every
 * source pixel instead of skipping three in four), then resampled
 * bilinearly to the exact size, as libyuv does.
 */

/** A picture's three planes in one buffer: Y (width × height), then U and V (half each way, rounded up). */
export interface I420Picture {
  width: number;
  height: number;
  data: Uint8Array;
}

export const chromaSize = (width: number, height: number) => ((width + 1) >> 1) * ((height + 1) >> 1);
export const i420Size = (width: number, height: number) => width * height + 2 * chromaSize(width, height);

/** The Y, U and V planes of an I420 buffer, as views (no copies). */
export function i420Planes(picture: I420Picture): { y: Uint8Array; u: Uint8Array; v: Uint8Array } {
  const { width, height, data } = picture;
  const ySize = width * height;
  const c = chromaSize(width, height);
  if (data.length < ySize + 2 * c) throw new RangeError(`an I420 ${width}x${height} picture needs ${ySize + 2 * c} bytes, got ${data.length}`);
  return { y: data.subarray(0, ySize), u: data.subarray(ySize, ySize + c), v: data.subarray(ySize + c, ySize + 2 * c) };
}

/** The picture at `width` × `height`; the same object when the size is already that. */
export function scaleI420(picture: I420Picture, width: number, height: number): I420Picture {
  if (width === picture.width && height === picture.height) return picture;
  if (width < 1 || height < 1) throw new RangeError(`cannot scale to ${width}x${height}`);
  const from = i420Planes(picture);
  const data = new Uint8Array(i420Size(width, height));
  const to = i420Planes({ width, height, data });
  const cw = (picture.width + 1) >> 1;
  const ch = (picture.height + 1) >> 1;
  const tw = (width + 1) >> 1;
  const th = (height + 1) >> 1;
  scalePlane(from.y, picture.width, picture.height, to.y, width, height);
  scalePlane(from.u, cw, ch, to.u, tw, th);
  scalePlane(from.v, cw, ch, to.v, tw, th);
  return { width, height, data };
}

/** One plane from sw × sh to dw × dh (rows packed). */
export function scalePlane(src: Uint8Array, sw: number, sh: number, dst: Uint8Array, dw: number, dh: number): void {
  let plane = src;
  let w = sw;
  let h = sh;
  while (w >= 2 * dw && h >= 2 * dh) {
    const halved = halvePlane(plane, w, h);
    plane = halved.plane;
    w = halved.width;
    h = halved.height;
  }
  bilinear(plane, w, h, dst, dw, dh);
}

/** 2×2 box averages, rounded; an odd last row or column averages with itself. */
export function halvePlane(src: Uint8Array, width: number, height: number): { plane: Uint8Array; width: number; height: number } {
  const hw = width >> 1;
  const hh = height >> 1;
  const out = new Uint8Array(hw * hh);
  for (let y = 0; y < hh; y++) {
    const r0 = 2 * y * width;
    const r1 = r0 + width;
    const o = y * hw;
    for (let x = 0; x < hw; x++) {
      const i = 2 * x;
      out[o + x] = (src[r0 + i]! + src[r0 + i + 1]! + src[r1 + i]! + src[r1 + i + 1]! + 2) >> 2;
    }
  }
  return { plane: out, width: hw, height: hh };
}

/** Bilinear resampling at pixel centres, in 8-bit fixed point. */
function bilinear(src: Uint8Array, sw: number, sh: number, dst: Uint8Array, dw: number, dh: number): void {
  // Per output column: the left source column and the right one's weight (0–256).
  const left = new Int32Array(dw);
  const rightWeight = new Int32Array(dw);
  for (let x = 0; x < dw; x++) {
    const at = Math.min(Math.max(((x + 0.5) * sw) / dw - 0.5, 0), sw - 1);
    const x0 = Math.min(Math.floor(at), Math.max(sw - 2, 0));
    left[x] = x0;
    rightWeight[x] = sw === 1 ? 0 : Math.round((at - x0) * 256);
  }
  const rightStep = sw === 1 ? 0 : 1;
  for (let y = 0; y < dh; y++) {
    const at = Math.min(Math.max(((y + 0.5) * sh) / dh - 0.5, 0), sh - 1);
    const y0 = Math.min(Math.floor(at), Math.max(sh - 2, 0));
    const below = sh === 1 ? 0 : Math.round((at - y0) * 256);
    const above = 256 - below;
    const r0 = y0 * sw;
    const r1 = sh === 1 ? r0 : r0 + sw;
    const o = y * dw;
    for (let x = 0; x < dw; x++) {
      const i = left[x]!;
      const b = rightWeight[x]!;
      const a = 256 - b;
      const top = src[r0 + i]! * a + src[r0 + i + rightStep]! * b;
      const bottom = src[r1 + i]! * a + src[r1 + i + rightStep]! * b;
      dst[o + x] = (top * above + bottom * below + 32768) >> 16;
    }
  }
}
