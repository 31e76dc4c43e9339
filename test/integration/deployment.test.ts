import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { haveTool, waitFor } from '../helpers/tools';

const ROOT = join(__dirname, '..', '..', '..');

describe('deployment: the systemd unit and the release tarball', function () {
  this.timeout(120000);
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-deploy-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('deploy/bodyroute.service passes systemd-analyze verify', function () {
    if (!haveTool('systemd-analyze')) this.skip();
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(ROOT, 'deploy', 'bodyroute.service')], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr.trim()).to.equal('');
  });

  it('the tarball of npm pack holds what serve needs and runs outside the repository', async () => {
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).to.equal(0);
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
    const unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    expect(spawnSync('tar', ['-xzf', join(tmp, tarball), '-C', unpacked]).status).to.equal(0);
    const pkg = join(unpacked, 'package');
    const contents = readdirSync(pkg).sort();
    expect(contents).to.include.members(['config', 'deploy', 'dist', 'docs', 'models', 'package.json', 'README.md']);
    expect(contents).not.to.include.members(['test', 'src', 'scripts']);
    // the dependencies as `npm install` of the tarball would place them (this test has no network)
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const cli = join(pkg, 'dist', 'src', 'cli.js');
    const version = spawnSync(process.execPath, [cli, '--version'], { cwd: tmp, encoding: 'utf8' });
    expect(version.status).to.equal(0);
    expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);

    // serve from another working directory, as systemd starts it, with the model shipped in the tarball
    const config = join(tmp, 'etc', 'bodyroute.yaml');
    mkdirSync(join(tmp, 'etc'));
    writeFileSync(
      config,
      stringify({
        listen: { host: '127.0.0.1', port: 0 },
        spool: { dir: join(tmp, 'state', 'spool'), minFreeBytes: 0 },
        classifier: { enabled: true },
        destinations: [{ name: 'archive', type: 'folder', path: join(tmp, 'state', 'archive') }],
        routes: [{ to: ['archive'] }],
        logging: { format: 'json' },
      }),
    );
    // started as an installed bin is (npm install makes it executable): its #! line gives node the flags of src/node-flags.ts
    chmodSync(cli, 0o755);
    const proc = spawn(cli, ['serve', '--config', config], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('listening with the shipped model loaded', () => {
        if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${out}`);
        const lines = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { message: string; model?: string });
        return lines.some((l) => l.message === 'classifier ready') && lines.some((l) => l.message === 'listening for DICOM associations');
      });
    } finally {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
    }
    expect(proc.exitCode).to.equal(0);
    const warnings = out.split('\n').filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: string }).level === 'warn');
    expect(warnings, 'the #! line passes the node flags, so serve does not warn about them').to.deep.equal([]);
  });
});
