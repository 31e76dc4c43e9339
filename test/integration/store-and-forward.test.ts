import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { buildFixtureSet, ENCODINGS, FixtureSet } from '../helpers/fixture-set';
import { OrthancPeer, startOrthanc, startStorescp, StorescpPeer } from '../helpers/peers';
import { dumpDatasets, run, waitFor } from '../helpers/tools';
import { ElementReader } from '../../src/dicom/element-reader';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax';
import { inflateRawSync } from 'node:zlib';
import { suiteFixture } from '../helpers/suite-fixture';

/** storescu options that make it send each file in its own transfer syntax. */
const PROPOSE: Record<string, string[]> = {
  jpeg2000: ['-xv'],
  jpegLossless: ['-xs'],
  jpegLs: ['-xt'],
  rle: ['-xr'],
  bigEndian: ['-xb'],
  deflated: ['-xd'],
};

/** The bytes of the Pixel Data element (value or encapsulated items), for comparison. */
function pixelData(file: Buffer): Buffer {
  const meta = readFileMeta(file);
  const ts = findTransferSyntax(meta.transferSyntaxUid);
  let data = file.subarray(meta.datasetOffset);
  if (ts?.deflated) data = inflateRawSync(data);
  const reader = new ElementReader(data, { explicitVr: ts?.explicitVr ?? true, littleEndian: ts?.littleEndian ?? true });
  for (const el of reader.elements()) if (el.tag === 0x7fe00010) return data.subarray(el.valueStart, el.end);
  throw new Error('no pixel data');
}

function sopUid(path: string): string {
  return readFileMeta(readFileSync(path)).sopInstanceUid;
}

describe('store and forward: storescu → bodyroute → storescp + Orthanc', function () {
  this.timeout(300000);
  const fx = suiteFixture('sf', 'storescu', 'storescp', 'dcmdump', 'dcmcjpeg', 'dcmcjpls', 'dcmcrle', 'dcmconv', 'gdcmconv', 'Orthanc');
  let fixtures: FixtureSet;
  let storescp: StorescpPeer;
  let orthanc: OrthancPeer;
  let br: BodyrouteProcess;
  const originals = new Map<string, string>(); // SOP Instance UID → original file
  const orthancFiles = new Map<string, string>();

  before(async function () {
    fixtures = buildFixtureSet(join(fx.tmp, 'fixtures'));
    for (const f of [...fixtures.implicit, ...fixtures.explicit, ...Object.values(fixtures.encoded)]) originals.set(sopUid(f), f);
    storescp = await startStorescp(join(fx.tmp, 'storescp'));
    orthanc = await startOrthanc(join(fx.tmp, 'orthanc'));
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      destinations: [
        { name: 'scp', type: 'dimse', host: '127.0.0.1', port: storescp.port, aeTitle: storescp.aeTitle },
        { name: 'orthanc', type: 'dimse', host: '127.0.0.1', port: orthanc.port, aeTitle: orthanc.aeTitle },
      ],
      routes: [{ to: ['scp', 'orthanc'] }],
    });
    const send = (opts: string[], files: string[]) =>
      run('storescu', ['-aet', 'MODALITY', '-aec', 'BODYROUTE', ...opts, '127.0.0.1', String(br.port), ...files]);
    send(['-xi'], fixtures.implicit);
    send([], fixtures.explicit);
    for (const [name, file] of Object.entries(fixtures.encoded)) send(PROPOSE[name], [file]);
    await waitFor('every object at storescp', () => storescp.sopInstanceUids().size >= originals.size, 60000);
    await waitFor('every object in Orthanc', async () => (await orthanc.instanceIds()).length >= originals.size, 60000);
    for (const id of await orthanc.instanceIds()) {
      const path = join(fx.tmp, 'orthanc-out', `${id}.dcm`);
      mkdirSync(join(fx.tmp, 'orthanc-out'), { recursive: true });
      writeFileSync(path, await orthanc.instanceFile(id));
      orthancFiles.set(sopUid(path), path);
    }
  });

  it('delivers every object to both destinations, each exactly once', () => {
    const atScp = storescp.files().map(sopUid);
    expect(new Set(atScp).size).to.equal(atScp.length);
    expect(new Set(atScp)).to.deep.equal(new Set(originals.keys()));
    expect(new Set(orthancFiles.keys())).to.deep.equal(new Set(originals.keys()));
  });

  it('keeps each object in the transfer syntax it was sent in', () => {
    for (const [name, file] of Object.entries(fixtures.encoded)) {
      const forwarded = storescp.files().find((f) => sopUid(f) === sopUid(file));
      expect(readFileMeta(readFileSync(forwarded as string)).transferSyntaxUid, name).to.equal(ENCODINGS[name].ts);
    }
  });

  it('forwards every object unchanged apart from group 0002 (dcmdump), private tags included', () => {
    const atScp = storescp.files();
    const dumps = dumpDatasets([...originals.values(), ...atScp, ...orthancFiles.values()]);
    let withPrivate = 0;
    for (const f of atScp) {
      const uid = sopUid(f);
      const original = originals.get(uid) as string;
      const want = dumps.get(original) as string[];
      expect(dumps.get(f), `storescp copy of ${original}`).to.deep.equal(want);
      expect(dumps.get(orthancFiles.get(uid) as string), `Orthanc copy of ${original}`).to.deep.equal(want);
      if (want.some((l) => l.startsWith('(0029,1010)'))) withPrivate++;
    }
    expect(withPrivate).to.be.greaterThan(50);
  });

  it('forwards dataset bytes unchanged (storescp stores bit-preserving) and pixel data intact at Orthanc', () => {
    let compared = 0;
    for (const f of storescp.files()) {
      const uid = sopUid(f);
      const original = readFileSync(originals.get(uid) as string);
      const forwarded = readFileSync(f);
      const o = readFileMeta(original);
      const d = readFileMeta(forwarded);
      // storescu re-encodes on the way in when syntaxes differ; compare where it sent the file's own syntax
      if (o.transferSyntaxUid !== d.transferSyntaxUid) continue;
      // a deflated stream is re-deflated by storescu on the way in: compare what it inflates to
      const inflate = (b: Buffer) => (findTransferSyntax(o.transferSyntaxUid)?.deflated ? inflateRawSync(b) : b);
      expect(
        inflate(forwarded.subarray(d.datasetOffset)).equals(inflate(original.subarray(o.datasetOffset))),
        `dataset bytes of ${originals.get(uid)}`,
      ).to.equal(true);
      const orthancCopy = readFileSync(orthancFiles.get(uid) as string);
      expect(pixelData(orthancCopy), `Orthanc pixel data of ${originals.get(uid)}`).to.deep.equal(pixelData(original));
      compared++;
    }
    expect(compared).to.be.greaterThan(100);
  });

  it('logs one line per association with peer, AE titles, objects and bytes', () => {
    return br.waitForEntry({
      message: 'association closed',
      peer: /^127\.0\.0\.1:\d+$/,
      callingAe: 'MODALITY',
      calledAe: 'BODYROUTE',
      objects: 100,
      failed: 0,
      partial: 0,
      bytes: /^\d+$/,
      ms: /^\d+$/,
    });
  });
});
