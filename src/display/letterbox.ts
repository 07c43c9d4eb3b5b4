export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest rectangle with the image's aspect ratio that fits the window, centred (black bars elsewhere). */
export function letterbox(imageWidth: number, imageHeight: number, windowWidth: number, windowHeight: number): Rect {
  const scale = Math.min(windowWidth / imageWidth, windowHeight / imageHeight);
  const width = Math.max(1, Math.round(imageWidth * scale));
  const height = Math.max(1, Math.round(imageHeight * scale));
  return { x: Math.floor((windowWidth - width) / 2), y: Math.floor((windowHeight - height) / 2), width, height };
}
