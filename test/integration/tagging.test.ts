import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { ElementReader, stringValue } from '../../src/dicom/element-reader';
import { readFileMeta } from '../../src/dicom/part10';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { writeTestModel } from '../helpers/onnx-builder';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { newUid, rawImage, syntheticImage } from '../helpers/synthetic-dicom';
import { freePort, PEER_ENV, run, waitFor, waitForFile } from '../helpers/tools';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { suiteFixture } from '../helpers/suite-fixture';

function elements(path: string): Map<number, { vr?: string; bytes: Buffer; value: string }> {
  const file = readFileSync(path);
  const meta = readFileMeta(file);
  const ts = findTransferSyntax(meta.transferSyntaxUid);
  const data = ts?.deflated ? inflateRawSync(file.subarray(meta.datasetOffset)) : file.subarray(meta.datasetOffset);
  const reader = new ElementReader(data, { explicitVr: ts?.explicitVr ?? true, littleEndian: ts?.littleEndian ?? true });
  const out = new Map<number, { vr?: string; bytes: Buffer; value: string }>();
  for (const el of reader.elements()) {
    const value = el.length !== 0xffffffff && el.length < 256 ? stringValue(reader.valueBytes(el)) : '';
    out.set(el.tag, { vr: el.vr, bytes: data.subarray(el.start, el.end), value });
  }
  return out;
}

describe('tagging (image mode): every syntax tagged in place, non-images untouched', function () {
  this.timeout(120000);
  const fx = suiteFixture('tag', 'storescu', 'dcmconv', 'dcmcjpls', 'dcmdump');
  let br: BodyrouteProcess;
  const archive = () => join(fx.tmp, 'archive');

  before(async function () {
    const model = writeTestModel(fx.tmp, 'tiny', { layers: 1, channels: 4, kernel: 3, unknownThreshold: 0 });
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      classifier: { enabled: true, model },
      tagging: { mode: 'image', bodyPartExamined: 'fill-if-empty' },
      destinations: [{ name: 'archive', type: 'folder', path: archive() }],
      routes: [{ to: ['archive'] }],
    });
  });

  const cases: [string, string[], string][] = [
    ['explicit', [], ''],
    ['implicit', ['+ti'], '-xi'],
    ['bigEndian', ['+tb'], '-xb'],
    ['deflated', ['+td'], '-xd'],
  ];

  for (const [name, convert, propose] of cases) {
    it(`tags a CT image in ${name} and leaves its other elements as they were`, () => {
      const img = syntheticImage({ rows: 64, columns: 64, privateTags: true });
      const src = join(fx.tmp, `${name}-src.dcm`);
      const file = join(fx.tmp, `${name}.dcm`);
      writeFileSync(src, img.bytes);
      if (convert.length) run('dcmconv', [...convert, src, file]);
      else writeFileSync(file, img.bytes);
      run('storescu', ['-aec', 'BODYROUTE', ...(propose ? [propose] : []), '127.0.0.1', String(br.port), file]);
      const out = join(archive(), img.studyUid, img.seriesUid, `${img.sopInstanceUid}.dcm`);
      return waitForFile(`${name} archived`, out).then(() => {
        const got = elements(out);
        const want = elements(file);
        expect(got.get(0x00770010)?.value).to.equal('BODYROUTE 1.0');
        expect(got.get(0x00771001)?.value).to.match(/^(HEAD|CHEST|ABDOMEN|PELVIS|KNEE)$/);
        expect(got.get(0x00180015)?.value).to.equal(got.get(0x00771001)?.value);
        for (const [t, e] of want) expect(got.get(t)?.bytes.equals(e.bytes), `${name} ${t.toString(16)}`).to.equal(true);
        // the vendor blocks keep their slots; ours took the first free one in its own group
        expect(got.get(0x00290010)?.value).to.equal('SIEMENS CSA HEADER');
        const dump = spawnSync('dcmdump', ['-q', out], { env: PEER_ENV, encoding: 'latin1' });
        expect(dump.status, dump.stderr).to.equal(0);
        expect(dump.stderr).to.equal('');
      });
    });
  }

  it('tags a JPEG-LS image without touching its compressed pixel data', async () => {
    const img = syntheticImage({ rows: 64, columns: 64 });
    const src = join(fx.tmp, 'jls-src.dcm');
    const file = join(fx.tmp, 'jls.dcm');
    writeFileSync(src, img.bytes);
    run('dcmcjpls', [src, file]);
    run('storescu', ['-aec', 'BODYROUTE', '-xt', '127.0.0.1', String(br.port), file]);
    const out = join(archive(), img.studyUid, img.seriesUid, `${img.sopInstanceUid}.dcm`);
    await waitForFile('JPEG-LS archived', out);
    expect(
      elements(out)
        .get(0x7fe00010)
        ?.bytes.equals(elements(file).get(0x7fe00010)?.bytes as Buffer),
    ).to.equal(true);
    expect(elements(out).get(0x00770010)?.value).to.equal('BODYROUTE 1.0');
  });

  it('forwards a non-CT/MR object byte for byte', async () => {
    const sc = rawImage({ rows: 8, columns: 8, bitsAllocated: 8, stored: new Array(64).fill(1), modality: 'OT', sopClassUid: '1.2.840.10008.5.1.4.1.1.7' });
    const file = join(fx.tmp, 'ot.dcm');
    writeFileSync(file, sc.bytes);
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), file]);
    const meta = readFileMeta(sc.bytes);
    const series = [...(elements(file).get(0x0020000e)?.value ?? '')].join('');
    const study = elements(file).get(0x0020000d)?.value ?? '';
    const out = join(archive(), study, series, `${sc.sopInstanceUid}.dcm`);
    await waitForFile('OT archived', out);
    const got = readFileSync(out);
    expect(got.subarray(readFileMeta(got).datasetOffset).equals(sc.bytes.subarray(meta.datasetOffset))).to.equal(true);
  });
});

describe('series mode: a restart neither loses nor doubles a held series', function () {
  this.timeout(120000);
  const fx = suiteFixture('series', 'storescu');
  let dest: ScriptedScp;
  let br: BodyrouteProcess | undefined;

  it('delivers each image of a series held at kill -9 exactly once after the restart, all with one label', async () => {
    dest = await startScriptedScp(() => 0);
    const model = writeTestModel(fx.tmp, 'tiny', { layers: 1, channels: 4, kernel: 3, unknownThreshold: 0 });
    const config = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      classifier: { enabled: true, model },
      tagging: { mode: 'series' },
      series: { stableSeconds: 30 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' }],
      routes: [{ to: ['pacs'] }],
    };
    br = await startBodyroute(fx.tmp, config);
    const series = newUid();
    const study = newUid();
    const dir = join(fx.tmp, 'in');
    mkdirSync(dir);
    const uids = Array.from({ length: 12 }, (_, i) => {
      const img = syntheticImage({ rows: 64, columns: 64, studyUid: study, seriesUid: series, instanceNumber: i + 1, z: i * 3 });
      writeFileSync(join(dir, `${i}.dcm`), img.bytes);
      return img.sopInstanceUid;
    });
    run('storescu', ['-aec', 'BODYROUTE', '+sd', '127.0.0.1', String(br.port), dir]);
    // held: nothing may have left yet
    await new Promise((r) => setTimeout(r, 1000));
    expect(dest.calls.size).to.equal(0);
    await br.kill('SIGKILL');
    br = await startBodyroute(fx.tmp, { ...config, series: { stableSeconds: 1 } }, 'restarted');
    await waitFor('the series delivered', () => dest.stored.length >= uids.length, 30000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      [...dest.calls.values()].every((n) => n === 1),
      JSON.stringify([...dest.calls.values()]),
    ).to.equal(true);
    expect(new Set(dest.stored)).to.deep.equal(new Set(uids));
    await br.waitForEntry({ message: 'series labelled', images: 12 });
  });
});

describe('tagging: recorded tags survive a restart', function () {
  this.timeout(120000);
  const fx = suiteFixture('tag-restart', 'storescu', 'storescp');
  let br: BodyrouteProcess | undefined;
  let scp: StorescpPeer | undefined;

  it('delivers objects tagged before a kill -9 with their tags once the destination returns', async () => {
    const port = await freePort();
    const model = writeTestModel(fx.tmp, 'tiny', { layers: 1, channels: 4, kernel: 3, unknownThreshold: 0 });
    const spool = join(fx.tmp, 'spool');
    const config = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: spool, minFreeBytes: 0 },
      classifier: { enabled: true, model },
      tagging: { mode: 'image' },
      retry: { initialDelayMs: 200, maxDelayMs: 500 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port, aeTitle: 'STORESCP' }],
      routes: [{ to: ['pacs'] }],
    };
    br = await startBodyroute(fx.tmp, config);
    const dir = join(fx.tmp, 'in');
    mkdirSync(dir);
    const sent = Array.from({ length: 6 }, (_, i) => {
      const img = syntheticImage({ rows: 64, columns: 64, privateTags: true, z: i * 7 });
      writeFileSync(join(dir, `${i}.dcm`), img.bytes);
      return img;
    });
    run('storescu', ['-aec', 'BODYROUTE', '+sd', '127.0.0.1', String(br.port), dir]);
    // tagged and queued for the destination that is down: the store holds each file as received, its
    // journal line the edits (no file of their own)
    const stored = () => readdirSync(join(spool, 'store')).filter((f) => f.endsWith('.dcm')).length;
    await waitFor('objects in the store', () => stored() === sent.length, 30000);
    expect(readdirSync(join(spool, 'store')).filter((f) => !f.endsWith('.dcm'))).to.deep.equal([]);
    await br.kill('SIGKILL');
    scp = await startStorescp(join(fx.tmp, 'out'), 'STORESCP', port);
    br = await startBodyroute(fx.tmp, config, 'restarted');
    await waitFor('every object delivered', () => readdirSync(scp!.dir).length >= sent.length, 30000);
    for (const img of sent) {
      const name = readdirSync(scp.dir).find((f) => f.includes(img.sopInstanceUid)) as string;
      const got = elements(join(scp.dir, name));
      const original = join(fx.tmp, 'original.dcm');
      writeFileSync(original, img.bytes);
      expect(got.get(0x00770010)?.value).to.equal('BODYROUTE 1.0');
      for (const [t, e] of elements(original)) expect(got.get(t)?.bytes.equals(e.bytes), t.toString(16)).to.equal(true);
    }
    await waitFor('the store emptied', () => readdirSync(join(spool, 'store')).length === 0, 10000);
  });
});
