import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { dicomFilesUnder, PEER_ENV, requireTools, run, waitFor } from '../helpers/tools';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { spawnSync } from 'node:child_process';

/** README "Try it": `dcmsend -aec BODYROUTE HOST PORT *.dcm` stores compressed files as they are. */
describe('README: dcmsend sends compressed files in their own transfer syntax', function () {
  this.timeout(60000);
  let tmp: string;
  let br: BodyrouteProcess | undefined;
  before(function () {
    requireTools(this, 'dcmsend', 'dcmcrle', 'dcmcjpeg');
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-readme-'));
  });
  after(async () => {
    await br?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('stores RLE and JPEG lossless files, each kept in its own syntax', async () => {
    const { files } = writeSyntheticSeries(join(tmp, 'plain'), 2, { rows: 64, columns: 64 });
    const rle = join(tmp, 'rle.dcm');
    const jpeg = join(tmp, 'jpeg.dcm');
    run('dcmcrle', [files[0], rle]);
    run('dcmcjpeg', ['+e1', files[1], jpeg]);
    br = await startBodyroute(tmp, folderConfig(tmp));
    const r = spawnSync('dcmsend', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), rle, jpeg], { env: PEER_ENV, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    await waitFor('both objects in the archive', () => dicomFilesUnder(join(tmp, 'archive')) === 2, 15000);
    const archived = readdirSync(join(tmp, 'archive'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.dcm'));
    const syntaxes = archived.map((f) => readFileMeta(readFileSync(join(tmp, 'archive', f))).transferSyntaxUid).sort();
    expect(syntaxes).to.deep.equal(['1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.5']);
  });
});
