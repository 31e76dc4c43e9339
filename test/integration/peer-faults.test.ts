import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { encodeCStoreRq } from '../../src/dicom/ul/command';
import { encodeAssociateRq, encodePData } from '../../src/dicom/ul/pdu';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/** Opens an association for CT in explicit VR LE and returns the socket once accepted. */
async function associate(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  s.write(
    encodeAssociateRq({
      callingAeTitle: 'FAULTY',
      calledAeTitle: 'BODYROUTE',
      maxPduLength: 16384,
      contexts: [{ id: 1, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUids: ['1.2.840.10008.1.2.1'] }],
    }),
  );
  const first = await new Promise<Buffer>((resolve) => s.once('data', resolve));
  if (first[0] !== 0x02) throw new Error(`expected A-ASSOCIATE-AC, got PDU type ${first[0]}`);
  return s;
}

describe('peer faults: a sender that goes away mid-object', function () {
  this.timeout(60000);
  const fx = suiteFixture('peerfault');
  let br: BodyrouteProcess;

  before(async () => {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp, { pduTimeoutMs: 2000, objectTimeoutMs: 2500 }));
  });

  it('forwards nothing and cleans the partial file when the peer disconnects in the middle of a dataset', async () => {
    const img = syntheticImage({ rows: 256, columns: 256 });
    const meta = readFileMeta(img.bytes);
    const dataset = img.bytes.subarray(meta.datasetOffset);
    const s = await associate(br.port);
    s.write(Buffer.concat(encodePData(1, true, true, encodeCStoreRq(1, meta.sopClassUid, meta.sopInstanceUid))));
    s.write(Buffer.concat(encodePData(1, false, false, dataset.subarray(0, 16000))));
    s.write(Buffer.concat(encodePData(1, false, false, dataset.subarray(16000, 32000))));
    await new Promise((r) => setTimeout(r, 300));
    s.destroy();
    await br.waitForEntry({ message: 'association closed', callingAe: 'FAULTY', objects: 0, failed: 0, partial: 1 });
    await waitFor('the partial file removed', () => readdirSync(join(fx.tmp, 'spool', 'tmp')).length === 0, 5000);
    expect(readdirSync(join(fx.tmp, 'spool', 'inbox'))).to.deep.equal([]);
    expect(existsSync(join(fx.tmp, 'archive', img.studyUid))).to.equal(false);
  });

  it('aborts a peer that trickles an object byte by byte past listen.objectTimeoutMs, and cleans up', async () => {
    const img = syntheticImage({ rows: 64, columns: 64 });
    const meta = readFileMeta(img.bytes);
    const s = await associate(br.port);
    s.on('error', () => undefined);
    const t0 = Date.now();
    const closed = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now() - t0)));
    s.write(Buffer.concat(encodePData(1, true, true, encodeCStoreRq(1, meta.sopClassUid, meta.sopInstanceUid))));
    // one PDU announcing the first 4000 dataset bytes, then one byte every 100 ms: never idle long enough for the PDU timeout
    const chunk = img.bytes.subarray(meta.datasetOffset, meta.datasetOffset + 4000);
    const [head, body] = encodePData(1, false, false, chunk);
    s.write(head);
    let i = 0;
    const drip = setInterval(() => {
      if (s.destroyed || i >= body.length) return clearInterval(drip);
      s.write(body.subarray(i, i + 1));
      i++;
    }, 100);
    const ms = await closed;
    clearInterval(drip);
    expect(ms).to.be.within(2000, 6000);
    await br.waitForEntry({ message: 'connection dropped', reason: /(PDU|object) not received within listen.objectTimeoutMs/ });
    await waitFor('the partial file removed', () => readdirSync(join(fx.tmp, 'spool', 'tmp')).length === 0, 5000);
  });

  it('aborts an association that goes silent in the middle of a dataset (PDU timeout) and cleans up', async () => {
    const img = syntheticImage({ rows: 256, columns: 256 });
    const meta = readFileMeta(img.bytes);
    const s = await associate(br.port);
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      s.once('close', () => resolve(Date.now() - t0));
    });
    s.on('error', () => undefined);
    s.write(Buffer.concat(encodePData(1, true, true, encodeCStoreRq(1, meta.sopClassUid, meta.sopInstanceUid))));
    s.write(Buffer.concat(encodePData(1, false, false, img.bytes.subarray(meta.datasetOffset, meta.datasetOffset + 16000))));
    const ms = await closed;
    expect(ms).to.be.within(1000, 8000);
    await waitFor('the partial file removed', () => readdirSync(join(fx.tmp, 'spool', 'tmp')).length === 0, 5000);
    expect(existsSync(join(fx.tmp, 'archive', img.studyUid))).to.equal(false);
  });
});
