import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { CommandField, decodeCommand, encodeCStoreRq } from '../../src/dicom/ul/command';
import { decodeAssociateAc, encodeAssociateRq, PduType, RELEASE_RQ } from '../../src/dicom/ul/pdu';
import { PduReader, WholePdu } from '../../src/dicom/ul/pdu-parser';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { waitFor, waitForFile } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** One PDV item (length, context, flags, data). */
function pdv(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32BE(data.length + 2, 0);
  head[4] = contextId;
  head[5] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  return Buffer.concat([head, data]);
}

/** A P-DATA-TF holding the given PDV items. */
function pdata(...items: Buffer[]): Buffer {
  const body = Buffer.concat(items);
  const head = Buffer.alloc(6);
  head[0] = PduType.PData;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** A raw conversation with bodyroute: PDUs in, PDUs out, no DICOM library in between. */
class RawPeer {
  private readonly reader = new PduReader(16 * 1024 * 1024);
  private readonly received: WholePdu[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.received.push(...this.reader.push(d)));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async associate(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const peer = new RawPeer(socket);
    socket.write(
      encodeAssociateRq({
        callingAeTitle: 'RAWSCU',
        calledAeTitle: 'BODYROUTE',
        maxPduLength: 65536,
        contexts: [{ id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT_LE] }],
      }),
    );
    const ac = await peer.next();
    expect(ac.type).to.equal(PduType.AssociateAc);
    expect(decodeAssociateAc(ac.body ?? Buffer.alloc(0)).contexts[0]).to.deep.include({ id: 1, result: 0, transferSyntaxUid: EXPLICIT_LE });
    return peer;
  }

  send(...pdus: Buffer[]): void {
    for (const p of pdus) this.socket.write(p);
  }

  async next(): Promise<WholePdu> {
    await waitFor('a PDU from bodyroute', () => this.received.length > 0 || this.closed, 10000, 10);
    const p = this.received.shift();
    if (!p) throw new Error('connection closed without a PDU');
    return p;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('ingest protocol: bodyroute upper layer, PDU by PDU', function () {
  this.timeout(60000);
  const fx = suiteFixture('protocol');
  let br: BodyrouteProcess;

  before(async () => {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp));
  });

  it('stores an object whose command spans two PDUs and whose dataset shares a PDU with it, then releases', async () => {
    const img = syntheticImage({ rows: 16, columns: 16 });
    const dataset = img.bytes.subarray(readFileMeta(img.bytes).datasetOffset);
    const command = encodeCStoreRq(5, CT, img.sopInstanceUid);
    const cut = 20;
    const half = Math.floor(dataset.length / 2);
    const peer = await RawPeer.associate(br.port);
    peer.send(
      pdata(pdv(1, true, false, command.subarray(0, cut))),
      pdata(pdv(1, true, true, command.subarray(cut)), pdv(1, false, false, dataset.subarray(0, 7))),
      pdata(pdv(1, false, false, dataset.subarray(7, half)), pdv(1, false, true, dataset.subarray(half))),
    );
    const rsp = await peer.next();
    expect(rsp.type).to.equal(PduType.PData);
    const [item] = rsp.pdvs ?? [];
    expect(item).to.deep.include({ contextId: 1, isCommand: true, isLast: true });
    expect(decodeCommand(item.data)).to.deep.include({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: 5,
      status: 0,
      affectedSopInstanceUid: img.sopInstanceUid,
    });
    peer.send(RELEASE_RQ);
    expect((await peer.next()).type).to.equal(PduType.ReleaseRp);
    peer.destroy();
    const archived = join(fx.tmp, 'archive', img.studyUid, img.seriesUid, `${img.sopInstanceUid}.dcm`);
    await waitForFile('archived', archived);
    const file = readFileSync(archived);
    expect(file.subarray(readFileMeta(file).datasetOffset).equals(dataset)).to.equal(true);
  });

  it('aborts a DIMSE command it does not serve (C-FIND-RQ on a storage context), and says so', async () => {
    const find = Buffer.from(encodeCStoreRq(7, CT, '1.2.3'));
    find.writeUInt16LE(0x0020, find.indexOf(Buffer.from([0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00])) + 8); // CommandField → C-FIND-RQ
    const peer = await RawPeer.associate(br.port);
    peer.send(pdata(pdv(1, true, true, find)));
    expect((await peer.next()).type).to.equal(PduType.Abort);
    peer.destroy();
    await br.waitForEntry({ message: 'connection dropped', reason: /unsupported DIMSE command 0x0020/ });
  });

  it('aborts a PDV for a presentation context that was never accepted, and says so', async () => {
    const peer = await RawPeer.associate(br.port);
    peer.send(pdata(pdv(3, true, true, encodeCStoreRq(1, CT, '1.2.3'))));
    expect((await peer.next()).type).to.equal(PduType.Abort);
    peer.destroy();
    await br.waitForEntry({ message: 'connection dropped', reason: /presentation context 3, which was not accepted/ });
  });
});
