import qrcode from "qrcode-generator";

/** A QR code's modules, row by row: true is dark. */
export type QrModules = boolean[][];

/** The URL as a QR code a phone's camera opens (medium error correction: a window's screen photographed at an angle). */
export function qrModules(text: string): QrModules {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  const n = code.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => code.isDark(row, col)));
}
