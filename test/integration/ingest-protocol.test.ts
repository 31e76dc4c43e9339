import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { CommandField, decodeCommand, encodeCStoreRq } from '../../src/dicom/ul/command';
import { PduType, RELEASE_RQ } from '../../src/dicom/ul/pdu';
import { CT, pdata, pdv, RawPeer } from '../helpers/raw-peer';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { waitForFile } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

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
