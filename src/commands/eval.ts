import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassifyOutcome } from '../classify/classification';
import { WorkerPoolClassifier } from '../classify/classifier';
import { readLabels } from '../classify/labels';
import { modelLabel } from '../classify/manifest';
import { evaluate, formatReport, Prediction } from '../classify/metrics';
import { evaluateSeries, SeriesEvalImage } from './series-eval';
import { summarizeDataset } from '../dicom/header';
import { readFileMeta } from '../dicom/part10';
import { Tags } from '../dicom/tags';
import { classifyAll, DEFAULT_MODEL } from './classify';
import { ExitCode } from './exit-code';
import { UNCLASSIFIED } from '../regions/region';

export const EVAL_HELP = `bodyroute eval --labels CSV --images DIR [--json FILE] [--model MANIFEST] [--threads N] [--image-only] [--reduced-jpeg2000] [--series]
  Classifies the labelled images (CSV columns: file or path, relative to DIR; region; optional modality)
  and prints image-level accuracy with a 95% bootstrap CI (unknown counts as wrong), top-1 with no
  abstention, coverage and the accuracy of the covered images, per-region precision/recall/F1,
  per-modality accuracy and the confusion matrix.
  --image-only   pixels alone (no header evidence)
  --reduced-jpeg2000  decode JPEG 2000 at the resolution level nearest the model's input (classifier.jpeg2000: reduced)
  --series       also group the images by Series Instance UID, label each series as series mode does
                 and report series-level accuracy and image-level accuracy after smoothing, and how
                 often series.classify: sampled gives the same series label while classifying fewer slices`;

const SERIES_TAGS = [Tags.SeriesInstanceUid, Tags.InstanceNumber, Tags.ImagePositionPatient, Tags.ImageOrientationPatient];

/** Where an image sits in its series (for --series); empty when the file cannot be read. */
function seriesFacts(path: string): Omit<SeriesEvalImage, 'truth' | 'scores'> {
  try {
    const bytes = readFileSync(path);
    const meta = readFileMeta(bytes);
    const s = summarizeDataset(bytes.subarray(meta.datasetOffset), meta.transferSyntaxUid, SERIES_TAGS);
    const instance = Number(s.values.get(Tags.InstanceNumber));
    return {
      seriesInstanceUid: s.seriesInstanceUid ?? s.values.get(Tags.SeriesInstanceUid),
      imagePosition: s.values.get(Tags.ImagePositionPatient),
      imageOrientation: s.values.get(Tags.ImageOrientationPatient),
      instanceNumber: Number.isFinite(instance) ? instance : undefined,
    };
  } catch {
    return {};
  }
}

function topRegion(o: ClassifyOutcome): string {
  if (o.kind !== 'classified') return UNCLASSIFIED;
  return Object.entries(o.scores).sort((a, b) => b[1] - a[1])[0][0];
}

export async function evalCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      labels: { type: 'string' },
      images: { type: 'string' },
      json: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      'image-only': { type: 'boolean', default: false },
      'reduced-jpeg2000': { type: 'boolean', default: false },
      series: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.labels || !values.images) {
    process.stderr.write(`${EVAL_HELP}\n`);
    return ExitCode.Usage;
  }
  const rows = readLabels(values.labels);
  const useHeaders = !values['image-only'];
  const classifier = await WorkerPoolClassifier.create({
    manifestPath: values.model ?? DEFAULT_MODEL,
    device: 'cpu',
    threads: Number(values.threads ?? 1),
    workers: 1,
    maxBatch: 32,
    useHeaders,
    jpeg2000: values['reduced-jpeg2000'] ? 'reduced' : 'full',
  });
  const preds: Prediction[] = [];
  const seriesImages: SeriesEvalImage[] = [];
  let skipped = 0;
  let errors = 0;
  let decidedWithHeader = 0;
  try {
    const files = rows.map((r) => join(values.images as string, r.file));
    let i = 0;
    await classifyAll(classifier, files, (file, o) => {
      const row = rows[i++];
      if (o.kind === 'skipped') skipped++;
      if (o.kind === 'error') errors++;
      if (o.kind === 'classified' && o.evidence !== 'image') decidedWithHeader++;
      preds.push({
        truth: row.region,
        predicted: o.kind === 'classified' ? o.region : UNCLASSIFIED,
        top: topRegion(o),
        modality: (o.kind === 'classified' ? o.modality : (row.modality ?? '')).toUpperCase() || '?',
      });
      if (values.series) seriesImages.push({ ...seriesFacts(file), truth: row.region, scores: o.kind === 'classified' ? o.scores : undefined });
    });
  } finally {
    await classifier.close();
  }
  const report = evaluate(preds, classifier.manifest.classes);
  const evidence = useHeaders ? `image + header (${decidedWithHeader} of ${preds.length} images had header evidence)` : 'image only';
  process.stdout.write(`evidence: ${evidence}\n`);
  process.stdout.write(formatReport(report, modelLabel(classifier.manifest)));
  const series = values.series ? await evaluateSeries(seriesImages) : undefined;
  if (series) {
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    process.stdout.write(
      `\nseries: ${series.series}   series accuracy: ${pct(series.seriesAccuracy)}   image accuracy after smoothing: ${pct(series.smoothedImageAccuracy)}` +
        (series.imagesWithoutSeries ? `   (${series.imagesWithoutSeries} images without a series or a result count as wrong)` : '') +
        `\nseries.classify sampled: same series label as classifying every slice for ${series.sampling.sameLabel} of ${series.sampling.series} series, ${pct(series.sampling.classifiedShare)} of the slices classified\n`,
    );
  }
  if (skipped || errors) process.stdout.write(`\n${skipped} skipped and ${errors} unreadable images count as wrong ("unclassified").\n`);
  if (values.json) {
    const doc = {
      model: modelLabel(classifier.manifest),
      evidence: useHeaders ? 'image+header' : 'image',
      imagesWithHeaderEvidence: decidedWithHeader,
      ...report,
      skipped,
      errors,
      ...(series ? { series } : {}),
    };
    writeFileSync(values.json, JSON.stringify(doc, null, 2) + '\n');
  }
  return ExitCode.Ok;
}
