import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetCorrections } from '../../../src/commands/dataset-corrections';
import { readLabels } from '../../../src/classify/labels';
import { writeSyntheticImage } from '../../helpers/synthetic-dicom';

describe('commands/dataset-corrections: the status page corrections as training labels', () => {
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'bodyroute-corrections-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('labels the archived files whose instance or whole series was corrected, the later correction winning', async () => {
    const archive = join(tmp, 'archive', 'study', 'series');
    mkdirSync(archive, { recursive: true });
    const a = writeSyntheticImage(join(archive, 'a.dcm'), { rows: 8, columns: 8, seriesUid: '1.2.3.1', sopInstanceUid: '1.2.3.1.1' });
    writeSyntheticImage(join(archive, 'b.dcm'), { rows: 8, columns: 8, seriesUid: '1.2.3.1', sopInstanceUid: '1.2.3.1.2' });
    writeSyntheticImage(join(archive, 'c.dcm'), { rows: 8, columns: 8, seriesUid: '1.2.3.2', sopInstanceUid: '1.2.3.2.1' });
    writeSyntheticImage(join(archive, 'd.dcm'), { rows: 8, columns: 8, seriesUid: '1.2.3.9', sopInstanceUid: '1.2.3.9.1' });
    writeFileSync(join(tmp, 'archive', 'notes.txt'), 'not DICOM');
    const csv = join(tmp, 'corrections.csv');
    writeFileSync(
      csv,
      [
        'time,studyInstanceUid,seriesInstanceUid,sopInstanceUid,correctedRegion,modelRegion',
        `t1,${a.studyUid},1.2.3.1,1.2.3.1.1,thigh,knee`,
        `t2,${a.studyUid},1.2.3.1,1.2.3.1.1,knee,knee`,
        `t1,${a.studyUid},1.2.3.2,,hip,`,
        `t1,${a.studyUid},1.2.3.9,1.2.3.9.1,brain,head`,
      ].join('\n') + '\n',
    );
    const out = join(tmp, 'extra.csv');
    expect(await datasetCorrections(['--corrections', csv, '--archive', join(tmp, 'archive'), '--out', out])).to.equal(0);
    const rows = readLabels(out);
    expect(rows.map((r) => [r.file, r.region, r.fields.group])).to.deep.equal([
      [join(archive, 'a.dcm'), 'knee', 'local-corrections'],
      [join(archive, 'c.dcm'), 'hip', 'local-corrections'],
    ]);
    expect(readFileSync(out, 'utf8').split('\n')[0]).to.equal('file,region,modality,subject,group,source');
  });

  it('asks for its three options', async () => {
    expect(await datasetCorrections(['--corrections', 'x'])).to.equal(2);
  });
});
