import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCodecs } from './codecs';
import { decodeForClassification } from './decode';
import { LabelRow, readLabels } from './labels';
import { NpyFloat32Writer } from './npy';
import { PreprocessParams, prepareImage } from './preprocess';

/**
 * `bodyroute dataset export`: runs step A of the runtime preprocessing over a labelled folder
 * and writes what training needs, so the network is trained on exactly what the router computes:
 *   images.npy  float32 [N, size, size], NaN outside the image (step B happens in training)
 *   index.json  one entry per CSV row, in the same order: labels, invert flag, status
 */
export interface ExportEntry extends LabelRow {
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  invert?: boolean;
}

export interface ExportSummary {
  count: number;
  ok: number;
  skipped: number;
  errors: number;
}

export async function exportDataset(opts: { labels: string; images: string; out: string; params: PreprocessParams; onProgress?: (done: number, total: number) => void }): Promise<ExportSummary> {
  await initCodecs();
  const rows = readLabels(opts.labels);
  mkdirSync(opts.out, { recursive: true });
  const size = opts.params.size;
  const npy = new NpyFloat32Writer(join(opts.out, 'images.npy'), [rows.length, size, size]);
  const empty = new Float32Array(size * size).fill(Number.NaN);
  const entries: ExportEntry[] = [];
  const summary: ExportSummary = { count: rows.length, ok: 0, skipped: 0, errors: 0 };
  rows.forEach((row, i) => {
    const entry: ExportEntry = { ...row, status: 'ok' };
    let raw: Float32Array = empty;
    try {
      const outcome = decodeForClassification(readFileSync(join(opts.images, row.file)));
      if (outcome.kind === 'skipped') {
        entry.status = 'skipped';
        entry.reason = outcome.reason;
      } else {
        const prepared = prepareImage(outcome.image, opts.params);
        raw = prepared.raw;
        entry.invert = prepared.invert;
      }
    } catch (err) {
      entry.status = 'error';
      entry.reason = (err as Error).message;
    }
    summary[entry.status === 'ok' ? 'ok' : entry.status === 'skipped' ? 'skipped' : 'errors']++;
    npy.append(raw);
    entries.push(entry);
    if (opts.onProgress && (i + 1) % 1000 === 0) opts.onProgress(i + 1, rows.length);
  });
  npy.close();
  writeFileSync(join(opts.out, 'index.json'), JSON.stringify({ preprocessing: opts.params, entries }) + '\n');
  return summary;
}
