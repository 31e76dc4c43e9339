import { expect } from 'chai';
import {
  decodeAssociateAc,
  decodeAssociateRq,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodePData,
  PduFormatError,
  PduType,
} from '../../../../src/dicom/ul/pdu';
import { PduReader } from '../../../../src/dicom/ul/pdu-parser';

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

describe('dicom/ul/pdu', () => {
  it('encodes an A-ASSOCIATE-RQ with AE titles, one context per syntax and the max PDU length', () => {
    const pdu = encodeAssociateRq({
      callingAeTitle: 'BODYROUTE',
      calledAeTitle: 'PACS',
      maxPduLength: 65536,
      contexts: [{ id: 1, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUids: ['1.2.840.10008.1.2.4.90'] }],
    });
    expect(pdu[0]).to.equal(PduType.AssociateRq);
    expect(pdu.readUInt32BE(2)).to.equal(pdu.length - 6);
    expect(pdu.toString('latin1', 10, 26)).to.equal('PACS            ');
    expect(pdu.toString('latin1', 26, 42)).to.equal('BODYROUTE       ');
    expect(pdu.includes(Buffer.from('1.2.840.10008.1.2.4.90'))).to.equal(true);
    const maxAt = pdu.indexOf(Buffer.from([0x51, 0, 0, 4]));
    expect(pdu.readUInt32BE(maxAt + 4)).to.equal(65536);
  });

  it('decodes an A-ASSOCIATE-AC: context results, accepted syntax and the peer max PDU', () => {
    const ctx = (id: number, result: number, ts: string) => item(0x21, Buffer.concat([Buffer.from([id, 0, result, 0]), item(0x40, Buffer.from(ts))]));
    const max = Buffer.alloc(4);
    max.writeUInt32BE(16384, 0);
    const body = Buffer.concat([
      Buffer.alloc(68),
      item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
      ctx(1, 0, '1.2.840.10008.1.2.1\0'),
      ctx(3, 4, ''),
      item(0x50, item(0x51, max)),
    ]);
    const ac = decodeAssociateAc(body);
    expect(ac.maxPduLength).to.equal(16384);
    expect(ac.contexts).to.deep.equal([
      { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.1' },
      { id: 3, result: 4, transferSyntaxUid: '' },
    ]);
  });

  it('decodes the A-ASSOCIATE-RQ it encodes: AE titles, contexts with every syntax, max PDU, implementation', () => {
    const rq = {
      callingAeTitle: 'CT01',
      calledAeTitle: 'BODYROUTE',
      maxPduLength: 16384,
      contexts: [
        { id: 1, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUids: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
        { id: 3, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
      ],
    };
    const decoded = decodeAssociateRq(encodeAssociateRq(rq).subarray(6));
    expect(decoded).to.deep.include(rq);
    expect(decoded.applicationContextName).to.equal('1.2.840.10008.3.1.1.1');
    expect(decoded.implementationClassUid).to.match(/^[0-9.]+$/);
  });

  it('refuses an A-ASSOCIATE-RQ that is short or whose items run past the PDU', () => {
    expect(() => decodeAssociateRq(Buffer.alloc(40))).to.throw(PduFormatError);
    const body = encodeAssociateRq({
      callingAeTitle: 'A',
      calledAeTitle: 'B',
      maxPduLength: 0,
      contexts: [{ id: 1, abstractSyntaxUid: '1.2', transferSyntaxUids: ['1.2.840.10008.1.2'] }],
    }).subarray(6);
    expect(() => decodeAssociateRq(body.subarray(0, body.length - 3))).to.throw(PduFormatError);
    const bad = Buffer.from(body);
    bad.writeUInt16BE(0xffff, 68 + 2); // application context item claims 64 KB
    expect(() => decodeAssociateRq(bad)).to.throw(PduFormatError);
  });

  it('encodes an A-ASSOCIATE-AC that its own decoder reads back, echoing the AE titles', () => {
    const rq = { callingAeTitle: 'CT01', calledAeTitle: 'BODYROUTE', maxPduLength: 16384, contexts: [] };
    const pdu = encodeAssociateAc(
      rq,
      [
        { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.4.90' },
        { id: 3, result: 3, transferSyntaxUid: '1.2.840.10008.1.2' },
      ],
      262144,
    );
    expect(pdu[0]).to.equal(PduType.AssociateAc);
    expect(pdu.toString('latin1', 10, 26)).to.equal('BODYROUTE       ');
    expect(pdu.toString('latin1', 26, 42)).to.equal('CT01            ');
    const ac = decodeAssociateAc(pdu.subarray(6));
    expect(ac.maxPduLength).to.equal(262144);
    expect(ac.contexts).to.deep.equal([
      { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.4.90' },
      { id: 3, result: 3, transferSyntaxUid: '1.2.840.10008.1.2' },
    ]);
    expect(Array.from(encodeAssociateRj(1, 1, 7))).to.deep.equal([0x03, 0, 0, 0, 0, 4, 0, 1, 1, 7]);
  });

  it('refuses an A-ASSOCIATE-AC whose item runs past the PDU', () => {
    const body = Buffer.concat([Buffer.alloc(68), Buffer.from([0x21, 0, 0, 50, 1, 0])]);
    expect(() => decodeAssociateAc(body)).to.throw(PduFormatError);
  });

  it('round-trips P-DATA-TF PDVs with command/last flags', () => {
    const [head, data] = encodePData(5, true, true, Buffer.from('abcd'));
    const pdu = Buffer.concat([head, data]);
    expect(pdu.readUInt32BE(2)).to.equal(pdu.length - 6);
    expect(new PduReader(4096).push(pdu)).to.deep.equal([
      { type: PduType.PData, pdvs: [{ contextId: 5, isCommand: true, isLast: true, data: Buffer.from('abcd') }] },
    ]);
  });

  it('splits a byte stream into PDUs whatever the chunking, and bounds their size', () => {
    const a = encodeAbort(2, 6);
    const p = Buffer.concat(encodePData(1, false, false, Buffer.alloc(1000, 1)));
    const stream = Buffer.concat([a, p, a]);
    const reader = new PduReader(4096);
    const seen: number[] = [];
    for (let i = 0; i < stream.length; i += 7) for (const x of reader.push(stream.subarray(i, i + 7))) seen.push(x.type);
    expect(seen).to.deep.equal([PduType.Abort, PduType.PData, PduType.Abort]);
    expect(() => new PduReader(100).push(p)).to.throw(PduFormatError, /limit/);
  });
});
