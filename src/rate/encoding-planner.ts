/*
 * How to encode the next frame so the stream fits a bit rate: lower the JPEG
 * quality first, then shrink the picture a step at a time, and only then
 * send fewer frames. JPEG has no keyframes, so each frame can be anything.
 * The frame's size comes from a model fitted to the frames just encoded:
 * bytes ≈ k · pixels · S(q)^−γ, where S is libjpeg's quantiser scale for
 * quality q. γ differs by picture (about 0.4 for a plain one, 0.9 for a
 * grainy one, measured here); a middle value, with k refitted every frame,
 * converges on either within a few frames. Pure: no encoder, no clock.
 */

export interface EncodingCeiling {
  /** --quality: the best quality, used whenever the rate allows. */
  quality: number;
  /** The source's size after --width/--height: never exceeded. */
  width: number;
  height: number;
}

export interface EncodingPlannerOptions {
  /** --min-quality: quality never goes below this; the picture shrinks instead. */
  minQuality: number;
  /** Send at least one frame in this many (the frame rate's floor is fps / maxFrameStride). */
  maxFrameStride: number;
}

export interface EncodingChoice {
  quality: number;
  /** Share of the ceiling's width and height. */
  scale: number;
  width: number;
  height: number;
  /** One frame in `frameStride` is sent; the others are skipped before encoding. */
  frameStride: number;
}

/** Picture sizes tried in turn, as a share of the ceiling's sides. */
export const SCALE_STEPS = [1, 0.75, 0.5, 0.375, 0.25] as const;
export const DEFAULT_MIN_QUALITY = 30;
const DEFAULTS: EncodingPlannerOptions = { minQuality: DEFAULT_MIN_QUALITY, maxFrameStride: 4 };

/** The model's exponent: between the plain and the grainy picture's. */
const GAMMA = 0.7;
/** Going back up a size (or frame rate) needs this many quality points to spare there: no flapping. */
const UP_MARGIN = 8;
/** Weight of the newest frame in the fitted k: smooths one odd frame away, follows a scene cut in a few. */
const FIT_WEIGHT = 0.5;
/** Bytes per pixel at quality 80 for a picture never seen: a detailed camera frame (it is refitted after one frame). */
const FIRST_GUESS_K = 0.16;

/** libjpeg's quantiser scale (percent of the base tables) for quality 1–100. */
export function quantiserScale(quality: number): number {
  const q = Math.min(100, Math.max(1, quality));
  return q < 50 ? 5000 / q : Math.max(1, 200 - 2 * q);
}

/** The quality whose quantiser scale is `scale` (inverse of quantiserScale, continuous). */
function qualityForScale(scale: number): number {
  return scale > 100 ? 5000 / scale : (200 - scale) / 2;
}

export class EncodingPlanner {
  private readonly options: EncodingPlannerOptions;
  /** Fitted k (bytes per pixel at S = 1) per scale step; undefined until a frame at that step was encoded. */
  private readonly fit: (number | undefined)[] = SCALE_STEPS.map(() => undefined);
  private step = 0;
  private stride = 1;

  constructor(
    private readonly ceiling: EncodingCeiling,
    options: Partial<EncodingPlannerOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    if (this.options.minQuality > ceiling.quality) this.options.minQuality = ceiling.quality;
  }

  /**
   * The encoding for the next frame, for `payloadBps` of JPEG bytes (parity,
   * resends and headers already taken out) at `fps`; undefined = no limit.
   */
  choose(payloadBps: number | undefined, fps: number): EncodingChoice {
    if (payloadBps === undefined) {
      this.step = 0;
      this.stride = 1;
      return this.choice(this.ceiling.quality);
    }
    const budget = (stride: number) => (payloadBps / 8 / fps) * stride;
    const { minQuality, maxFrameStride } = this.options;
    // Up first (with margin), one step at a time: fewer skipped frames before a bigger picture.
    if (this.stride > 1 && this.qualityFor(this.step, budget(this.stride - 1)) >= minQuality + UP_MARGIN) this.stride--;
    else if (this.stride === 1 && this.step > 0 && this.qualityFor(this.step - 1, budget(1)) >= minQuality + UP_MARGIN) this.step--;
    // Then down while even the lowest quality does not fit.
    while (this.qualityFor(this.step, budget(this.stride)) < minQuality) {
      if (this.step < SCALE_STEPS.length - 1) this.step++;
      else if (this.stride < maxFrameStride) this.stride++;
      else break;
    }
    const quality = Math.round(Math.min(this.ceiling.quality, Math.max(minQuality, this.qualityFor(this.step, budget(this.stride)))));
    return this.choice(quality);
  }

  /**
   * The picture at full size and frame rate, at the quality that fits
   * `payloadBps` (clamped to 1–the ceiling's): a probe of the path, whose
   * answer the next choices follow. The planner's size and stride are left as they were.
   */
  chooseAtFullSize(payloadBps: number | undefined, fps: number): EncodingChoice {
    const quality = payloadBps === undefined ? this.ceiling.quality : Math.round(Math.min(this.ceiling.quality, Math.max(1, this.qualityFor(0, payloadBps / 8 / fps))));
    return { quality, scale: 1, ...this.size(0), frameStride: 1 };
  }

  /** A frame encoded with `choice` came out `bytes` long: refit the model for its size. */
  encoded(choice: EncodingChoice, bytes: number): void {
    const step = SCALE_STEPS.indexOf(choice.scale as (typeof SCALE_STEPS)[number]);
    if (step < 0 || bytes <= 0) return;
    const k = bytes / (choice.width * choice.height * quantiserScale(choice.quality) ** -GAMMA);
    const previous = this.fit[step];
    this.fit[step] = previous === undefined ? k : previous + FIT_WEIGHT * (k - previous);
  }

  /** The quality (unclamped) at which a frame at `step` would be `bytes` long. */
  private qualityFor(step: number, bytes: number): number {
    const { width, height } = this.size(step);
    const k = this.fit[step] ?? this.guessK(step);
    // bytes = k · pixels · S^−γ  ⇒  S = (k · pixels / bytes)^(1/γ)
    return qualityForScale(((k * width * height) / bytes) ** (1 / GAMMA));
  }

  /**
   * For a size never encoded: between its fitted neighbours (geometric mean:
   * a shrunk picture loses fine detail, so bytes per pixel fall with size),
   * else the nearest fitted one, else a first guess.
   */
  private guessK(step: number): number {
    for (let d = 1; d < SCALE_STEPS.length; d++) {
      const larger = this.fit[step - d];
      const smaller = this.fit[step + d];
      if (larger !== undefined && smaller !== undefined) return Math.sqrt(larger * smaller);
      if (larger !== undefined || smaller !== undefined) return (larger ?? smaller)!;
    }
    return FIRST_GUESS_K * quantiserScale(80) ** GAMMA;
  }

  private size(step: number): { width: number; height: number } {
    const scale = SCALE_STEPS[step]!;
    // Even sides: 4:2:0 chroma halves them; at least 16 pixels.
    const side = (n: number) => Math.max(16, 2 * Math.round((n * scale) / 2));
    return step === 0 ? { width: this.ceiling.width, height: this.ceiling.height } : { width: side(this.ceiling.width), height: side(this.ceiling.height) };
  }

  private choice(quality: number): EncodingChoice {
    return { quality, scale: SCALE_STEPS[this.step]!, ...this.size(this.step), frameStride: this.stride };
  }
}
