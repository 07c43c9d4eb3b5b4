import type { QrModules } from "../web/qr-code.ts";
import type { RgbaImage } from "../decoder/jpeg-decoder.ts";
import { loadSharp } from "../native/sharp.ts";

/** DejaVu ships with most Linux desktops; fontconfig picks a near match elsewhere. */
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace";

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

async function rasterize(svg: string): Promise<RgbaImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: data };
}

/** The font size for text drawn into a frame: readable on a 640-wide stream, not huge on a 4K one. */
export function overlayFontSize(frameWidth: number): number {
  return Math.max(11, Math.min(40, Math.round(frameWidth / 60)));
}

/** The stats overlay: lines of white monospace text on a translucent dark panel, sized for a frame `frameWidth` wide. */
export function renderOverlayPanel(lines: string[], frameWidth: number): Promise<RgbaImage> {
  const size = overlayFontSize(frameWidth);
  const lineHeight = Math.round(size * 1.35);
  const pad = Math.round(size * 0.6);
  const longest = Math.max(...lines.map((line) => line.length));
  // Monospace glyphs are about 0.6 em wide.
  const width = Math.min(frameWidth, Math.ceil(longest * size * 0.61) + 2 * pad);
  const height = lines.length * lineHeight + 2 * pad;
  const text = lines
    .map((line, i) => `<text x="${pad}" y="${pad + i * lineHeight + size}">${escapeXml(line)}</text>`)
    .join("");
  return rasterize(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect width="100%" height="100%" rx="${pad}" fill="#000" fill-opacity="0.62"/>` +
      `<g font-family="${MONO}" font-size="${size}" fill="#fff" xml:space="preserve">${text}</g></svg>`,
  );
}

/**
 * A whole-window card: a headline and optional smaller lines, centred on a
 * dark background; with `qr`, that code below them (dark on white, with its
 * quiet zone), as large as fits in the lower part of the card.
 */
export function renderMessageCard(headline: string, detail: string | string[] | undefined, width: number, height: number, qr?: QrModules): Promise<RgbaImage> {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const size = Math.max(12, Math.min(64, Math.round(w / 22)));
  const small = Math.round(size * 0.5);
  const details = detail === undefined ? [] : Array.isArray(detail) ? detail : [detail];
  const textHeight = size * 1.1 + details.length * small * 1.4;
  // With a code the text moves up to make room for it below; a code too small to read is left out.
  const code = qr && qrSvg(qr, w, h, Math.round(h * 0.3) + textHeight);
  const middle = Math.round(code ? h * 0.3 : h / 2);
  const text =
    `<text x="50%" y="${middle}" text-anchor="middle" font-family="${FONT}" font-size="${size}" fill="#eee">${escapeXml(headline)}</text>` +
    details.map((line, i) => `<text x="50%" y="${middle + Math.round(size * 1.1) + i * Math.round(small * 1.4)}" text-anchor="middle" font-family="${FONT}" font-size="${small}" fill="#999">${escapeXml(line)}</text>`).join("");
  return rasterize(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#111"/>${text}${code ?? ""}</svg>`);
}

/** The code centred in the card below `top`, whole modules of at least 2 pixels, or undefined if it does not fit. */
function qrSvg(qr: QrModules, w: number, h: number, top: number): string | undefined {
  const quiet = 4;
  const count = qr.length + 2 * quiet;
  const room = Math.min(w * 0.8, h - top - h * 0.05);
  const module = Math.floor(room / count);
  if (module < 2) return undefined;
  const x0 = Math.round((w - count * module) / 2);
  const y0 = Math.round(top + (h - top - count * module) / 2);
  let path = "";
  qr.forEach((row, r) => row.forEach((dark, c) => {
    if (dark) path += `M${x0 + (c + quiet) * module} ${y0 + (r + quiet) * module}h${module}v${module}h-${module}z`;
  }));
  return `<rect x="${x0}" y="${y0}" width="${count * module}" height="${count * module}" fill="#fff"/><path d="${path}" fill="#000" shape-rendering="crispEdges"/>`;
}
