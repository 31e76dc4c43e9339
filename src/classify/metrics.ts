import { UNCLASSIFIED, UNKNOWN } from '../regions/region';

/** Image-level evaluation, the tables a body-region classification paper reports. Pure functions. */
export interface Prediction {
  truth: string;
  predicted: string; // a region, 'unknown', or 'unclassified' for skipped/error
  /** The best region even when it is under the threshold ('unclassified' for skipped/error). */
  top?: string;
  modality: string;
}

export interface RegionStats {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

export interface EvalReport {
  n: number;
  accuracy: number;
  ci95: [number, number];
  perRegion: Record<string, RegionStats>;
  perModality: Record<string, { n: number; accuracy: number; ci95: [number, number] }>;
  confusion: Record<string, Record<string, number>>;
  /** The same on the images whose true region the model covers. */
  covered: { n: number; accuracy: number; ci95: [number, number] };
  unknownRate: number;
  /** Accuracy with no abstention: the best region of every image, however unsure. */
  top1: number;
  /** Share of images that got a region (not `unknown`, not skipped or unreadable). */
  coverage: number;
  /** Accuracy of the images that got a region. */
  coveredAccuracy: number | null;
}

/** Small deterministic PRNG so confidence intervals are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Percentile bootstrap of the mean of 0/1 outcomes. */
export function bootstrapCi(correct: boolean[], resamples = 2000, seed = 12345): [number, number] {
  const n = correct.length;
  if (n === 0) return [0, 0];
  const rnd = mulberry32(seed);
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) if (correct[Math.floor(rnd() * n)]) s++;
    means.push(s / n);
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * (resamples - 1))], means[Math.ceil(0.975 * (resamples - 1))]];
}

function accuracyOf(ps: Prediction[]): { n: number; accuracy: number; ci95: [number, number] } {
  const correct = ps.map((p) => p.truth === p.predicted);
  return { n: ps.length, accuracy: ps.length ? correct.filter(Boolean).length / ps.length : 0, ci95: bootstrapCi(correct) };
}

export function evaluate(preds: Prediction[], coveredRegions: readonly string[]): EvalReport {
  const overall = accuracyOf(preds);
  const truths = [...new Set(preds.map((p) => p.truth))].sort();
  const predictedLabels = [...new Set(preds.map((p) => p.predicted))].sort();
  const perRegion: Record<string, RegionStats> = {};
  for (const r of [...new Set([...truths, ...coveredRegions])].sort()) {
    const tp = preds.filter((p) => p.truth === r && p.predicted === r).length;
    const support = preds.filter((p) => p.truth === r).length;
    const predicted = preds.filter((p) => p.predicted === r).length;
    const precision = predicted ? tp / predicted : null;
    const recall = support ? tp / support : null;
    const f1 = precision !== null && recall !== null ? (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0) : null;
    perRegion[r] = { precision, recall, f1, support };
  }
  const perModality: EvalReport['perModality'] = {};
  for (const m of [...new Set(preds.map((p) => p.modality))].sort()) perModality[m] = accuracyOf(preds.filter((p) => p.modality === m));
  const confusion: EvalReport['confusion'] = {};
  for (const t of truths) {
    confusion[t] = {};
    for (const p of predictedLabels) confusion[t][p] = preds.filter((x) => x.truth === t && x.predicted === p).length;
  }
  const covered = accuracyOf(preds.filter((p) => coveredRegions.includes(p.truth)));
  const given = preds.filter((p) => p.predicted !== UNKNOWN && p.predicted !== UNCLASSIFIED);
  const share = (k: number) => (preds.length ? k / preds.length : 0);
  return {
    n: overall.n,
    accuracy: overall.accuracy,
    ci95: overall.ci95,
    perRegion,
    perModality,
    confusion,
    covered,
    unknownRate: share(preds.filter((p) => p.predicted === UNKNOWN).length),
    top1: share(preds.filter((p) => (p.top ?? p.predicted) === p.truth).length),
    coverage: share(given.length),
    coveredAccuracy: given.length ? given.filter((p) => p.predicted === p.truth).length / given.length : null,
  };
}

const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);

/** The report as plain-text tables. */
export function formatReport(r: EvalReport, modelLabel: string): string {
  const lines: string[] = [];
  lines.push(`model: ${modelLabel}`);
  lines.push(`images: ${r.n}   accuracy: ${pct(r.accuracy)}  (95% CI ${pct(r.ci95[0])} – ${pct(r.ci95[1])})   unknown: ${pct(r.unknownRate)}`);
  lines.push(`top-1 (no unknown): ${pct(r.top1)}   coverage: ${pct(r.coverage)}   accuracy of covered images: ${pct(r.coveredAccuracy)}`);
  lines.push(
    `on regions the model covers: ${r.covered.n} images, accuracy ${pct(r.covered.accuracy)} (95% CI ${pct(r.covered.ci95[0])} – ${pct(r.covered.ci95[1])})`,
  );
  lines.push('');
  lines.push('region      precision  recall      F1  support');
  for (const [k, s] of Object.entries(r.perRegion))
    lines.push(`${k.padEnd(10)}  ${pct(s.precision)}   ${pct(s.recall)}  ${pct(s.f1)}  ${String(s.support).padStart(7)}`);
  lines.push('');
  lines.push('modality   images  accuracy  95% CI');
  for (const [m, s] of Object.entries(r.perModality))
    lines.push(`${m.padEnd(9)}  ${String(s.n).padStart(6)}  ${pct(s.accuracy)}   ${pct(s.ci95[0])} – ${pct(s.ci95[1])}`);
  lines.push('');
  const cols = [...new Set(Object.values(r.confusion).flatMap((row) => Object.keys(row)))].sort();
  lines.push('confusion (rows: truth, columns: predicted)');
  lines.push(`${''.padEnd(10)} ${cols.map((c) => c.slice(0, 8).padStart(8)).join(' ')}`);
  for (const [t, row] of Object.entries(r.confusion)) lines.push(`${t.padEnd(10)} ${cols.map((c) => String(row[c] ?? 0).padStart(8)).join(' ')}`);
  return lines.join('\n') + '\n';
}
