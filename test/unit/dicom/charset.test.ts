import { expect } from 'chai';
import { decodeText, isSupportedCharacterSet } from '../../../src/dicom/charset';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('dicom/charset', () => {
  it('decodes the default repertoire and Latin-1 (accents kept)', () => {
    expect(decodeText(Buffer.from('KNEE '), undefined)).to.equal('KNEE');
    expect(decodeText(Buffer.from('Hüfte rechts ', 'latin1'), 'ISO_IR 100')).to.equal('Hüfte rechts');
  });

  it('decodes UTF-8, Cyrillic and GB18030', () => {
    expect(decodeText(Buffer.from('Épaule gauche', 'utf8'), 'ISO_IR 192')).to.equal('Épaule gauche');
    expect(decodeText(Buffer.from([0xda, 0xde, 0xdb, 0xd5, 0xdd, 0xde]), 'ISO_IR 144')).to.equal('колено');
    expect(decodeText(Buffer.from([0xcd, 0xb7, 0xb2, 0xbf]), 'GB18030')).to.equal('头部');
  });

  it('decodes ISO 2022 with code extensions (PS3.5 H.3.1 and I.2 examples)', () => {
    const japanese = bytes('Yamada^Tarou=\x1b$B', [0x3b, 0x33, 0x45, 0x44], '\x1b(B^\x1b$B', [0x42, 0x40, 0x4f, 0x3a], '\x1b(B');
    expect(decodeText(japanese, '\\ISO 2022 IR 87')).to.equal('Yamada^Tarou=山田^太郎');
    const korean = bytes('Hong^Gildong=\x1b$)C', [0xfb, 0xf3], '^\x1b$)C', [0xd1, 0xce, 0xd4, 0xd7]);
    expect(decodeText(korean, '\\ISO 2022 IR 149')).to.equal('Hong^Gildong=洪^吉洞');
  });

  it('says which character sets it can decode', () => {
    expect(isSupportedCharacterSet('ISO_IR 100')).to.equal(true);
    expect(isSupportedCharacterSet('\\ISO 2022 IR 87')).to.equal(true);
    expect(isSupportedCharacterSet('ISO_IR 999')).to.equal(false);
  });
});
