import { slicePosition } from '../dicom/geometry';
import { sampleSeries } from '../classify/series-sampling';
import { labelSeries, sliceOrder } from '../tag/series-label';

/**
 * `eval --series`: the test images grouped by Series Instance UID and labelled the way series
 * mode labels them (slice-order smoothing), so that series-level accuracy and the image-level
 * accuracy after smoothing sit next to the per-image figures.
 */
export interface SeriesEvalImage {
  seriesInstanceUid?: string;
  imagePosition?: string;
  imageOrientation?: string;
  instanceNumber?: number;
  truth: string;
  scores?: Record<string, number>;
}

export interface SeriesEvalReport {
  series: number;
  /** Series whose dominant smoothed region is the region most of its images truly show. */
  seriesAccuracy: number;
  /** Images (in series with a label) whose smoothed region is right, over all images given. */
  smoothedImageAccuracy: number;
  /** Images without a Series Instance UID or without scores (skipped, unreadable): counted wrong above. */
  imagesWithoutSeries: number;
  /** series.classify: sampled against all: series whose label (regions) is the same, and the share of slices classified. */
  sampling: { sameLabel: number; series: number; classifiedShare: number };
}

function majority<T>(values: T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

export async function evaluateSeries(images: SeriesEvalImage[]): Promise<SeriesEvalReport> {
  const bySeries = new Map<string, SeriesEvalImage[]>();
  let without = 0;
  for (const im of images) {
    if (!im.seriesInstanceUid || !im.scores) {
      without++;
      continue;
    }
    const list = bySeries.get(im.seriesInstanceUid) ?? [];
    list.push(im);
    bySeries.set(im.seriesInstanceUid, list);
  }
  let rightSeries = 0;
  let rightImages = 0;
  let sameLabel = 0;
  let classified = 0;
  let sampledImages = 0;
  for (const list of bySeries.values()) {
    const seriesImages = list.map((im) => ({
      position: slicePosition(im.imagePosition, im.imageOrientation),
      instanceNumber: im.instanceNumber,
      scores: im.scores,
    }));
    const label = labelSeries(seriesImages);
    // what series mode would have labelled classifying a sample (classification is deterministic: its results are these)
    const order = sliceOrder(seriesImages);
    const sampled = await sampleSeries(
      order.length,
      async (k) => seriesImages[order[k]].scores as Record<string, number>,
      (scores) => top(scores),
    );
    const sampledImagesInOrder = order.map((at, k) => ({ ...seriesImages[at], scores: sampled.results[k] }));
    const sampledLabel = labelSeries(sampledImagesInOrder);
    if (JSON.stringify(sampledLabel?.regions) === JSON.stringify(label?.regions)) sameLabel++;
    classified += sampled.classified;
    sampledImages += list.length;
    if (!label) continue;
    list.forEach((im, i) => {
      if (label.perImage[i] === im.truth) rightImages++;
    });
    const smoothed = label.perImage.filter((r): r is NonNullable<typeof r> => r !== undefined);
    if (smoothed.length && majority(smoothed) === majority(list.map((im) => im.truth))) rightSeries++;
  }
  return {
    series: bySeries.size,
    seriesAccuracy: bySeries.size ? rightSeries / bySeries.size : 0,
    smoothedImageAccuracy: images.length ? rightImages / images.length : 0,
    imagesWithoutSeries: without,
    sampling: { sameLabel, series: bySeries.size, classifiedShare: sampledImages ? classified / sampledImages : 0 },
  };
}

function top(scores: Record<string, number>): string {
  return Object.entries(scores).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}
