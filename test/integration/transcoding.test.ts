import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElementReader } from '../../src/dicom/element-reader';
import { readFileMeta } from '../../src/dicom/part10';
import { Tags } from '../../src/dicom/tags';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax';
import { BodyrouteProcess, jsonLogLines, startBodyroute } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { writeSyntheticImage } from '../helpers/synthetic-dicom';
import { PEER_ENV, run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/** Compressors of the lossless syntaxes a scanner or a previous router may send. */
const COMPRESS: Record<string, { tool: string; args: string[]; ts: string }> = {
  jpegLossless: { tool: 'dcmcjpeg', args: ['+e1'], ts: '1.2.840.10008.1.2.4.70' },
  jpegLs: { tool: 'dcmcjpls', args: [], ts: '1.2.840.10008.1.2.4.80' },
  rle: { tool: 'dcmcrle', args: [], ts: '1.2.840.10008.1.2.5' },
  jpeg2000: { tool: 'gdcmconv', args: ['--j2k'], ts: '1.2.840.10008.1.2.4.90' },
};

const BODYROUTE_GROUP = 0x0077;

/** Every element of a file's dataset, tag → its bytes as encoded (header and value). */
function elementsOf(path: string): Map<number, Buffer> {
  const file = readFileSync(path);
  const data = file.subarray(readFileMeta(file).datasetOffset);
  const out = new Map<number, Buffer>();
  for (const el of new ElementReader(data, { explicitVr: true, littleEndian: true }).elements()) out.set(el.tag, data.subarray(el.start, el.end));
  return out;
}

function pixelValue(elements: Map<number, Buffer>): Buffer {
  const el = elements.get(Tags.PixelData)!;
  return el.subarray(12);
}

describe('transcoding: destinations that do not take the compressed syntax get the image decompressed', function () {
  this.timeout(120000);
  const fx = suiteFixture('transcode', 'storescp', 'dcmsend', 'dcmcjpeg', 'dcmcjpls', 'dcmcrle', 'gdcmconv');
  let picky: StorescpPeer;
  let listed: StorescpPeer;
  let br: BodyrouteProcess;
  const native = new Map<string, Buffer>(); // SOP Instance UID → native pixel bytes
  const compressed = new Map<string, { path: string; ts: string }>();

  before(async function () {
    for (const [name, c] of Object.entries(COMPRESS)) {
      const source = join(fx.tmp, `${name}-native.dcm`);
      const obj = writeSyntheticImage(source, { rows: 64, columns: 80, z: name.length * 10 });
      native.set(obj.sopInstanceUid, pixelValue(elementsOf(source)));
      const out = join(fx.tmp, `${name}.dcm`);
      run(c.tool, [...c.args, source, out]);
      expect(readFileMeta(readFileSync(out)).transferSyntaxUid).to.equal(c.ts);
      compressed.set(obj.sopInstanceUid, { path: out, ts: c.ts });
    }
    picky = await startStorescp(join(fx.tmp, 'picky'), 'PICKY', undefined, 'uncompressed');
    listed = await startStorescp(join(fx.tmp, 'listed'), 'LISTED', undefined, 'all');
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      destinations: [
        // accepts only uncompressed syntaxes at association (storescp's default)
        { name: 'picky', type: 'dimse', host: '127.0.0.1', port: picky.port, aeTitle: picky.aeTitle },
        // would take anything, but the configuration says uncompressed only
        { name: 'listed', type: 'dimse', host: '127.0.0.1', port: listed.port, aeTitle: listed.aeTitle, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
      ],
      routes: [{ to: ['picky', 'listed'] }],
      logging: { format: 'json', level: 'info' },
    });
    const paths = [...compressed.values()].map((c) => c.path);
    const r = spawnSync('dcmsend', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...paths], { env: PEER_ENV, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    await waitFor('every object at both destinations', () => picky.sopInstanceUids().size === 4 && listed.sopInstanceUids().size === 4, 30000);
  });

  for (const which of ['picky', 'listed'] as const) {
    it(`${which}: JPEG lossless, JPEG-LS, RLE and JPEG 2000 arrive uncompressed, pixel values identical to the decoded originals, every other element unchanged`, () => {
      const peer = which === 'picky' ? picky : listed;
      for (const file of peer.files()) {
        const meta = readFileMeta(readFileSync(file));
        expect(meta.transferSyntaxUid).to.equal(EXPLICIT_VR_LITTLE_ENDIAN);
        const original = compressed.get(meta.sopInstanceUid)!;
        const received = elementsOf(file);
        expect(pixelValue(received).equals(native.get(meta.sopInstanceUid)!), `pixels of the ${original.ts} original`).to.equal(true);
        const sent = elementsOf(original.path);
        for (const [tag, bytes] of sent) {
          if (tag === Tags.PixelData) continue;
          expect(received.get(tag)?.equals(bytes), `element ${tag.toString(16)} of the ${original.ts} original`).to.equal(true);
        }
        const added = [...received.keys()].filter((t) => !sent.has(t) && t >>> 16 !== BODYROUTE_GROUP);
        expect(added, 'elements added other than bodyroute private block').to.deep.equal([]);
      }
    });
  }

  it('logs what was done, once per object and destination', () => {
    const lines = jsonLogLines(br).filter((l) => l.message === 'object decompressed for destination');
    expect(lines.map((l) => `${l.destination as string} ${l.from as string}`).sort()).to.deep.equal(
      ['picky', 'listed'].flatMap((d) => Object.values(COMPRESS).map((c) => `${d} ${c.ts}`)).sort(),
    );
    expect(lines.every((l) => l.to === EXPLICIT_VR_LITTLE_ENDIAN && l.frames === 1)).to.equal(true);
  });
});
