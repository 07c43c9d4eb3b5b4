import type { RecordedPicture, RecordedSound } from "./matroska-timeline.ts";
import { MjpegRecorder } from "./mjpeg-recorder.ts";
import { MkvRecorder } from "./mkv-recorder.ts";

/** Where `receive --record FILE` puts what it shows and plays. */
export interface Recorder {
  readonly framesWritten: number;
  readonly soundPacketsWritten: number;
  addPicture(picture: RecordedPicture): void;
  addSound(sound: RecordedSound): void;
  close(): Promise<void>;
}

/** FILE.mkv: picture and sound in Matroska (by ffmpeg, nothing re-encoded); any other name: the shown JPEGs back to back (MJPEG), as before sound. */
export function openRecorder(path: string): Recorder {
  return /\.mkv$/i.test(path) ? MkvRecorder.open(path) : MjpegRecorder.open(path);
}
