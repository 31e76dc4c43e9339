import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { summarizeDataset } from '../dicom/header';
import { readFileMeta } from '../dicom/part10';
import { Tags } from '../dicom/tags';
import { slicePosition } from '../dicom/geometry';
import { initCodecs } from '../dicom/codecs';
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
  /** Where the slice lies, so training can rebuild volumes and cut reformats from them. */
  geometry?: SliceGeometry;
}

/** A slice's place in its series: position along the slice normal, in-plane size and spacing. */
export interface SliceGeometry {
  series: string;
  /** mm along row × column of Image Orientation (Patient). */
  position: number;
  orientation: number[];
  /** Pixel Spacing: between rows, between columns (mm). */
  spacing: [number, number];
  rows: number;
  columns: number;
}

const GEOMETRY_TAGS = [Tags.SeriesInstanceUid, Tags.ImagePositionPatient, Tags.ImageOrientationPatient, Tags.PixelSpacing];

function sliceGeometry(file: Buffer, rows: number, columns: number): SliceGeometry | undefined {
  const meta = readFileMeta(file);
  const s = summarizeDataset(file.subarray(meta.datasetOffset), meta.transferSyntaxUid, GEOMETRY_TAGS);
  const series = s.seriesInstanceUid ?? s.values.get(Tags.SeriesInstanceUid);
  const position = slicePosition(s.values.get(Tags.ImagePositionPatient), s.values.get(Tags.ImageOrientationPatient));
  const spacing = (s.values.get(Tags.PixelSpacing) ?? '').split('\\').map(Number);
  const orientation = (s.values.get(Tags.ImageOrientationPatient) ?? '').split('\\').map(Number);
  if (!series || position === undefined || spacing.length !== 2 || !spacing.every((v) => v > 0)) return undefined;
  return { series, position, orientation, spacing: [spacing[0], spacing[1]], rows, columns };
}

export interface ExportSummary {
  count: number;
  ok: number;
  skipped: number;
  errors: number;
}

export async function exportDataset(opts: {
  labels: string;
  images: string;
  out: string;
  params: PreprocessParams;
  onProgress?: (done: number, total: number) => void;
}): Promise<ExportSummary> {
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
      // an absolute path (extra labels, `bodyroute dataset corrections`) stands as it is
      const bytes = readFileSync(resolve(opts.images, row.file));
      const outcome = decodeForClassification(bytes);
      if (outcome.kind === 'skipped') {
        entry.status = 'skipped';
        entry.reason = outcome.reason;
      } else {
        const prepared = prepareImage(outcome.image, opts.params);
        raw = prepared.raw;
        entry.invert = prepared.invert;
        entry.geometry = sliceGeometry(bytes, outcome.image.rows, outcome.image.columns);
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
