import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');
const PKG = require(join(__dirname, '..', '..', '..', 'package.json')) as { version: string };
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
});
