import { DecodedImage } from './decode';

/**
 * The one definition of how an image becomes the model's input tensor, in two steps:
 *
 *  A. prepareImage (runtime only; training gets its output from `bodyroute dataset export`):
 *     padding pixels → the lowest real value; CT clamped to a HU range (so −2048/−3024
 *     outside the field of view becomes air); area-average resize keeping the aspect ratio
 *     into a size×size canvas; canvas outside the image = NaN.
 *  B. normalizeImage (runtime, and scripts/training/preprocess.py, proven identical by a test):
 *     linear-interpolated percentiles over the non-NaN pixels map to [0, 1], clamped;
 *     MONOCHROME1 inverted; NaN → 0.
 *
 * Training augments between A and B (window/level, intensity, geometry), so the network
 * always sees B's output.
 */
export interface PreprocessParams {
  size: number;
  /** CT values are clamped to this HU range before resizing. */
  ctClampHu: [number, number];
  /** Percentiles (0-100) that map to 0 and 1. */
  percentiles: [number, number];
}

export const DEFAULT_PREPROCESS: PreprocessParams = { size: 128, ctClampHu: [-1024, 3071], percentiles: [0.5, 99.5] };

export interface PreparedImage {
  /** size×size, row-major, NaN outside the image. */
  raw: Float32Array;
  invert: boolean;
}

/** Area-average resampling weights: output j covers source [j·n/m, (j+1)·n/m). Row j lists (index, weight). */
export function areaWeights(n: number, m: number): { index: number; weight: number }[][] {
  const scale = n / m;
  const out: { index: number; weight: number }[][] = [];
  for (let j = 0; j < m; j++) {
    const lo = j * scale;
    const hi = (j + 1) * scale;
    const row: { index: number; weight: number }[] = [];
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 0) row.push({ index: i, weight: overlap / scale });
    }
    out.push(row);
  }
  return out;
}

/** Output size and offset of the image inside the square canvas. */
export function letterbox(rows: number, columns: number, size: number): { height: number; width: number; top: number; left: number } {
  const scale = size / Math.max(rows, columns);
  const height = Math.max(1, Math.min(size, Math.round(rows * scale)));
  const width = Math.max(1, Math.min(size, Math.round(columns * scale)));
  return { height, width, top: Math.floor((size - height) / 2), left: Math.floor((size - width) / 2) };
}

export function prepareImage(img: DecodedImage, p: PreprocessParams): PreparedImage {
  const { rows, columns } = img;
  const n = rows * columns;
  const src = new Float64Array(n);
  let lowest = Number.POSITIVE_INFINITY;
  const isCt = img.modality === 'CT';
  for (let i = 0; i < n; i++) {
    let v = img.values[i];
    if (isCt) v = Math.min(p.ctClampHu[1], Math.max(p.ctClampHu[0], v));
    src[i] = v;
    if (!img.padding?.[i] && v < lowest) lowest = v;
  }
  if (img.padding) {
    if (!Number.isFinite(lowest)) lowest = 0;
    for (let i = 0; i < n; i++) if (img.padding[i]) src[i] = lowest;
  }
  const box = letterbox(rows, columns, p.size);
  const wx = areaWeights(columns, box.width);
  const wy = areaWeights(rows, box.height);
  // separable: columns first (rows × width), then rows
  const tmp = new Float64Array(rows * box.width);
  for (let y = 0; y < rows; y++) {
    const base = y * columns;
    for (let x = 0; x < box.width; x++) {
      let acc = 0;
      for (const { index, weight } of wx[x]) acc += src[base + index] * weight;
      tmp[y * box.width + x] = acc;
    }
  }
  const raw = new Float32Array(p.size * p.size).fill(Number.NaN);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      let acc = 0;
      for (const { index, weight } of wy[y]) acc += tmp[index * box.width + x] * weight;
      raw[(box.top + y) * p.size + box.left + x] = acc;
    }
  }
  return { raw, invert: img.invert };
}

/** numpy-style linear interpolation between closest ranks, on sorted values. */
export function percentileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
}

export function normalizeImage(raw: Float32Array, invert: boolean, p: Pick<PreprocessParams, 'percentiles'>): Float32Array {
  let count = 0;
  for (let i = 0; i < raw.length; i++) if (!Number.isNaN(raw[i])) count++;
  const valid = new Float64Array(count);
  for (let i = 0, k = 0; i < raw.length; i++) if (!Number.isNaN(raw[i])) valid[k++] = raw[i];
  valid.sort();
  const lo = percentileOfSorted(valid, p.percentiles[0]);
  const hi = percentileOfSorted(valid, p.percentiles[1]);
  const range = hi - lo;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (Number.isNaN(v)) continue;
    let t = range > 0 ? (v - lo) / range : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    out[i] = invert ? 1 - t : t;
  }
  return out;
}

/** A then B: the model input for one decoded image. */
export function preprocess(img: DecodedImage, p: PreprocessParams): Float32Array {
  const prepared = prepareImage(img, p);
  return normalizeImage(prepared.raw, prepared.invert, p);
}
