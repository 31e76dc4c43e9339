import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { storescpConfig, BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { freePort, requireTools, run, waitFor } from '../helpers/tools';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

/** Every file under dir with its SHA-256 (the lock folder itself is the holder's, and refreshed by it). */
function checksums(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

describe('one instance per spool (a second bodyroute on the same spool changes nothing)', function () {
  this.timeout(120000);
  let tmp: string;
  let br: BodyrouteProcess | undefined;
  let scp: StorescpPeer | undefined;

  before(function () {
    requireTools(this, 'storescu', 'storescp');
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-lock-'));
  });

  after(async () => {
    await br?.kill('SIGKILL');
    await scp?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a second instance, takes a kill -9 lock over, and delivers every acknowledged object', async () => {
    const scpPort = await freePort();
    const config = storescpConfig(tmp, scpPort, { retry: { initialDelayMs: 200, maxDelayMs: 1000, maxAttempts: 3 } });
    br = await startBodyroute(tmp, config);
    const files: string[] = [];
    const series = newUid();
    for (let i = 0; i < 7; i++) {
      const f = join(tmp, `img${i}.dcm`);
      writeSyntheticImage(f, { rows: 64, columns: 64, seriesUid: series, instanceNumber: i + 1 });
      files.push(f);
    }
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    await br.waitForEntry({ message: 'destination unavailable; objects stay queued', destination: 'pacs' }, 10000);

    // the second instance: same config, a port of its own so that only the spool is shared
    const before = checksums(join(tmp, 'spool'));
    const second = join(tmp, 'second.yaml');
    writeFileSync(second, stringify({ ...config, listen: { ...(config.listen as Record<string, unknown>), port: await freePort() } }));
    const r = spawnSync(process.execPath, [CLI, 'serve', '--config', second], { encoding: 'utf8', timeout: 30000 });
    expect(r.status).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.contain(`spool ${join(tmp, 'spool')} is in use by pid ${br.proc.pid}`);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(checksums(join(tmp, 'spool'))).to.deep.equal(before);

    // kill -9 leaves the lock behind; the restart takes it over and still owes all 7 objects
    await br.kill('SIGKILL');
    br = await startBodyroute(tmp, config);
    scp = await startStorescp(join(tmp, 'received'), 'STORESCP', scpPort);
    const s = scp;
    await waitFor('all 7 objects at the destination', () => s.sopInstanceUids().size === 7, 20000, 50);
    expect(s.sopInstanceUids()).to.deep.equal(new Set(files.map((f) => readFileMeta(readFileSync(f)).sopInstanceUid)));
  });
});
