/**
 * Which slices of a series to classify when the routing decision is per series (series mode,
 * `series.classify: sampled`): a 500-slice CT holds a few region boundaries, not 500 decisions.
 * Slices are taken in position order at a stride, then only between neighbours that disagree,
 * halving the gap until the boundary lies between adjacent slices; every slice in between takes
 * the result of its nearest classified neighbour.
 */

/** Series this short are classified whole. */
const CLASSIFY_ALL_UP_TO = 12;
/** About this many slices are taken at the stride, before refinement. */
const STRIDE_SAMPLES = 12;

export interface SampledSeries<T> {
  /** One result per slice, in the order given: its own, or its nearest classified neighbour's. */
  results: T[];
  /** For each slice, the index of the slice whose classification it carries (itself when classified). */
  sourceOf: number[];
  /** How many slices were classified. */
  classified: number;
}

/**
 * `count` slices in position order; `classify(i)` classifies slice i; `decision(t)` is what
 * neighbours must agree on (the region, or the kind of a non-result). `usable(t)` says whether a
 * result may stand for unclassified neighbours (an undecodable slice should not).
 */
export async function sampleSeries<T>(
  count: number,
  classify: (index: number) => Promise<T>,
  decision: (t: T) => string,
  usable: (t: T) => boolean = () => true,
): Promise<SampledSeries<T>> {
  const done = new Map<number, T>();
  const run = async (indices: number[]) => {
    const fresh = [...new Set(indices)].filter((i) => !done.has(i));
    const results = await Promise.all(fresh.map((i) => classify(i)));
    fresh.forEach((i, k) => done.set(i, results[k]));
  };
  if (count <= CLASSIFY_ALL_UP_TO) {
    await run(Array.from({ length: count }, (_, i) => i));
  } else {
    const stride = Math.ceil((count - 1) / STRIDE_SAMPLES);
    const first: number[] = [];
    for (let i = 0; i < count - 1; i += stride) first.push(i);
    first.push(count - 1);
    await run(first);
    // refine every gap whose ends disagree, all gaps of a round at once (the classifier batches them)
    let gaps = pairs(first);
    while (gaps.length) {
      const open = gaps.filter(([a, b]) => b - a > 1 && decision(done.get(a) as T) !== decision(done.get(b) as T));
      const middles = open.map(([a, b]) => Math.floor((a + b) / 2));
      await run(middles);
      gaps = open.flatMap(([a, b], k) => [
        [a, middles[k]],
        [middles[k], b],
      ]);
    }
  }
  const classifiedIndices = [...done.keys()].sort((a, b) => a - b);
  const sourceOf = Array.from({ length: count }, (_, i) => (done.has(i) ? i : nearest(i, classifiedIndices, (j) => usable(done.get(j) as T))));
  return { results: sourceOf.map((j) => done.get(j) as T), sourceOf, classified: done.size };
}

function pairs(sorted: number[]): [number, number][] {
  return sorted.slice(1).map((b, k) => [sorted[k], b]);
}

/** The closest classified index to i (the earlier one on a tie), preferring usable results. */
function nearest(i: number, classified: number[], usable: (j: number) => boolean): number {
  const byDistance = [...classified].sort((a, b) => Math.abs(a - i) - Math.abs(b - i) || a - b);
  return byDistance.find(usable) ?? byDistance[0];
}
