import { Region, UNKNOWN } from '../regions/region';

/** What classifying one object produced. Never an exception: errors are outcomes too. */
export type ClassifyOutcome =
  | ({ kind: 'classified'; sopInstanceUid: string; modality: string; model: string; frameIndex: number; numberOfFrames: number } & Decision & Inference)
  | { kind: 'skipped'; reason: string; sopInstanceUid?: string; modality?: string }
  | { kind: 'error'; message: string };

/**
 * What decided: the pixels alone; the pixels with the header's words as a prior; or the header for a
 * region the model has no class for (the pixels could only have overruled it, and did not).
 */
export type Evidence = 'image' | 'image+header' | 'header';

/**
 * How much more likely a region named by the header is taken to be, a priori, than one it does
 * not name. A header is a prior, not a verdict: an image at 0.95 for one region and 0.01 for
 * the header's overrules it (0.95 vs 0.08), an unsure one (0.5 vs 0.2) follows it. Measured on
 * the cross-source folds with simulated wrong and missing headers (models/README.md).
 */
export const HEADER_PRIOR_WEIGHT = 8;

/** How the model saw the image: for metrics and the status page, never for decisions. */
export interface Inference {
  /** Decode, preprocessing and model run of this image (its share of a batch's run included). */
  inferenceMs?: number;
  /** The preprocessed image the model was given, as 8-bit grayscale, `previewSize` square. */
  preview?: Uint8Array;
  previewSize?: number;
  /** Series sampling: this image was not classified; it carries this neighbour's (SOP Instance UID) outcome. */
  fromNeighbour?: string;
}

/** The region of one image and what decided it. */
export interface Decision {
  /** A vocabulary region, or 'unknown' below the model's calibrated threshold. */
  region: Region | typeof UNKNOWN;
  confidence: number;
  /** Over the model's classes; with header evidence also over a region the header named that the model lacks. */
  scores: Record<string, number>;
  evidence: Evidence;
  /** The image's own best region (before any header prior), for logs and audits. */
  imageRegion: Region;
  /** The regions the header named, when it named any. */
  headerRegions?: Region[];
}

/** Softmax with temperature: the image's scores over the model's classes. */
function imageScores(logits: ArrayLike<number>, classes: readonly Region[], temperature: number): Record<string, number> {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < classes.length; k++) max = Math.max(max, logits[k] / temperature);
  const exps = classes.map((_, k) => Math.exp(logits[k] / temperature - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Object.fromEntries(classes.map((c, k) => [c, exps[k] / sum]));
}

/**
 * The image's scores times the header's prior, renormalised; undefined when the header names no region.
 * A region the header names but the model has no class for (hand, until a training set holds it) gets
 * the image's share of a class it has no opinion on, 1/K, before the prior: the model can neither
 * confirm nor deny it, so the header decides unless the image is sure of something else (1/K × the
 * prior against the image's best score), and decide() does not hold it to the unknown threshold.
 * The scores then have a key for each such region besides the model's classes.
 */
export function fuseHeader(scores: Record<string, number>, headerRegions: readonly Region[], weight = HEADER_PRIOR_WEIGHT): Record<string, number> | undefined {
  const named = new Set<string>(headerRegions);
  if (named.size === 0) return undefined;
  const noOpinion = 1 / Object.keys(scores).length;
  const fused: [string, number][] = Object.entries(scores).map(([c, p]) => [c, p * (named.has(c) ? weight : 1)]);
  for (const r of named) if (!(r in scores)) fused.push([r, noOpinion * weight]);
  const sum = fused.reduce((a, [, p]) => a + p, 0);
  return Object.fromEntries(fused.map(([c, p]) => [c, p / sum]));
}

/** The best-scoring region (the scores' keys: the model's classes, and regions only the header named). */
function best(scores: Record<string, number>): [Region, number] {
  let top: [Region, number] | undefined;
  for (const [c, p] of Object.entries(scores)) if (!top || p > top[1]) top = [c as Region, p];
  if (!top) throw new Error('no scores');
  return top;
}

/** The region (or 'unknown' under the threshold), from the image and, if given, the header's regions. */
export function decide(
  logits: ArrayLike<number>,
  classes: readonly Region[],
  temperature: number,
  unknownThreshold: number,
  headerRegions?: readonly Region[],
  headerWeight = HEADER_PRIOR_WEIGHT,
): Decision {
  const image = imageScores(logits, classes, temperature);
  const [imageRegion] = best(image);
  const fused = headerRegions ? fuseHeader(image, headerRegions, headerWeight) : undefined;
  const scores = fused ?? image;
  const [top, confidence] = best(scores);
  // only the header's fusion adds keys beyond the model's classes
  const headerOnly = !(top in image);
  return {
    // The threshold is calibrated on the model's own scores. A region only the header named has no image
    // score: named alone, its fused share is (w/K) / (1 + w/K) whatever the image (0.31 for w 8, K 18); under a calibrated
    // threshold such as 0.35 it would never be given. Ranking first (the image unsure of all else) is what decides it.
    region: headerOnly || confidence >= unknownThreshold ? top : UNKNOWN,
    confidence,
    scores,
    evidence: !fused ? 'image' : headerOnly ? 'header' : 'image+header',
    imageRegion,
    ...(fused && headerRegions ? { headerRegions: [...new Set(headerRegions)] } : {}),
  };
}
