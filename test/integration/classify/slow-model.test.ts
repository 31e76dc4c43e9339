import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute, entryMatches } from '../../helpers/bodyroute-process';
import { writeTestModel } from '../../helpers/onnx-builder';
import { newUid, writeSyntheticImage } from '../../helpers/synthetic-dicom';
import { PEER_ENV, requireTools, waitFor } from '../../helpers/tools';

const IMAGES = 16;

function archived(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const study of readdirSync(dir)) for (const series of readdirSync(join(dir, study))) n += readdirSync(join(dir, study, series)).length;
  return n;
}

describe('classify: a slow model delays neither C-ECHO nor C-STORE acknowledgements', function () {
  this.timeout(120000);
  let tmp: string;
  let br: BodyrouteProcess;

  before(async function () {
    requireTools(this, 'storescu', 'echoscu');
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-slow-'));
    // a deliberately heavy network: hundreds of milliseconds per image on one thread
    const manifest = writeTestModel(tmp, 'slow', { size: 256, layers: 12, channels: 8, kernel: 9 });
    br = await startBodyroute(tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(tmp, 'spool'), minFreeBytes: 0 },
      classifier: { enabled: true, model: manifest, threads: 1, workers: 1, maxBatch: 1 },
      destinations: [{ name: 'archive', type: 'folder', path: join(tmp, 'archive') }],
      routes: [{ to: ['archive'] }],
    });
  });

  after(async () => {
    await br?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('acknowledges every image and answers C-ECHO while the classifier is still far behind', async () => {
    const series = newUid();
    const files = Array.from({ length: IMAGES }, (_, i) => {
      const f = join(tmp, `ct${i}.dcm`);
      writeSyntheticImage(f, { rows: 256, columns: 256, seriesUid: series, instanceNumber: i + 1 });
      return f;
    });
    const t0 = Date.now();
    const store = spawnSync('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files], { env: PEER_ENV, encoding: 'latin1' });
    const storeMs = Date.now() - t0;
    expect(store.status, store.stderr).to.equal(0);
    const t1 = Date.now();
    const echo = spawnSync('echoscu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port)], { env: PEER_ENV });
    const echoMs = Date.now() - t1;
    const doneAtEcho = archived(join(tmp, 'archive'));
    expect(echo.status).to.equal(0);
    expect(doneAtEcho, 'images through the classifier when the sender was done').to.be.below(IMAGES / 2);
    expect(echoMs).to.be.below(1000);

    // and the pipeline does finish, each image classified
    const t2 = Date.now();
    await waitFor('all images classified and archived', () => archived(join(tmp, 'archive')) === IMAGES, 90000, 200);
    const classifyMs = Date.now() - t2;
    expect(storeMs, `storing took ${storeMs} ms while classifying took ${classifyMs} ms more`).to.be.below(classifyMs);
    expect(br.entries().some((e) => entryMatches(e, { message: 'classifier ready', provider: 'cpu' }))).to.equal(true);
  });
});
