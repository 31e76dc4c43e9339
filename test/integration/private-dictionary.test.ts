import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { tagDataset } from '../../src/tag/tagger';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { suiteFixture } from '../helpers/suite-fixture';

const DICTIONARY = join(__dirname, '..', '..', '..', 'config', 'bodyroute.dic');

/** DCMTK's own dictionary (its folder carries the library's version). */
function dcmtkDictionary(): string | undefined {
  const share = '/usr/share';
  const dir = readdirSync(share).find((d) => /^libdcmtk\d+$/.test(d) && existsSync(join(share, d, 'dicom.dic')));
  return dir && join(share, dir, 'dicom.dic');
}

describe("config/bodyroute.dic: DCMTK names bodyroute's private elements", function () {
  this.timeout(20000);
  const fx = suiteFixture('dic', 'dcmdump');
  before(function () {
    if (!dcmtkDictionary()) this.skip();
  });

  it('dcmdump with DCMDICTPATH shows every element by name', () => {
    const bytes = syntheticImage({ rows: 8, columns: 8 }).bytes;
    const meta = readFileMeta(bytes);
    const tagged = tagDataset(
      bytes.subarray(meta.datasetOffset),
      { explicitVr: true, littleEndian: true },
      { imageRegion: 'knee', confidence: 0.93, model: 'bodyregion-cnn 2.0.0', evidence: 'image+header', series: { regions: ['knee'], term: 'KNEE' } },
      { privateGroup: 0x0077, privateCreator: 'BODYROUTE 1.0', seriesDescription: 'off', bodyPartExamined: 'off', software: 'bodyroute test' },
    );
    const file = join(fx.tmp, 'tagged.dcm');
    writeFileSync(file, Buffer.concat([bytes.subarray(0, meta.datasetOffset), tagged]));
    const r = spawnSync('dcmdump', ['-q', file], { encoding: 'utf8', env: { ...process.env, DCMDICTPATH: `${dcmtkDictionary()}:${DICTIONARY}` } });
    expect(r.status, r.stderr).to.equal(0);
    for (const name of [
      'BodyrouteImageRegion',
      'BodyrouteRegionConfidence',
      'BodyrouteModel',
      'BodyrouteSeriesRegions',
      'BodyrouteSoftware',
      'BodyrouteRegionEvidence',
    ]) {
      expect(r.stdout, name).to.match(new RegExp(`\\(0077,10\\d\\d\\) \\w\\w .*${name}`));
    }
    expect(readFileSync(DICTIONARY, 'utf8')).to.contain('(0077,"BODYROUTE 1.0",06)');
  });
});
