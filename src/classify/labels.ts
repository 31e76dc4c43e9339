import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** A labelled image: `file` relative to the images folder, its region, and whatever else the CSV has. */
export interface LabelRow {
  file: string;
  region: string;
  modality?: string;
  subject?: string;
  source?: string;
  fields: Record<string, string>;
}

/** Reads a labels CSV with a header: `file` (or `path`) and `region` are required. */
export function readLabels(csvPath: string): LabelRow[] {
  const records = parse(readFileSync(csvPath, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  if (records.length === 0) return [];
  const first = records[0];
  const fileKey = 'file' in first ? 'file' : 'path' in first ? 'path' : undefined;
  if (!fileKey) throw new Error(`${csvPath}: needs a "file" (or "path") column`);
  if (!('region' in first)) throw new Error(`${csvPath}: needs a "region" column`);
  return records.map((r) => ({ file: r[fileKey], region: r.region.toLowerCase(), modality: r.modality, subject: r.subject, source: r.source, fields: r }));
}
