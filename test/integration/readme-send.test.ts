import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { dicomFilesUnder, PEER_ENV, run, waitFor } from '../helpers/tools';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { spawnSync } from 'node:child_process';
import { suiteFixture } from '../helpers/suite-fixture';

/** README "Try it": `dcmsend -aec BODYROUTE HOST PORT *.dcm` stores compressed files as they are. */
describe('README: dcmsend sends compressed files in their own transfer syntax', function () {
  this.timeout(60000);
  const fx = suiteFixture('readme', 'dcmsend', 'dcmcrle', 'dcmcjpeg');
  let br: BodyrouteProcess | undefined;

  it('stores RLE and JPEG lossless files, each kept in its own syntax', async () => {
    const { files } = writeSyntheticSeries(join(fx.tmp, 'plain'), 2, { rows: 64, columns: 64 });
    const rle = join(fx.tmp, 'rle.dcm');
    const jpeg = join(fx.tmp, 'jpeg.dcm');
    run('dcmcrle', [files[0], rle]);
    run('dcmcjpeg', ['+e1', files[1], jpeg]);
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp));
    const r = spawnSync('dcmsend', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), rle, jpeg], { env: PEER_ENV, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    await waitFor('both objects in the archive', () => dicomFilesUnder(join(fx.tmp, 'archive')) === 2, 15000);
    const archived = readdirSync(join(fx.tmp, 'archive'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.dcm'));
    const syntaxes = archived.map((f) => readFileMeta(readFileSync(join(fx.tmp, 'archive', f))).transferSyntaxUid).sort();
    expect(syntaxes).to.deep.equal(['1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.5']);
  });
});
