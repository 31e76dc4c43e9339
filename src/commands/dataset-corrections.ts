import { closeSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { summarizeDataset } from '../dicom/header';
import { readFileMeta } from '../dicom/part10';
import { isRegion } from '../regions/region';
import { csvField } from '../review/corrections';
import { ExitCode } from './exit-code';

export const DATASET_CORRECTIONS_HELP = `bodyroute dataset corrections --corrections CSV --archive DIR --out CSV
  Turns the label corrections operators made on the status page (<spool>/corrections.csv) into
  training labels for the objects a folder destination archived: one row per archived file whose
  SOP Instance UID (or whole series) was corrected, with its absolute path, the corrected region,
  modality, subject (its study) and group "local-corrections". Pass the result to
  \`npm run train -- --extra-labels CSV\` (models/README.md, "Retrain on your own corrected archive").`;

const HEAD_BYTES = 256 * 1024;

export async function datasetCorrections(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { corrections: { type: 'string' }, archive: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!values.corrections || !values.archive || !values.out) {
    process.stderr.write(`${DATASET_CORRECTIONS_HELP}\n`);
    return ExitCode.Usage;
  }
  const records = parse(readFileSync(values.corrections, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  // later corrections win; a row without a SOP Instance UID stands for its whole series
  const byInstance = new Map<string, string>();
  const bySeries = new Map<string, string>();
  for (const r of records) {
    if (!isRegion(r.correctedRegion ?? '')) continue;
    if (r.sopInstanceUid) byInstance.set(r.sopInstanceUid, r.correctedRegion);
    else if (r.seriesInstanceUid) bySeries.set(r.seriesInstanceUid, r.correctedRegion);
  }
  const rows: string[] = ['file,region,modality,subject,group,source'];
  let scanned = 0;
  for (const file of walk(resolve(values.archive))) {
    const head = readHead(file);
    let summary;
    try {
      const meta = readFileMeta(head);
      summary = summarizeDataset(head.subarray(meta.datasetOffset), meta.transferSyntaxUid);
    } catch {
      continue; // not a Part-10 file: the archive may hold others
    }
    scanned++;
    const region = byInstance.get(summary.sopInstanceUid ?? '') ?? bySeries.get(summary.seriesInstanceUid ?? '');
    if (!region) continue;
    rows.push([file, region, summary.modality ?? '', summary.studyInstanceUid ?? '', 'local-corrections', 'corrections.csv'].map(csvField).join(','));
  }
  writeFileSync(values.out, rows.join('\n') + '\n');
  process.stderr.write(`${rows.length - 1} corrected image(s) of ${scanned} archived, from ${records.length} correction row(s), written to ${values.out}\n`);
  return ExitCode.Ok;
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}
