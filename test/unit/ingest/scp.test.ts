import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load';
import { readFileMeta } from '../../../src/dicom/part10';
import { CommandField, decodeCommand, encodeCStoreRq } from '../../../src/dicom/ul/command';
import { PduType, RELEASE_RQ } from '../../../src/dicom/ul/pdu';
import { IngestServer } from '../../../src/ingest/server';
import { Spool } from '../../../src/spool/spool';
import { SpooledObject } from '../../../src/spool/spooled-object';
import { FakeClock, until } from '../../helpers/fake-clock';
import { CT, pdata, pdv, RawPeer } from '../../helpers/raw-peer';
import { recordingLogger } from '../../helpers/recording-logger';
import { syntheticImage } from '../../helpers/synthetic-dicom';

describe('ingest/scp in process (scripted peer, fake clock, real spool folder)', () => {
  let tmp: string;
  let server: IngestServer;
  let clock: FakeClock;
  let port: number;
  const stored: SpooledObject[] = [];

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-scp-'));
    clock = new FakeClock();
    stored.length = 0;
    const cfg = parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0, associationTimeoutMs: 30000, pduTimeoutMs: 60000 },
        destinations: [{ name: 'a', type: 'folder', path: 'a' }],
        routes: [{ to: ['a'] }],
      },
      tmp,
    );
    const spool = new Spool({ dir: join(tmp, 'spool'), minFreeBytes: 0, maxObjectBytes: 1 << 30 }, recordingLogger().log);
    await spool.init();
    server = new IngestServer(cfg.listen, spool, recordingLogger().log, (obj) => stored.push(obj), undefined, clock);
    port = await server.start();
  });

  afterEach(async () => {
    await server.stop(0);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('answers a C-STORE with success only once the object is in the inbox, and releases', async () => {
    const img = syntheticImage({ rows: 16, columns: 16 });
    const dataset = img.bytes.subarray(readFileMeta(img.bytes).datasetOffset);
    const peer = await RawPeer.associate(port);
    peer.send(pdata(pdv(1, true, true, encodeCStoreRq(7, CT, img.sopInstanceUid))), pdata(pdv(1, false, true, dataset)));
    const rsp = await peer.next();
    expect(decodeCommand(rsp.pdvs?.[0].data ?? Buffer.alloc(0))).to.deep.include({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: 7,
      status: 0,
    });
    expect(stored).to.have.length(1);
    expect(existsSync(stored[0].path), 'durable in the inbox before the answer').to.equal(true);
    expect(stored[0].sopInstanceUid).to.equal(img.sopInstanceUid);
    peer.send(RELEASE_RQ);
    expect((await peer.next()).type).to.equal(PduType.ReleaseRp);
  });

  it('drops a connection that never asks for an association after listen.associationTimeoutMs (ARTIM), not before', async () => {
    const peer = await RawPeer.connect(port);
    await clock.advance(29999);
    expect(peer.closed).to.equal(false);
    await clock.advance(1);
    expect((await peer.next()).type).to.equal(PduType.Abort);
    await clock.advance(200);
    await until('closed', () => peer.closed);
  });

  it('aborts an association idle for listen.pduTimeoutMs; traffic in between restarts the wait', async () => {
    const peer = await RawPeer.associate(port);
    await clock.advance(50000);
    peer.send(pdata(pdv(1, true, false, Buffer.alloc(10))));
    // the bytes reach the SCP in real time; the clock stands still meanwhile
    await new Promise((r) => setTimeout(r, 50));
    await clock.advance(50000);
    expect(peer.closed, 'touched 50 s ago: still open').to.equal(false);
    await clock.advance(10000);
    expect((await peer.next()).type).to.equal(PduType.Abort);
  });
});
