import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { storescpConfig, BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { freePort, run, waitFor } from '../helpers/tools';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { suiteFixture } from '../helpers/suite-fixture';

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
  const fx = suiteFixture('lock', 'storescu', 'storescp');
  let br: BodyrouteProcess | undefined;
  let scp: StorescpPeer | undefined;

  it('refuses a second instance, takes a kill -9 lock over, and delivers every acknowledged object', async () => {
    const scpPort = await freePort();
    const config = storescpConfig(fx.tmp, scpPort, { retry: { initialDelayMs: 200, maxDelayMs: 1000, maxAttempts: 3 } });
    br = await startBodyroute(fx.tmp, config);
    const { files } = writeSyntheticSeries(join(fx.tmp, 'in'), 7, { rows: 64, columns: 64 });
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    await br.waitForEntry({ message: 'destination unavailable; objects stay queued', destination: 'pacs' }, 10000);

    // the second instance: same config, a port of its own so that only the spool is shared
    const before = checksums(join(fx.tmp, 'spool'));
    const second = join(fx.tmp, 'second.yaml');
    writeFileSync(second, stringify({ ...config, listen: { ...(config.listen as Record<string, unknown>), port: await freePort() } }));
    const r = spawnSync(process.execPath, [CLI, 'serve', '--config', second], { encoding: 'utf8', timeout: 30000 });
    expect(r.status).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.contain(`spool ${join(fx.tmp, 'spool')} is in use by pid ${br.proc.pid}`);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(checksums(join(fx.tmp, 'spool'))).to.deep.equal(before);

    // kill -9 leaves the lock behind; the restart takes it over and still owes all 7 objects
    await br.kill('SIGKILL');
    br = await startBodyroute(fx.tmp, config);
    scp = await startStorescp(join(fx.tmp, 'received'), 'STORESCP', scpPort);
    const s = scp;
    await waitFor('all 7 objects at the destination', () => s.sopInstanceUids().size === 7, 20000, 50);
    expect(s.sopInstanceUids()).to.deep.equal(new Set(files.map((f) => readFileMeta(readFileSync(f)).sopInstanceUid)));
  });
});
