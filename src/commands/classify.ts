import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassifyOutcome } from '../classify/classification';
import { WorkerPoolClassifier } from '../classify/classifier';
import { SHIPPED_MODEL } from '../config/load';
import { ExitCode } from './exit-code';

export const DEFAULT_MODEL = SHIPPED_MODEL;

export const CLASSIFY_HELP = `bodyroute classify [--json] [--image-only] [--reduced-jpeg2000] [--model MANIFEST] [--threads N] (PATH... | --files-from FILE|-)
  Classifies every DICOM file under the paths; one result per image (the middle frame of a multi-frame object).
  --files-from   read the paths, one per line, from FILE or standard input (-)
  --image-only   pixels alone: the header's words (Body Part Examined, descriptions, protocol) are not used
  --reduced-jpeg2000  decode JPEG 2000 at the resolution level nearest the model's input (classifier.jpeg2000: reduced)`;

/** Files under the given paths, depth first, in name order; paths that cannot be read, with the reason. */
function walkFiles(paths: string[]): { files: string[]; unreadable: { path: string; reason: string }[] } {
  const files: string[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  const visit = (p: string) => {
    try {
      const st = statSync(p);
      if (st.isDirectory()) for (const name of readdirSync(p).sort()) visit(join(p, name));
      else if (st.isFile()) files.push(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      unreadable.push({ path: p, reason: code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message });
    }
  };
  for (const p of paths) visit(p);
  return { files, unreadable };
}

function outcomeJson(file: string, o: ClassifyOutcome): Record<string, unknown> {
  if (o.kind === 'classified') {
    return {
      file,
      sopInstanceUid: o.sopInstanceUid,
      modality: o.modality,
      region: o.region,
      confidence: Number(o.confidence.toFixed(4)),
      evidence: o.evidence,
      imageRegion: o.imageRegion,
      ...(o.headerRegions ? { headerRegions: o.headerRegions } : {}),
      scores: Object.fromEntries(Object.entries(o.scores).map(([k, v]) => [k, Number(v.toFixed(4))])),
    };
  }
  if (o.kind === 'skipped') return { file, skipped: o.reason };
  return { file, error: o.message };
}

/** Classifies many files with a bounded number in flight, in input order. */
export async function classifyAll(
  classifier: WorkerPoolClassifier,
  files: string[],
  onResult: (file: string, o: ClassifyOutcome) => void,
  window = 64,
): Promise<void> {
  const pending: Promise<ClassifyOutcome>[] = [];
  let next = 0;
  for (let i = 0; i < files.length; i++) {
    while (next < files.length && next < i + window) pending[next] = classifier.classify(files[next++]);
    onResult(files[i], await pending[i]);
    delete pending[i];
  }
}

/**
 * onnxruntime crashes (SIGSEGV) when it creates a session in a worker thread of a process whose
 * command line is longer than about 16 KB; a shell glob over a study folder easily is. Above this
 * length the command runs itself again with the paths on standard input.
 */
const LONG_COMMAND_LINE = 8 * 1024;

function readPathList(from: string): string[] {
  return readFileSync(from === '-' ? 0 : from, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
}

/** The same command in a child process whose command line holds no paths. */
function runWithPathsOnStdin(options: string[], paths: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'classify', ...options, '--files-from', '-'], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    child.stdin.end(paths.join('\n') + '\n');
    child.on('exit', (code, signal) => resolve(code ?? (signal ? ExitCode.Failure : ExitCode.Ok)));
  });
}

export async function classifyCommand(args: string[]): Promise<number> {
  const { values, positionals: given } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      'image-only': { type: 'boolean', default: false },
      'reduced-jpeg2000': { type: 'boolean', default: false },
      model: { type: 'string' },
      threads: { type: 'string' },
      device: { type: 'string' },
      'files-from': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const positionals = values['files-from'] ? [...given, ...readPathList(values['files-from'])] : given;
  if (!values['files-from'] && given.join(' ').length > LONG_COMMAND_LINE) {
    const options = [
      ...(values.json ? ['--json'] : []),
      ...(values['image-only'] ? ['--image-only'] : []),
      ...(values['reduced-jpeg2000'] ? ['--reduced-jpeg2000'] : []),
      ...(['model', 'threads', 'device'] as const).flatMap((k) => (values[k] !== undefined ? [`--${k}`, values[k] as string] : [])),
    ];
    return runWithPathsOnStdin(options, given);
  }
  if (positionals.length === 0) {
    process.stderr.write(`${CLASSIFY_HELP}\n`);
    return ExitCode.Usage;
  }
  const { files, unreadable } = walkFiles(positionals);
  const classifier = await WorkerPoolClassifier.create({
    manifestPath: values.model ?? DEFAULT_MODEL,
    device: (values.device as 'cpu' | 'cuda' | 'auto' | undefined) ?? 'cpu',
    threads: Number(values.threads ?? 1),
    workers: 1,
    maxBatch: 16,
    useHeaders: !values['image-only'],
    jpeg2000: values['reduced-jpeg2000'] ? 'reduced' : 'full',
  });
  const width = Math.min(60, Math.max(4, ...files.map((f) => f.length)));
  if (!values.json) process.stdout.write(`${'FILE'.padEnd(width)}  MOD  ${'REGION'.padEnd(9)}  CONF   EVIDENCE\n`);
  let errors = unreadable.length;
  for (const u of unreadable) {
    // a bad path never stops the run: said where the results go, like an unreadable file
    if (values.json) process.stdout.write(JSON.stringify({ file: u.path, error: u.reason }) + '\n');
    else process.stdout.write(`${u.path}  error: ${u.reason}\n`);
  }
  try {
    await classifyAll(classifier, files, (file, o) => {
      if (o.kind === 'error') errors++;
      if (values.json) {
        process.stdout.write(JSON.stringify(outcomeJson(file, o)) + '\n');
        return;
      }
      const name = file.length > width ? '…' + file.slice(file.length - width + 1) : file.padEnd(width);
      if (o.kind === 'classified') process.stdout.write(`${name}  ${o.modality.padEnd(3)}  ${o.region.padEnd(9)}  ${o.confidence.toFixed(3)}  ${o.evidence}\n`);
      else if (o.kind === 'skipped') process.stdout.write(`${name}  ${(o.modality ?? '-').padEnd(3)}  ${'-'.padEnd(9)}  skipped: ${o.reason}\n`);
      else process.stdout.write(`${name}  ${'-'.padEnd(3)}  ${'-'.padEnd(9)}  error: ${o.message}\n`);
    });
  } finally {
    await classifier.close();
  }
  return errors > 0 ? ExitCode.Failure : ExitCode.Ok;
}
