import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WorkerPoolClassifier } from '../classify/classifier';
import { readLabels } from '../classify/labels';
import { modelLabel } from '../classify/manifest';
import { evaluate, formatReport, Prediction } from '../classify/metrics';
import { classifyAll, DEFAULT_MODEL } from './classify';

export const EVAL_HELP = `bodyroute eval --labels CSV --images DIR [--json FILE] [--model MANIFEST] [--threads N]
  Classifies the labelled images (CSV columns: file or path, relative to DIR; region; optional modality)
  and prints image-level accuracy with a 95% bootstrap CI, per-region precision/recall/F1,
  per-modality accuracy and the confusion matrix.`;

export async function evalCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { labels: { type: 'string' }, images: { type: 'string' }, json: { type: 'string' }, model: { type: 'string' }, threads: { type: 'string' } },
    strict: true,
  });
  if (!values.labels || !values.images) {
    process.stderr.write(`${EVAL_HELP}\n`);
    return 2;
  }
  const rows = readLabels(values.labels);
  const classifier = await WorkerPoolClassifier.create({ manifestPath: values.model ?? DEFAULT_MODEL, device: 'cpu', threads: Number(values.threads ?? 1), workers: 1, maxBatch: 32 });
  const preds: Prediction[] = [];
  let skipped = 0;
  let errors = 0;
  try {
    const files = rows.map((r) => join(values.images as string, r.file));
    let i = 0;
    await classifyAll(classifier, files, (_file, o) => {
      const row = rows[i++];
      if (o.kind === 'skipped') skipped++;
      if (o.kind === 'error') errors++;
      preds.push({ truth: row.region, predicted: o.kind === 'classified' ? o.region : 'unclassified', modality: (o.kind === 'classified' ? o.modality : row.modality ?? '').toUpperCase() || '?' });
    });
  } finally {
    await classifier.close();
  }
  const report = evaluate(preds, classifier.manifest.classes);
  process.stdout.write(formatReport(report, modelLabel(classifier.manifest)));
  if (skipped || errors) process.stdout.write(`\n${skipped} skipped and ${errors} unreadable images count as wrong ("unclassified").\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ model: modelLabel(classifier.manifest), ...report, skipped, errors }, null, 2) + '\n');
  return 0;
}
