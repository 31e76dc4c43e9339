import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, entryMatches, folderConfig, jsonLogLines, startBodyroute } from '../helpers/bodyroute-process';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { dicomFilesUnder, PEER_ENV, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

const OBJECTS = 60;

describe(`large objects: ${OBJECTS} objects of 8 MiB from storescu in one association`, function () {
  this.timeout(120000);
  const fx = suiteFixture('large', 'storescu');
  let br: BodyrouteProcess;

  it('acknowledges and delivers every one without stalling the association (the socket paused for a full buffer is resumed)', async () => {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp, { pduTimeoutMs: 10000 }));
    const dir = join(fx.tmp, 'in');
    mkdirSync(dir);
    const series = newUid();
    // 8 MiB each: more than the 4 MiB the spool writer buffers before pausing the socket
    for (let i = 0; i < OBJECTS; i++) writeSyntheticImage(join(dir, `${i}.dcm`), { rows: 2048, columns: 2048, seriesUid: series, instanceNumber: i + 1 });
    const started = Date.now();
    const r = spawnSync('storescu', ['-aec', 'BODYROUTE', '+sd', '127.0.0.1', String(br.port), dir], { env: PEER_ENV, encoding: 'latin1', timeout: 60000 });
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
    await waitFor(`${OBJECTS} objects delivered`, () => dicomFilesUnder(join(fx.tmp, 'archive')) === OBJECTS, 30000);
    const entries = jsonLogLines(br);
    expect(entries.filter((e) => entryMatches(e, { message: 'connection dropped' }))).to.deep.equal([]);
    const closed = entries.find((e) => entryMatches(e, { message: 'association closed' }));
    expect(closed).to.include({ objects: OBJECTS, failed: 0 });
    console.log(`      ${OBJECTS} × 8 MiB acknowledged and delivered in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
