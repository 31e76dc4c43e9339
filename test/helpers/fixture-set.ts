import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newUid, writeSyntheticImage } from './synthetic-dicom';
import { run } from './tools';

/**
 * The objects the interop tests send: uncompressed CT in explicit and implicit VR, some
 * with vendor private tags, plus copies in every compressed or unusual syntax that DCMTK
 * and GDCM can produce here.
 */
export interface FixtureSet {
  /** Sent with storescu -xi so the implicit encoding reaches bodyroute unchanged. */
  implicit: string[];
  explicit: string[];
  /** name → file; each in its own transfer syntax. */
  encoded: Record<string, string>;
}

export const ENCODINGS: Record<string, { tool: string; args: string[]; ts: string }> = {
  jpeg2000: { tool: 'gdcmconv', args: ['--j2k'], ts: '1.2.840.10008.1.2.4.90' },
  jpegLossless: { tool: 'dcmcjpeg', args: ['+e1'], ts: '1.2.840.10008.1.2.4.70' },
  jpegLs: { tool: 'dcmcjpls', args: [], ts: '1.2.840.10008.1.2.4.80' },
  rle: { tool: 'dcmcrle', args: [], ts: '1.2.840.10008.1.2.5' },
  bigEndian: { tool: 'dcmconv', args: ['+tb'], ts: '1.2.840.10008.1.2.2' },
  deflated: { tool: 'dcmconv', args: ['+td'], ts: '1.2.840.10008.1.2.1.99' },
};

export function buildFixtureSet(dir: string, uncompressed = 200, rows = 512): FixtureSet {
  mkdirSync(dir, { recursive: true });
  const studyUid = newUid();
  const seriesExplicit = newUid();
  const seriesImplicit = newUid();
  const set: FixtureSet = { implicit: [], explicit: [], encoded: {} };
  for (let i = 0; i < uncompressed; i++) {
    const implicit = i % 2 === 1;
    const path = join(dir, `ct-${implicit ? 'implicit' : 'explicit'}-${String(i).padStart(4, '0')}.dcm`);
    writeSyntheticImage(path, {
      rows,
      columns: rows,
      studyUid,
      seriesUid: implicit ? seriesImplicit : seriesExplicit,
      instanceNumber: Math.floor(i / 2) + 1,
      z: Math.floor(i / 2) * 3,
      explicitVr: !implicit,
      privateTags: i % 4 < 2,
    });
    (implicit ? set.implicit : set.explicit).push(path);
  }
  const seriesEncoded = newUid();
  Object.entries(ENCODINGS).forEach(([name, enc], k) => {
    const source = join(dir, `source-${name}.dcm`);
    writeSyntheticImage(source, { rows, columns: rows, studyUid, seriesUid: seriesEncoded, instanceNumber: k + 1, z: k * 3, privateTags: true });
    const target = join(dir, `enc-${name}.dcm`);
    run(enc.tool, [...enc.args, source, target]);
    set.encoded[name] = target;
  });
  return set;
}
