import { expect } from 'chai';
import { ElementReader, stringValue } from '../../../src/dicom/element-reader';
import { tagDataset, TagOptions } from '../../../src/tag/tagger';
import { labelDescription } from '../../../src/tag/series-description';
import { seriesBodyPartTerm } from '../../../src/regions/body-part-terms';
import { encodeDataset, str } from '../../helpers/synthetic-dicom';

const LE = { explicitVr: true, littleEndian: true };
const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
const opts: TagOptions = {
  privateGroup: 0x0077,
  privateCreator: 'BODYROUTE 1.0',
  seriesDescription: 'append',
  bodyPartExamined: 'overwrite',
  software: 'bodyroute 0.2.0',
};

function values(data: Buffer): Map<number, string> {
  const r = new ElementReader(data, LE);
  return new Map([...r.elements()].filter((e) => e.vr !== 'SQ' && e.vr !== 'OW').map((e) => [e.tag, stringValue(r.valueBytes(e))]));
}

describe('tag/tagger', () => {
  const original = encodeDataset(
    [
      str(t(0x0008, 0x0060), 'CS', 'CT'),
      str(t(0x0008, 0x103e), 'LO', 'CT THORAX'),
      str(t(0x0018, 0x0015), 'CS', 'LUNG'),
      { tag: t(0x7fe0, 0x0010), vr: 'OW', value: Buffer.alloc(16) },
    ],
    true,
  );

  it('writes the private block: creator, region term, confidence, model, software', () => {
    const v = values(
      tagDataset(
        original,
        LE,
        { imageRegion: 'chest', confidence: 0.98765, model: 'bodyregion-cnn 1.0.0' },
        { ...opts, seriesDescription: 'off', bodyPartExamined: 'off' },
      ),
    );
    expect(v.get(t(0x0077, 0x0010))).to.equal('BODYROUTE 1.0');
    expect(v.get(t(0x0077, 0x1001))).to.equal('CHEST');
    expect(v.get(t(0x0077, 0x1002))).to.equal('0.9877');
    expect(v.get(t(0x0077, 0x1003))).to.equal('bodyregion-cnn 1.0.0');
    expect(v.get(t(0x0077, 0x1005))).to.equal('bodyroute 0.2.0');
    expect(v.get(t(0x0008, 0x103e))).to.equal('CT THORAX');
  });

  it('records which evidence decided the region in (0077,xx06)', () => {
    const tagged = (evidence: 'image' | 'image+header' | 'header') =>
      values(tagDataset(original, LE, { imageRegion: 'chest', confidence: 0.9, model: 'm 1', evidence }, opts)).get(t(0x0077, 0x1006));
    expect(tagged('image')).to.equal('IMAGE');
    expect(tagged('image+header')).to.equal('IMAGE_HEADER');
    expect(tagged('header')).to.equal('HEADER');
  });

  it('changes Series Description / Body Part Examined and keeps the originals in the Original Attributes Sequence', () => {
    const out = tagDataset(original, LE, { imageRegion: 'chest', confidence: 0.9, model: 'm 1' }, opts, new Date(Date.UTC(2026, 10, 27, 12, 0, 0)));
    const v = values(out);
    expect(v.get(t(0x0008, 0x103e))).to.equal('CT THORAX [CHEST]');
    expect(v.get(t(0x0018, 0x0015))).to.equal('CHEST');
    const text = out.toString('latin1');
    expect(text).to.include('LUNG'); // the original value, inside (0400,0561)
    expect(text).to.include('CT THORAX');
    expect(text).to.include('20261127120000+0000');
    expect(text).to.include('COERCE');
    const seq = [...new ElementReader(out, LE).elements()].find((e) => e.tag === t(0x0400, 0x0561));
    expect(seq?.vr).to.equal('SQ');
  });

  it('fills Body Part Examined only when empty, and leaves unknown images’ standard elements alone', () => {
    const fill = values(
      tagDataset(original, LE, { imageRegion: 'chest', confidence: 0.9, model: 'm' }, { ...opts, bodyPartExamined: 'fill-if-empty', seriesDescription: 'off' }),
    );
    expect(fill.get(t(0x0018, 0x0015))).to.equal('LUNG');
    const unknown = tagDataset(original, LE, { imageRegion: 'unknown', confidence: 0.3, model: 'm' }, opts);
    expect(values(unknown).get(t(0x0077, 0x1001))).to.equal('UNKNOWN');
    expect(values(unknown).get(t(0x0008, 0x103e))).to.equal('CT THORAX');
    expect(unknown.includes(Buffer.from('COERCE'))).to.equal(false);
  });

  it('writes the series label in series mode, multi-valued head to foot, and a composite term', () => {
    const out = values(
      tagDataset(original, LE, { imageRegion: 'abdomen', confidence: 0.9, model: 'm', series: { regions: ['chest', 'abdomen'], term: 'CHESTABDOMEN' } }, opts),
    );
    expect(out.get(t(0x0077, 0x1004))).to.equal('CHEST\\ABDOMEN');
    expect(out.get(t(0x0018, 0x0015))).to.equal('CHESTABDOMEN');
    expect(out.get(t(0x0008, 0x103e))).to.equal('CT THORAX [CHESTABDOMEN]');
  });

  it('keeps Series Description within 64 characters and does not label twice', () => {
    const text = (e: ReturnType<typeof labelDescription>) => ('value' in e ? e.value.toString('latin1') : `unchanged: ${e.unchanged}`);
    expect(text(labelDescription(Buffer.from('X'.repeat(70)), undefined, 'CHEST', 'append'))).to.have.length(64);
    expect(text(labelDescription(Buffer.from('CT THORAX [CHEST]'), undefined, 'CHEST', 'append'))).to.equal('CT THORAX [CHEST]');
    expect(text(labelDescription(Buffer.from('CT THORAX'), undefined, 'CHEST', 'prefix'))).to.equal('[CHEST] CT THORAX');
    expect(text(labelDescription(undefined, undefined, 'KNEE', 'append'))).to.equal('[KNEE]');
  });

  it('knows the composite Body Part Examined terms', () => {
    expect(seriesBodyPartTerm(['chest', 'abdomen', 'pelvis'], 'abdomen')).to.equal('CHESTABDPELVIS');
    expect(seriesBodyPartTerm(['abdomen', 'pelvis'], 'abdomen')).to.equal('ABDOMENPELVIS');
    expect(seriesBodyPartTerm(['head', 'neck'], 'head')).to.equal('HEADNECK');
    expect(seriesBodyPartTerm(['knee', 'chest'], 'knee')).to.equal('KNEE');
    expect(seriesBodyPartTerm(['upperarm'], 'upperarm')).to.equal('ARM');
  });

  describe("Series Description in the object's character set", () => {
    const value = (e: ReturnType<typeof labelDescription>) => {
      if (!('value' in e)) throw new Error(`unchanged: ${e.unchanged}`);
      return e.value;
    };
    it("keeps a Latin-1 description's accented characters", () => {
      expect(value(labelDescription(Buffer.from('Hüfte rechts ', 'latin1'), 'ISO_IR 100', 'HIP', 'append')).toString('latin1')).to.equal('Hüfte rechts [HIP]');
    });
    it('shortens a long UTF-8 description at a character boundary, to 64 characters', () => {
      const long = 'Épaule '.repeat(12);
      const out = value(labelDescription(Buffer.from(long, 'utf8'), 'ISO_IR 192', 'SHOULDER', 'append')).toString('utf8');
      expect([...out]).to.have.length.at.most(64);
      expect(out.endsWith(' [SHOULDER]')).to.equal(true);
      expect(out).not.to.contain('\ufffd');
      expect(long.startsWith(out.slice(0, -' [SHOULDER]'.length))).to.equal(true);
    });
    it('keeps ISO 2022 escape sequences, and leaves a long ISO 2022 description alone with the reason', () => {
      const jis = Buffer.concat([Buffer.from('\x1b$B', 'latin1'), Buffer.from([0x36, 0x3b, 0x49, 0x74]), Buffer.from('\x1b(B CT', 'latin1')]);
      const labelled = value(labelDescription(jis, '\\ISO 2022 IR 87', 'CHEST', 'append'));
      expect(labelled.equals(Buffer.concat([jis, Buffer.from(' [CHEST]')]))).to.equal(true);
      const long = Buffer.concat([jis, Buffer.from(' '.padEnd(60, 'x'))]);
      expect(labelDescription(long, '\\ISO 2022 IR 87', 'CHEST', 'append'))
        .to.have.property('unchanged')
        .that.matches(/cannot be shortened safely/);
    });
    it('tagging reports a description it left alone', () => {
      const skipped: string[] = [];
      const ds = encodeDataset([str(t(0x0008, 0x0005), 'CS', 'ISO_IR 999'), str(t(0x0008, 0x0060), 'CS', 'CT'), str(t(0x0008, 0x103e), 'LO', 'X')], true);
      const v = values(
        tagDataset(ds, LE, { imageRegion: 'chest', confidence: 0.9, model: 'm 1' }, { ...opts, onSkipped: (what, why) => skipped.push(`${what}: ${why}`) }),
      );
      expect(v.get(t(0x0008, 0x103e))).to.equal('X');
      expect(skipped).to.deep.equal(['Series Description left unchanged: Specific Character Set "ISO_IR 999" is not one bodyroute can decode']);
    });
  });
});
