import { seriesBodyPartTerm } from '../regions/body-part-terms';
import { isRegion, orderHeadToFoot, Region } from '../regions/region';

/** One image of a series as the labeller sees it. */
export interface SeriesImage {
  /** Position along the slice normal (mm), if the image has a geometry. */
  position?: number;
  instanceNumber?: number;
  scores?: Record<string, number>;
}

export interface SeriesLabel {
  /** Regions the series covers, head to foot. */
  regions: Region[];
  /** Body Part Examined term for the whole series (a composite where DICOM has one). */
  term: string;
  /** Smoothed region of each image, in the order given. */
  perImage: (Region | undefined)[];
}

const WINDOW = 2; // neighbours on each side
const MIN_SHARE = 0.1;

/**
 * Indices of `images` head to foot: by position along the slice normal where every image has one,
 * else by instance number (the arrival order where that is missing too).
 */
export function sliceOrder(images: readonly Pick<SeriesImage, 'position' | 'instanceNumber'>[]): number[] {
  const indices = images.map((_, i) => i);
  if (images.every((im) => im.position !== undefined)) return indices.sort((a, b) => (images[b].position as number) - (images[a].position as number));
  return indices.sort((a, b) => (images[a].instanceNumber ?? a) - (images[b].instanceNumber ?? b));
}

/**
 * Combines image predictions into the series' regions. Anatomy runs without gaps along the
 * patient axis, so each image's scores are summed with its neighbours' (in slice order) before
 * taking the best region: an isolated misclassified slice is outvoted. Regions holding less
 * than a tenth of the images (and fewer than two) are dropped as noise.
 */
export function labelSeries(images: SeriesImage[]): SeriesLabel | undefined {
  const withScores = images.map((im, i) => ({ im, i })).filter((x) => x.im.scores && Object.keys(x.im.scores).length);
  if (withScores.length === 0) return undefined;
  // without an instance number an image keeps its place among all the series' images
  const scored = sliceOrder(withScores.map((x) => ({ position: x.im.position, instanceNumber: x.im.instanceNumber ?? x.i }))).map((k) => withScores[k]);
  // every region scored in the series: a header naming a region the model lacks adds one to some images' scores
  const classes = [...new Set(scored.flatMap((x) => Object.keys(x.im.scores as Record<string, number>)))];
  const perImage: (Region | undefined)[] = images.map(() => undefined);
  const counts = new Map<Region, number>();
  scored.forEach((x, k) => {
    const sum = new Map<string, number>();
    for (let j = Math.max(0, k - WINDOW); j <= Math.min(scored.length - 1, k + WINDOW); j++) {
      for (const c of classes) sum.set(c, (sum.get(c) ?? 0) + ((scored[j].im.scores as Record<string, number>)[c] ?? 0));
    }
    const best = [...sum.entries()].sort((a, b) => b[1] - a[1])[0][0];
    if (isRegion(best)) {
      perImage[x.i] = best;
      counts.set(best, (counts.get(best) ?? 0) + 1);
    }
  });
  if (counts.size === 0) return undefined;
  const n = scored.length;
  const kept = [...counts].filter(([, c]) => c >= 2 || c / n >= MIN_SHARE || counts.size === 1).map(([r]) => r);
  const dominant = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const regions = orderHeadToFoot(kept.length ? kept : [dominant]);
  return { regions, term: seriesBodyPartTerm(regions, dominant), perImage };
}
