import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encoding } from '../../../src/dicom/element-reader';
import { summarizeDataset } from '../../../src/dicom/header';
import { readFileMeta } from '../../../src/dicom/part10';
import { planSplice, spliceDataset } from '../../../src/dicom/splice';
import { DeadLetterBox } from '../../../src/dispatch/dead-letter';
import { decodeEdits, DatasetEdits, DatasetReader, editsFromParts, encodeEdits, readEdits } from '../../../src/spool/dataset-edits';
import { tagEdits, TagOptions } from '../../../src/tag/tagger';
import { syntheticImage } from '../../helpers/synthetic-dicom';

const EXPLICIT: Encoding = { explicitVr: true, littleEndian: true };
const TAG_OPTIONS: TagOptions = {
  privateGroup: 0x0077,
  privateCreator: 'BODYROUTE 1.0',
  seriesDescription: 'append',
  bodyPartExamined: 'overwrite',
  software: 'bodyroute test',
};
const LABEL = { imageRegion: 'chest', confidence: 0.91, model: 'test 1' };

describe('spool/dataset-edits', () => {
  let tmp: string;
  let file: string;
  let dataset: Buffer;
  const meta = Buffer.alloc(132, 0x42); // stands in for preamble + file meta: the reader skips datasetOffset bytes

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-edits-'));
    // the synthetic object is Part-10; keep only its dataset
    const part10 = syntheticImage({ rows: 64, columns: 64, privateTags: true }).bytes;
    dataset = part10.subarray(readFileMeta(part10).datasetOffset);
    file = join(tmp, 'object.dcm');
    writeFileSync(file, Buffer.concat([meta, dataset]));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function readAll(edits: DatasetEdits | undefined, window: number): Promise<Buffer> {
    const reader = await DatasetReader.open({ path: file, datasetOffset: meta.length, sizeBytes: meta.length + dataset.length, edits });
    const out: Buffer[] = [];
    try {
      const buffer = Buffer.alloc(window);
      for (let pieces = await reader.next(buffer); pieces.length; pieces = await reader.next(buffer)) out.push(Buffer.concat(pieces));
    } finally {
      await reader.close();
    }
    return Buffer.concat(out);
  }

  it('plans from the header alone exactly the dataset that tagging the whole dataset gives', async () => {
    const headerLength = summarizeDataset(dataset, '1.2.840.10008.1.2.1').headerLength as number;
    expect(headerLength).to.be.lessThan(dataset.length - 64 * 64 * 2);
    const header = dataset.subarray(0, headerLength);
    const fromHeader = editsFromParts(planSplice(header, EXPLICIT, tagEdits(header, EXPLICIT, LABEL, TAG_OPTIONS), dataset.length));
    const whole = spliceDataset(dataset, EXPLICIT, tagEdits(dataset, EXPLICIT, LABEL, TAG_OPTIONS));
    expect(fromHeader.datasetBytes).to.equal(whole.length);
    for (const window of [7, 100, 4096, 1 << 20]) expect((await readAll(fromHeader, window)).equals(whole), `window ${window}`).to.equal(true);
  });

  it('reads an object without edits as stored, whatever the window', async () => {
    for (const window of [1, 333, 1 << 20]) expect((await readAll(undefined, window)).equals(dataset)).to.equal(true);
  });

  it('round-trips as one line of text, and reads the edits file of an earlier version; refuses edits that copy bytes the object lacks', async () => {
    const header = dataset.subarray(0, summarizeDataset(dataset, '1.2.840.10008.1.2.1').headerLength);
    const edits = editsFromParts(planSplice(header, EXPLICIT, tagEdits(header, EXPLICIT, LABEL, TAG_OPTIONS), dataset.length));
    const line = encodeEdits(edits);
    // it is the tail of a journal line: split at spaces and lines
    expect(line).to.not.match(/[\s]/);
    const back = decodeEdits(line, dataset.length, 'the journal');
    expect((await readAll(back, 1 << 20)).equals(await readAll(edits, 1 << 20))).to.equal(true);
    const path = join(tmp, 'object.edits');
    writeFileSync(path, line + '\n');
    const fromFile = (await readEdits(path, dataset.length)) as DatasetEdits;
    expect((await readAll(fromFile, 1 << 20)).equals(await readAll(edits, 1 << 20))).to.equal(true);
    expect(await readEdits(join(tmp, 'none.edits'), dataset.length)).to.equal(undefined);
    const refused = await readEdits(path, dataset.length - 10).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(refused).to.match(/copies bytes/);
    expect(() => decodeEdits('{"version":1', dataset.length, 'line 3')).to.throw('line 3 does not hold bodyroute edits');
  });

  it('refuses to plan edits at or after Pixel Data from the header alone', () => {
    const header = dataset.subarray(0, summarizeDataset(dataset, '1.2.840.10008.1.2.1').headerLength);
    expect(() => planSplice(header, EXPLICIT, [{ kind: 'set', element: { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(2) } }], dataset.length)).to.throw(
      /whole dataset/,
    );
  });

  it('puts the edited object, with the spool file meta, in the dead-letter box', async () => {
    const header = dataset.subarray(0, summarizeDataset(dataset, '1.2.840.10008.1.2.1').headerLength);
    const edits = editsFromParts(planSplice(header, EXPLICIT, tagEdits(header, EXPLICIT, LABEL, TAG_OPTIONS), dataset.length));
    const box = new DeadLetterBox(join(tmp, 'dead'));
    const item = {
      id: 'x1',
      path: file,
      datasetOffset: meta.length,
      sizeBytes: meta.length + dataset.length,
      edits,
      sopClassUid: '1.2',
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    };
    await box.put('pacs', item, new Error('refused'), 1);
    const dead = readFileSync(join(tmp, 'dead', 'pacs', 'x1.dcm'));
    expect(dead.subarray(0, meta.length).equals(meta)).to.equal(true);
    expect(dead.subarray(meta.length).equals(await readAll(edits, 1 << 20))).to.equal(true);
  });
});
