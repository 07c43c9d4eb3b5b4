/** While the sound is about to start, a frame whose time has come is asked about again this often (ms)... */
const START_RECHECK_MS = 5;
/** ...for at most this long after its time: the sound's start is waited for, not a sound that does not start. */
const START_WAIT_MS = 300;

export interface SoundPosition {
  /** When the sound captured with the frame is heard, as queued (undefined: not queued, or long played). */
  heardMs: number | undefined;
  /** Where the shared clock has it (undefined: no sound has come yet). */
  playoutMs: number | undefined;
  /** Sound leads the picture but none of it is queued yet (a starting receiver, busy, its ticks late). */
  startPending: boolean;
}

/**
 * When a frame is to be handed to the window (local ms) so it is seen with
 * its sound: when that sound is heard as queued, else where the clock has
 * it, less the time drawing takes. While the sound is about to start, a
 * frame whose time has come waits for it (asked again shortly): shown by the
 * clock, the first flash was seen before its beep was queued, and apart from
 * it. Undefined: shown at once. Pure.
 */
export function pictureDueMs(sound: SoundPosition, nowMs: number, drawMs: number): number | undefined {
  const atMs = sound.heardMs ?? sound.playoutMs;
  if (atMs === undefined) return undefined;
  if (sound.heardMs === undefined && sound.startPending && atMs - nowMs < START_RECHECK_MS && nowMs - atMs < START_WAIT_MS) return nowMs + START_RECHECK_MS;
  return atMs - drawMs;
}
