import { parseArgs } from 'node:util';
import { exportDataset } from '../classify/dataset-export';
import { DEFAULT_PREPROCESS } from '../classify/preprocess';
import { ExitCode } from './exit-code';

export const DATASET_EXPORT_HELP = `bodyroute dataset export --labels CSV --images DIR --out DIR [--size N]
  Runs the runtime preprocessing (step A) over labelled images for training: writes
  OUT/images.npy (float32 [N, size, size]) and OUT/index.json. CSV columns: file (or path), region, ...`;

export async function datasetExport(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { labels: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' }, size: { type: 'string' } },
    strict: true,
  });
  if (!values.labels || !values.images || !values.out) {
    process.stderr.write(`${DATASET_EXPORT_HELP}\n`);
    return ExitCode.Usage;
  }
  const params = { ...DEFAULT_PREPROCESS, size: values.size ? Number(values.size) : DEFAULT_PREPROCESS.size };
  const started = Date.now();
  const s = await exportDataset({
    labels: values.labels,
    images: values.images,
    out: values.out,
    params,
    onProgress: (done, total) => process.stderr.write(`  ${done}/${total}\n`),
  });
  process.stderr.write(
    `exported ${s.count} rows (${s.ok} images, ${s.skipped} skipped, ${s.errors} errors) in ${((Date.now() - started) / 1000).toFixed(1)} s to ${values.out}\n`,
  );
  return s.errors > 0 ? 1 : 0;
}
