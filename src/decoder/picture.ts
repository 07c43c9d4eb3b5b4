import type { RgbaImage } from "./jpeg-decoder.ts";

/** A decoded 4:2:0 picture as SDL's IYUV texture takes it: Y, then U, then V (half size each way, rounded up), rows packed. */
export interface I420Image {
  width: number;
  height: number;
  i420: Uint8Array;
}

/** What a decoder hands the window: YUV planes where the JPEG was 4:2:0 and the window takes them, else RGBA. */
export type Picture = RgbaImage | I420Image;

export const isI420 = (picture: Picture): picture is I420Image => "i420" in picture;

/** The bytes a picture holds (for the presenter's memory bound). */
export const pictureBytes = (picture: Picture): number => (isI420(picture) ? picture.i420.length : picture.rgba.length);
