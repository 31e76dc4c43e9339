import { expect } from 'chai';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElementReader, stringValue } from '../../src/dicom/element-reader';
import { readFileMeta } from '../../src/dicom/part10';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { OrthancPeer, startOrthanc, startStorescp, StorescpPeer } from '../helpers/peers';
import { newUid } from '../helpers/synthetic-dicom';
import { dumpDatasets, requireSharedData, run, SHARED_DATA, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/** Three real series of one study: head CT, chest CT, knee MR (from the shared training images). */
const SERIES = {
  head: { dir: 'dumbicom/ct-head-specimen-1/ct-head', from: 20, count: 10, prepare: ['dcmdrle'], propose: [] },
  chest: { dir: 'fnndsc-data/lidc-idri-0314/ct-chest', from: 20, count: 10, prepare: [], propose: ['-xr'] },
  knee: { dir: 'kneemri/kneemri-knee/knee-axial', from: 3, count: 10, prepare: ['dcmdrle', '+ti'], propose: ['-xi'] },
} as const;
type Name = keyof typeof SERIES;
const TERMS: Record<Name, string> = { head: 'HEAD', chest: 'CHEST', knee: 'KNEE' };
const CHANGED = new Set(['(0008,103e)', '(0018,0015)', '(0400,0561)']);

interface Parsed {
  sop: string;
  series: string;
  values: Map<number, string>;
  elements: Map<number, Buffer>;
}

function parse(path: string): Parsed {
  const file = readFileSync(path);
  const meta = readFileMeta(file);
  const ts = findTransferSyntax(meta.transferSyntaxUid);
  const data = file.subarray(meta.datasetOffset);
  const reader = new ElementReader(data, { explicitVr: ts?.explicitVr ?? true, littleEndian: ts?.littleEndian ?? true });
  const values = new Map<number, string>();
  const elements = new Map<number, Buffer>();
  for (const el of reader.elements()) {
    elements.set(el.tag, data.subarray(el.start, el.end));
    if (el.vr !== 'SQ' && el.tag !== 0x7fe00010 && el.length !== 0xffffffff && el.length < 1024) values.set(el.tag, stringValue(reader.valueBytes(el)));
  }
  return { sop: meta.sopInstanceUid, series: values.get(0x0020000e) ?? '', values, elements };
}

describe('region tagging and routing end to end (series mode, real images, real peers)', function () {
  this.timeout(300000);
  const fx = suiteFixture('e2e', 'storescu', 'storescp', 'dcmdump', 'dcmdrle', 'dcmodify', 'Orthanc');
  let chestScp: StorescpPeer;
  let headScp: StorescpPeer;
  let orthanc: OrthancPeer;
  let br: BodyrouteProcess;
  const sent = new Map<string, { name: Name; path: string }>(); // SOP → series name, file sent

  before(async function () {
    requireSharedData(this);
    const study = newUid();
    for (const [name, s] of Object.entries(SERIES) as [Name, (typeof SERIES)[Name]][]) {
      const dir = join(fx.tmp, 'send', name);
      mkdirSync(dir, { recursive: true });
      const files = readdirSync(join(SHARED_DATA, s.dir))
        .sort()
        .slice(s.from, s.from + s.count);
      for (const f of files) {
        const out = join(dir, f);
        if (s.prepare.length) run(s.prepare[0], [...s.prepare.slice(1), join(SHARED_DATA, s.dir, f), out]);
        else copyFileSync(join(SHARED_DATA, s.dir, f), out);
        // one study, as a scanner would send it, with the descriptions scanners write
        run('dcmodify', [
          '-nb',
          '-m',
          `(0020,000d)=${study}`,
          '-i',
          `(0008,103e)=${name.toUpperCase()} 3MM`,
          ...(name === 'chest' ? ['-i', '(0018,0015)=THORAX'] : []),
          out,
        ]);
        sent.set(readFileMeta(readFileSync(out)).sopInstanceUid, { name, path: out });
      }
    }
    chestScp = await startStorescp(join(fx.tmp, 'chest-pacs'), 'CHESTPACS');
    headScp = await startStorescp(join(fx.tmp, 'neuro-pacs'), 'NEUROPACS');
    orthanc = await startOrthanc(join(fx.tmp, 'orthanc'));
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      classifier: { enabled: true },
      tagging: { mode: 'series', seriesDescription: 'append', bodyPartExamined: 'overwrite' },
      series: { stableSeconds: 2 },
      destinations: [
        { name: 'chest', type: 'dimse', host: '127.0.0.1', port: chestScp.port, aeTitle: 'CHESTPACS' },
        { name: 'neuro', type: 'dimse', host: '127.0.0.1', port: headScp.port, aeTitle: 'NEUROPACS' },
        { name: 'archive', type: 'dimse', host: '127.0.0.1', port: orthanc.port, aeTitle: orthanc.aeTitle },
      ],
      routes: [{ when: { region: 'chest' }, to: ['chest'], continue: true }, { when: { region: 'head' }, to: ['neuro'], continue: true }, { to: ['archive'] }],
    });
    for (const [name, s] of Object.entries(SERIES))
      run('storescu', ['-aec', 'BODYROUTE', ...s.propose, '+sd', '127.0.0.1', String(br.port), join(fx.tmp, 'send', name)]);
    await waitFor('all series in Orthanc', async () => (await orthanc.instanceIds()).length >= sent.size, 120000, 500);
    await waitFor('chest series at the chest PACS', () => chestScp.sopInstanceUids().size >= SERIES.chest.count, 30000);
    await waitFor('head series at the neuro PACS', () => headScp.sopInstanceUids().size >= SERIES.head.count, 30000);
  });

  const of = (name: Name) => new Set([...sent].filter(([, v]) => v.name === name).map(([sop]) => sop));

  it('sends each series exactly where the rules say', async () => {
    expect(chestScp.sopInstanceUids()).to.deep.equal(of('chest'));
    expect(headScp.sopInstanceUids()).to.deep.equal(of('head'));
    expect((await orthanc.instanceIds()).length).to.equal(sent.size);
    await br.waitForEntry({ message: 'series labelled', regions: 'chest', term: 'CHEST' });
  });

  it('every instance carries the private block, and each series one label, Series Description and Body Part Examined', () => {
    for (const [scp, name] of [
      [chestScp, 'chest'],
      [headScp, 'head'],
    ] as [StorescpPeer, Name][]) {
      const parsed = scp.files().map(parse);
      const labels = new Set(parsed.map((p) => p.values.get(0x00771004)));
      expect([...labels], name).to.deep.equal([TERMS[name]]);
      for (const p of parsed) {
        expect(p.values.get(0x00770010)).to.equal('BODYROUTE 1.0');
        expect(p.values.get(0x00771003)).to.match(/^bodyregion-cnn /);
        expect(Number(p.values.get(0x00771002))).to.be.within(0, 1);
        expect(p.values.get(0x00180015)).to.equal(TERMS[name]);
        expect(p.values.get(0x0008103e)).to.equal(`${name.toUpperCase()} 3MM [${TERMS[name]}]`);
      }
      expect(new Set(parsed.map((p) => p.values.get(0x0008103e))).size, `one Series Description for ${name}`).to.equal(1);
    }
  });

  it('keeps the replaced originals in the Original Attributes Sequence, byte for byte', () => {
    for (const f of [...chestScp.files(), ...headScp.files()]) {
      const got = parse(f);
      const original = parse(sent.get(got.sop)?.path as string);
      const oas = got.elements.get(0x04000561) as Buffer;
      expect(oas, `Original Attributes Sequence in ${f}`).to.not.equal(undefined);
      expect(oas.includes(original.elements.get(0x0008103e) as Buffer), 'original Series Description').to.equal(true);
      if (sent.get(got.sop)?.name === 'chest') expect(oas.includes(original.elements.get(0x00180015) as Buffer), 'original Body Part Examined').to.equal(true);
      expect(oas.toString('latin1')).to.include('BODYROUTE');
    }
  });

  it('changes nothing else: dcmdump of every forwarded object equals the original apart from the tagged elements', () => {
    const forwarded = [...chestScp.files(), ...headScp.files()];
    const originals = forwarded.map((f) => sent.get(parse(f).sop)?.path as string);
    const dumps = dumpDatasets([...forwarded, ...originals]);
    // top-level lines other than the tagged elements (the Original Attributes Sequence runs to its delimiter)
    const strip = (lines: string[]) => {
      const out: string[] = [];
      let inOas = false;
      for (const l of lines) {
        if (l.startsWith('(0400,0561)')) inOas = true;
        else if (inOas && l.startsWith('(fffe,e0dd)')) inOas = false;
        else if (!inOas && !CHANGED.has(l.slice(0, 11)) && !l.startsWith('(0077,')) out.push(l);
      }
      return out;
    };
    forwarded.forEach((f, i) => expect(strip(dumps.get(f) as string[]), f).to.deep.equal(strip(dumps.get(originals[i]) as string[])));
    // and byte for byte, element by element, in storescp's bit-preserving copies
    for (const f of forwarded) {
      const got = parse(f);
      const want = parse(sent.get(got.sop)?.path as string);
      for (const [t, bytes] of want.elements) {
        if (t === 0x0008103e || t === 0x00180015) continue;
        expect((got.elements.get(t) as Buffer).equals(bytes), `${f} element ${t.toString(16)}`).to.equal(true);
      }
      const added = [...got.elements.keys()].filter((t) => !want.elements.has(t));
      expect(
        added.every((t) => t >>> 16 === 0x0077 || t === 0x04000561 || t === 0x00180015 || t === 0x0008103e),
        added.map((t) => t.toString(16)).join(','),
      ).to.equal(true);
    }
  });

  it('knee MR goes only to the archive, labelled KNEE', async () => {
    const ids = await orthanc.instanceIds();
    let knees = 0;
    for (const id of ids) {
      const path = join(fx.tmp, `o-${id}.dcm`);
      writeFileSync(path, await orthanc.instanceFile(id));
      const p = parse(path);
      if (sent.get(p.sop)?.name === 'knee') {
        knees++;
        expect(p.values.get(0x00771004)).to.equal('KNEE');
      }
    }
    expect(knees).to.equal(SERIES.knee.count);
  });
});
