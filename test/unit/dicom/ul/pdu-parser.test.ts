import { expect } from 'chai';
import { encodePData } from '../../../../src/dicom/ul/pdu';
import { PduHandler, PduParser, PduProtocolError, PdvHeader } from '../../../../src/dicom/ul/pdu-parser';

const limits = { maxDataPduLength: 1000, maxControlPduLength: 100 };
const header = (type: number, length: number) => {
  const b = Buffer.alloc(6);
  b[0] = type;
  b.writeUInt32BE(length, 2);
  return b;
};

/** Records what the parser reports, PDV data joined per PDV. */
class Recorder implements PduHandler {
  events: string[] = [];
  private data: Buffer[] = [];
  control(type: number, body: Buffer): void {
    this.events.push(`control ${type} ${body.toString('hex')}`);
  }
  pdvStart(h: PdvHeader): void {
    this.data = [];
    this.events.push(`pdv ctx=${h.contextId} cmd=${h.isCommand} last=${h.isLast} len=${h.length}`);
  }
  pdvData(data: Buffer): void {
    this.data.push(data);
  }
  pdvEnd(): void {
    this.events.push(`data ${Buffer.concat(this.data).toString('latin1')}`);
  }
}

function twoPdvPdu(): Buffer {
  const a = encodePData(1, true, true, Buffer.from('COMMAND!'));
  const b = encodePData(1, false, false, Buffer.from('dataset part'));
  // one P-DATA-TF carrying both PDVs: header of a with the combined length, then both items
  const items = Buffer.concat([a[0].subarray(6), a[1], b[0].subarray(6), b[1]]);
  return Buffer.concat([header(0x04, items.length), items]);
}

describe('dicom/ul/pdu-parser', () => {
  it('reports control PDUs whole and PDVs as header + data, whatever the chunking', () => {
    const stream = Buffer.concat([header(0x01, 3), Buffer.from([1, 2, 3]), twoPdvPdu(), header(0x05, 4), Buffer.alloc(4)]);
    const expected = [
      'control 1 010203',
      'pdv ctx=1 cmd=true last=true len=8',
      'data COMMAND!',
      'pdv ctx=1 cmd=false last=false len=12',
      'data dataset part',
      'control 5 00000000',
    ];
    for (const size of [1, 2, 5, 7, stream.length]) {
      const r = new Recorder();
      const p = new PduParser(limits, r);
      for (let i = 0; i < stream.length; i += size) p.push(stream.subarray(i, i + size));
      expect(r.events, `chunks of ${size}`).to.deep.equal(expected);
      expect(p.partialSince).to.equal(undefined);
    }
  });

  it('passes dataset bytes as slices of the incoming chunk (no copy)', () => {
    const chunk = Buffer.concat(encodePData(3, false, true, Buffer.alloc(200, 7)));
    const slices: Buffer[] = [];
    new PduParser(limits, { control: () => undefined, pdvStart: () => undefined, pdvData: (d) => slices.push(d), pdvEnd: () => undefined }).push(chunk);
    expect(slices).to.have.length(1);
    expect(slices[0].buffer).to.equal(chunk.buffer);
  });

  it('knows when a PDU is incomplete (for the trickle timeout)', () => {
    const p = new PduParser(limits, new Recorder());
    p.push(header(0x04, 500), 1234);
    expect(p.partialSince).to.equal(1234);
  });

  it('refuses an unknown PDU type, a length above the limit (data and control separately), and PDVs that do not fit', () => {
    const parse = (b: Buffer) => () => new PduParser(limits, new Recorder()).push(b);
    expect(parse(header(0x42, 1))).to.throw(PduProtocolError, /unknown PDU type 0x42/);
    expect(parse(header(0x04, 1001))).to.throw(PduProtocolError, /limit 1000/);
    expect(parse(header(0x01, 101))).to.throw(PduProtocolError, /limit 100/);
    const pdvTooLong = Buffer.concat([header(0x04, 10), Buffer.from([0, 0, 0, 50, 1, 3]), Buffer.alloc(4)]);
    expect(parse(pdvTooLong)).to.throw(PduProtocolError, /does not fit/);
    const stray = Buffer.concat([header(0x04, 9), Buffer.from([0, 0, 0, 3, 1, 3, 0]), Buffer.alloc(2)]);
    expect(parse(stray)).to.throw(PduProtocolError, /stray bytes/);
  });
});
