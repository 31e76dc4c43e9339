import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { storescpConfig, BodyrouteProcess, startBodyroute, entryMatches } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { freePort, run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

const RETRY_MAX_MS = 1500;

describe('destination down: acknowledged, then delivered when it comes back', function () {
  this.timeout(120000);
  const fx = suiteFixture('down', 'storescu', 'storescp');
  let br: BodyrouteProcess | undefined;
  let scp: StorescpPeer | undefined;

  it('accepts objects while the destination is down and delivers them within one retry interval of its return', async () => {
    const scpPort = await freePort();
    br = await startBodyroute(fx.tmp, storescpConfig(fx.tmp, scpPort, { retry: { initialDelayMs: 200, maxDelayMs: RETRY_MAX_MS, maxAttempts: 3 } }));
    const { files } = writeSyntheticSeries(join(fx.tmp, 'in'), 20, { rows: 128, columns: 128 });
    // storescu exits 0 only if every C-STORE was answered with success
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    // several retry rounds pass while the destination is down: far more than maxAttempts
    await new Promise((r) => setTimeout(r, 3 * RETRY_MAX_MS));
    expect(br.entries().some((e) => entryMatches(e, { message: 'destination unavailable; objects stay queued', destination: 'pacs' }))).to.equal(true);
    expect(br.entries().filter((e) => e.message === 'object dead-lettered')).to.deep.equal([]);

    const upAt = Date.now();
    scp = await startStorescp(join(fx.tmp, 'received'), 'STORESCP', scpPort);
    const s = scp;
    await waitFor('all 20 objects at the destination', () => s.sopInstanceUids().size === 20, 20000, 50);
    const took = Date.now() - upAt;
    expect(took).to.be.lessThan(RETRY_MAX_MS + 1500);
    expect(s.sopInstanceUids()).to.deep.equal(new Set(files.map((f) => readFileMeta(readFileSync(f)).sopInstanceUid)));
    await br.waitForEntry({ message: 'destination available again', destination: 'pacs' });
  });
});
