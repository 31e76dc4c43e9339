import { expect } from 'chai';
import { PduGuard } from '../../../src/ingest/pdu-guard';

const limits = { maxDataPduLength: 1000, maxControlPduLength: 100 };
const header = (type: number, length: number) => {
  const b = Buffer.alloc(6);
  b[0] = type;
  b.writeUInt32BE(length, 2);
  return b;
};

describe('ingest/pdu-guard', () => {
  it('follows PDU boundaries across chunks', () => {
    const g = new PduGuard(limits);
    const stream = Buffer.concat([header(0x04, 500), Buffer.alloc(500), header(0x05, 4), Buffer.alloc(4)]);
    for (let i = 0; i < stream.length; i += 3) expect(g.inspect(stream.subarray(i, i + 3))).to.equal(undefined);
  });

  it('flags an unknown PDU type', () => {
    expect(new PduGuard(limits).inspect(header(0x42, 1))).to.match(/unknown PDU type 0x42/);
  });

  it('flags a length above the limit, separately for data and control PDUs', () => {
    expect(new PduGuard(limits).inspect(header(0x04, 1001))).to.match(/limit 1000/);
    expect(new PduGuard(limits).inspect(header(0x01, 101))).to.match(/limit 100/);
  });
});
