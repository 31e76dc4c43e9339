import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newUid, writeSyntheticImage } from '../../test/helpers/synthetic-dicom';

/**
 * The benches' test images: `n` synthetic 512×512 CT slices of one series (513 KiB each, with GE/Siemens
 * private blocks), written into `dir` (made here) as ct00000.dcm, ct00001.dcm, … in slice order.
 */
export function writeBenchSeries(dir: string, n: number): void {
  mkdirSync(dir);
  const study = newUid();
  const series = newUid();
  for (let i = 0; i < n; i++)
    writeSyntheticImage(join(dir, `ct${String(i).padStart(5, '0')}.dcm`), {
      rows: 512,
      columns: 512,
      studyUid: study,
      seriesUid: series,
      instanceNumber: i + 1,
      z: i,
      privateTags: true,
    });
}
