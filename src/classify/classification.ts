import { Region, UNKNOWN } from '../regions/region';

/** What classifying one object produced. Never an exception: errors are outcomes too. */
export type ClassifyOutcome =
  | ({ kind: 'classified'; sopInstanceUid: string; modality: string; model: string; frameIndex: number; numberOfFrames: number } & Decision & Inference)
  | { kind: 'skipped'; reason: string; sopInstanceUid?: string; modality?: string }
  | { kind: 'error'; message: string };

export type Evidence = 'image' | 'image+header';

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
  scores: Record<string, number>;
  /** What decided: the image alone, or the image with the header's words as a prior. */
  evidence: Evidence;
  /** The image's own best region (before any header prior), for logs and audits. */
  imageRegion: Region;
  /** The regions the header named, when it named any the model knows. */
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

/** The image's scores times the header's prior, renormalised; undefined when the header names no class. */
export function fuseHeader(scores: Record<string, number>, headerRegions: readonly Region[], weight = HEADER_PRIOR_WEIGHT): Record<string, number> | undefined {
  const named = new Set<string>(headerRegions.filter((r) => r in scores));
  if (named.size === 0) return undefined;
  const fused = Object.entries(scores).map(([c, p]) => [c, p * (named.has(c) ? weight : 1)] as const);
  const sum = fused.reduce((a, [, p]) => a + p, 0);
  return Object.fromEntries(fused.map(([c, p]) => [c, p / sum]));
}

/** The best-scoring class (the scores' keys are the model's classes). */
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
  return {
    region: confidence >= unknownThreshold ? top : UNKNOWN,
    confidence,
    scores,
    evidence: fused ? 'image+header' : 'image',
    imageRegion,
    ...(fused && headerRegions ? { headerRegions: headerRegions.filter((r) => r in image) } : {}),
  };
}
