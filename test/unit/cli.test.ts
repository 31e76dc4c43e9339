import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');
const PKG = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('cli', () => {
  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).to.equal(0);
    expect(r.stdout.trim()).to.equal(PKG.version);
  });

  it('--help lists serve and exits 0', () => {
    const r = cli('--help');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/bodyroute serve \[--config FILE\]/);
  });

  it('an unknown command is a usage error (2)', () => {
    expect(cli('frobnicate').status).to.equal(2);
    expect(cli('serve', '--nonsense').status).to.equal(2);
  });

  it('an invalid config stops start-up with exit 3 and names the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      const f = join(dir, 'bad.yaml');
      writeFileSync(f, 'listen: { port: 104, colour: blue }\ndestinations: [{ name: a, type: folder, path: x }]\nroutes: [{ to: [a] }]\n');
      const r = cli('serve', '--config', f);
      expect(r.status).to.equal(3);
      expect(r.stderr).to.match(/listen: unknown key\(s\) "colour"/);
      expect(cli('serve', '--config', join(dir, 'missing.yaml')).status).to.equal(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every command answers --help with its own usage', () => {
    for (const [args, usage] of [
      [['serve', '--help'], /^bodyroute serve \[--config FILE\]/],
      [['classify', '--help'], /^bodyroute classify \[--json\] \[--image-only\]/],
      [['eval', '-h'], /^bodyroute eval --labels CSV/],
      [['dataset', 'export', '--help'], /^bodyroute dataset export/],
      [['requeue', '--help'], /^bodyroute requeue/],
    ] as [string[], RegExp][]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).to.equal(0);
      expect(r.stdout, args.join(' ')).to.match(usage);
    }
  });

  it('a missing model stops start-up with exit 3 naming classifier.model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      const f = join(dir, 'c.yaml');
      writeFileSync(
        f,
        `classifier: { enabled: true, model: ${join(dir, 'nope.json')} }\ndestinations: [{ name: a, type: folder, path: x }]\nroutes: [{ to: [a] }]\n`,
      );
      const r = cli('serve', '--config', f);
      expect(r.status).to.equal(3);
      expect(r.stderr).to.match(/^bodyroute: invalid configuration: .*c\.yaml:\nclassifier\.model: cannot read model manifest .*nope\.json/);
      expect(r.stderr).not.to.match(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a port in use is one line and exit 1', async function () {
    this.timeout(20000);
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const f = join(dir, 'c.yaml');
      writeFileSync(
        f,
        `listen: { host: 127.0.0.1, port: ${port} }\nspool: { dir: ${join(dir, 'spool')}, minFreeBytes: 0 }\ndestinations: [{ name: a, type: folder, path: ${join(dir, 'out')} }]\nroutes: [{ to: [a] }]\n`,
      );
      const child = spawn(process.execPath, [CLI, 'serve', '--config', f], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).to.equal(1);
      expect(stderr.split('\n').filter((l) => l.startsWith('bodyroute:'))).to.deep.equal([`bodyroute: port ${port} on 127.0.0.1 is in use`]);
      expect(stderr).not.to.match(/\n\s+at /);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve started without the node flags of src/node-flags.ts warns once, naming them', async function () {
    this.timeout(20000);
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      const f = join(dir, 'c.yaml');
      writeFileSync(
        f,
        `listen: { host: 127.0.0.1, port: 0 }\nspool: { dir: ${join(dir, 'spool')}, minFreeBytes: 0 }\ndestinations: [{ name: a, type: folder, path: ${join(dir, 'out')} }]\nroutes: [{ to: [a] }]\nlogging: { format: json }\n`,
      );
      const child = spawn(process.execPath, [CLI, 'serve', '--config', f], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      // complete lines only: the last one may still be arriving
      const entries = () =>
        out
          .split('\n')
          .slice(0, -1)
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { level: string; message: string; missing?: string });
      const deadline = Date.now() + 15000;
      while (!entries().some((e) => e.level === 'warn') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const warnings = entries().filter((e) => e.level === 'warn');
      expect(warnings.map((w) => w.missing)).to.deep.equal(['--initial-old-space-size=64']);
      expect(warnings[0].message).to.match(/^node was started without the flags bodyroute runs best with/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('classify: a missing path is reported like a bad file and never stops the run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'not DICOM');
      const r = cli('classify', '--json', join(dir, 'missing.dcm'), join(dir, 'notes.txt'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.equal('');
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).to.deep.equal([
        { file: join(dir, 'missing.dcm'), error: 'no such file or folder' },
        { file: join(dir, 'notes.txt'), skipped: 'not a DICOM Part-10 file' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('classify takes 1,000 paths on its command line (onnxruntime crashes beyond ~16 KB of arguments) and --files-from', function () {
    this.timeout(60000);
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      const paths = Array.from({ length: 1000 }, (_, i) => join(dir, `not-dicom-${String(i).padStart(4, '0')}-${'x'.repeat(24)}.txt`));
      for (const p of paths) writeFileSync(p, 'x');
      expect(paths.join(' ').length).to.be.greaterThan(40000);
      const r = cli('classify', '--json', '--image-only', ...paths);
      expect(r.status, r.stderr).to.equal(0);
      const files = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).file);
      expect(files).to.deep.equal(paths);
      writeFileSync(join(dir, 'list'), paths.slice(0, 3).join('\n') + '\n');
      const listed = cli('classify', '--json', '--files-from', join(dir, 'list'));
      expect(
        listed.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).file),
      ).to.deep.equal(paths.slice(0, 3));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
