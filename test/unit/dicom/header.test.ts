import { expect } from 'chai';
import { deflateRawSync } from 'node:zlib';
import { summarizeDataset } from '../../../src/dicom/header';
import { Router } from '../../../src/route/router';
import { parseConfig } from '../../../src/config/load';
import { readFileMeta } from '../../../src/dicom/part10';
import { MalformedError } from '../../../src/dicom/element-reader';
import { Tags } from '../../../src/dicom/tags';
import { encodeDataset, str, syntheticImage } from '../../helpers/synthetic-dicom';

describe('dicom/header', () => {
  const img = syntheticImage({ rows: 32, columns: 32, seriesDescription: 'CHEST 1MM' });
  const dataset = img.bytes.subarray(readFileMeta(img.bytes).datasetOffset);

  it('reads the routing attributes from a whole dataset', () => {
    const s = summarizeDataset(dataset, img.transferSyntaxUid);
    expect(s.extent).to.equal('complete');
    expect(s).to.include({ sopInstanceUid: img.sopInstanceUid, studyInstanceUid: img.studyUid, seriesInstanceUid: img.seriesUid, modality: 'CT' });
    expect(s.values.get(Tags.SeriesDescription)).to.equal('CHEST 1MM');
  });

  it('decodes text per Specific Character Set, so routes match UTF-8 and ISO 2022 Japanese descriptions', () => {
    const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
    const raw = (tagv: number, vr: string, b: Buffer) => ({ tag: tagv, vr, value: b.length % 2 ? Buffer.concat([b, Buffer.from(' ')]) : b });
    const jis = Buffer.concat([Buffer.from('\x1b$B', 'latin1'), Buffer.from([0x36, 0x3b, 0x49, 0x74]), Buffer.from('\x1b(B CT', 'latin1')]); // 胸部 CT
    const utf8 = encodeDataset(
      [raw(t(0x0008, 0x0005), 'CS', Buffer.from('ISO_IR 192')), raw(t(0x0008, 0x103e), 'LO', Buffer.from('Thorax Übersicht', 'utf8'))],
      true,
    );
    const japanese = encodeDataset([raw(t(0x0008, 0x0005), 'CS', Buffer.from('\\ISO 2022 IR 87')), raw(t(0x0008, 0x103e), 'LO', jis)], true);
    const latin1 = encodeDataset(
      [raw(t(0x0008, 0x0005), 'CS', Buffer.from('ISO_IR 100')), raw(t(0x0008, 0x103e), 'LO', Buffer.from('Thorax Übersicht', 'latin1'))],
      true,
    );
    const EXPLICIT = '1.2.840.10008.1.2.1';
    const desc = (d: Buffer) => summarizeDataset(d, EXPLICIT).values.get(Tags.SeriesDescription) as string;
    expect(desc(utf8)).to.equal('Thorax Übersicht');
    expect(desc(latin1)).to.equal('Thorax Übersicht');
    expect(desc(japanese)).to.equal('胸部 CT');
    const dests = [
      { name: 'chest', type: 'folder', path: '/x/c' },
      { name: 'other', type: 'folder', path: '/x/o' },
    ];
    const r = new Router(
      parseConfig({ destinations: dests, routes: [{ when: { tags: { '(0008,103E)': 'Übersicht|胸部' } }, to: ['chest'] }, { to: ['other'] }] }, '/').routes,
    );
    const route = (d: Buffer) => r.route({ regions: [], modality: 'CT', callingAeTitle: 'A', calledAeTitle: 'B', tags: summarizeDataset(d, EXPLICIT).values });
    expect(route(utf8)).to.deep.equal(['chest']);
    expect(route(japanese)).to.deep.equal(['chest']);
    expect(route(latin1)).to.deep.equal(['chest']);
  });

  it('reads a prefix and says which element runs past it', () => {
    const s = summarizeDataset(dataset.subarray(0, dataset.length - 100), img.transferSyntaxUid);
    expect(s.extent).to.equal('truncated');
    expect(s.openElement?.tag).to.equal(Tags.PixelData);
    expect(s.openElement?.length).to.equal(32 * 32 * 2);
    expect(s.sopInstanceUid).to.equal(img.sopInstanceUid);
  });

  it('reads a deflated dataset, even a prefix of one', () => {
    const deflated = deflateRawSync(dataset);
    const s = summarizeDataset(deflated.subarray(0, Math.floor(deflated.length / 2)), '1.2.840.10008.1.2.1.99');
    expect(s.sopInstanceUid).to.equal(img.sopInstanceUid);
  });

  it('refuses elements out of tag order', () => {
    const good = encodeDataset([str(0x00100010, 'PN', 'A')], true);
    const earlier = encodeDataset([str(0x00080060, 'CS', 'CT')], true);
    expect(() => summarizeDataset(Buffer.concat([good, earlier]), '1.2.840.10008.1.2.1')).to.throw(MalformedError, /order/);
  });
});
