import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * External programs the interop tests need. In CI a missing tool fails the test
 * (scripts/install-test-deps.sh must have installed it); on a developer machine the
 * test is skipped with a message saying what to install.
 */
export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function requireTools(ctx: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return;
  const msg = `missing ${missing.join(', ')}: run scripts/install-test-deps.sh`;
  if (process.env.CI) throw new Error(msg);

  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** DCMTK and Orthanc from Debian run with Nagle's algorithm unless told otherwise. */
export const PEER_ENV = { ...process.env, TCP_NODELAY: '1' };

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env: PEER_ENV, encoding: 'latin1', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function datasetLines(dump: string): string[] {
  return dump
    .split('\n')
    .filter((l) => l.startsWith('(') && !l.startsWith('(0002,'))
    .map((l) => l.replace(/\s+#.*$/, '').trimEnd());
}

/** Resolves once `path` exists and is not empty (a folder destination writes atomically, so then it is whole). */
export function waitForFile(what: string, path: string, timeoutMs = 20000): Promise<true> {
  return waitFor(
    what,
    () => {
      try {
        return statSync(path).size > 0;
      } catch {
        return false;
      }
    },
    timeoutMs,
  );
}

/** How many .dcm files lie anywhere under `dir` (0 while it does not exist). */
export function dicomFilesUnder(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.dcm')).length;
  } catch {
    return 0;
  }
}

/** dcmdump of the dataset only (file meta group 0002 dropped), one line per element. */
export function dumpDataset(path: string): string[] {
  return datasetLines(run('dcmdump', ['-q', '-dc', path]));
}

/** dumpDataset for many files, a hundred per dcmdump run. */
export function dumpDatasets(paths: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < paths.length; i += 100) {
    const batch = paths.slice(i, i + 100);
    const dumps = run('dcmdump', ['-q', '-dc', ...batch])
      .split('# Dicom-File-Format')
      .slice(1);
    if (dumps.length !== batch.length) throw new Error(`dcmdump printed ${dumps.length} dumps for ${batch.length} files`);
    batch.forEach((p, k) => out.set(p, datasetLines(dumps[k])));
  }
  return out;
}

/** Debian's python3 (with python3-numpy / python3-torch), which is not always first on PATH. */
export const PYTHON = process.env.BODYROUTE_PYTHON ?? (haveTool('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export function requirePythonModules(ctx: Mocha.Context, ...modules: string[]): void {
  const ok = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' }).status === 0;
  if (ok) return;
  const msg = `${PYTHON} lacks ${modules.join(', ')}: run scripts/install-test-deps.sh`;
  if (process.env.CI) throw new Error(msg);

  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}

/** The shared training images (never copied into the repository): ../shared/data/bodyregion-train. */
export const SHARED_DATA = process.env.BODYROUTE_SHARED_DATA ?? join(__dirname, '..', '..', '..', '..', 'shared', 'data', 'bodyregion-train');

export function requireSharedData(ctx: Mocha.Context): void {
  if (existsSync(join(SHARED_DATA, 'manifest.csv'))) return;
  const msg = `no real images at ${SHARED_DATA} (set BODYROUTE_SHARED_DATA)`;
  if (process.env.CI) throw new Error(msg);

  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}
