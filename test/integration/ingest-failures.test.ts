import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { ObjectToSend, ScuAssociation } from '../../src/dispatch/scu-association';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/** Sends a file's dataset bytes as they are, with the UIDs given, over bodyroute's own raw SCU. */
async function storeRaw(port: number, path: string, bytes: Buffer, uids?: { sopClassUid?: string; sopInstanceUid?: string }): Promise<number> {
  writeFileSync(path, bytes);
  const meta = readFileMeta(bytes);
  const obj: ObjectToSend = {
    path,
    datasetOffset: meta.datasetOffset,
    sizeBytes: bytes.length,
    sopClassUid: uids?.sopClassUid ?? meta.sopClassUid,
    sopInstanceUid: uids?.sopInstanceUid ?? meta.sopInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
  };
  const a = await ScuAssociation.open(
    { host: '127.0.0.1', port, callingAeTitle: 'TESTSCU', calledAeTitle: 'BODYROUTE', maxPduLength: 16384, connectTimeoutMs: 5000, responseTimeoutMs: 5000 },
    [{ sopClassUid: meta.sopClassUid, transferSyntaxUid: meta.transferSyntaxUid }],
  );
  try {
    const ctx = a.contextFor(meta.sopClassUid, meta.transferSyntaxUid);
    if (ctx === undefined) throw new Error('context not accepted');
    return (await a.store(obj, ctx)).status;
  } finally {
    await a.release();
  }
}

describe('ingest: bad objects get a failure status and leave nothing behind', function () {
  this.timeout(60000);
  const fx = suiteFixture('fail');
  let br: BodyrouteProcess;
  const spoolFiles = () => ['tmp', 'inbox', 'store'].flatMap((d) => readdirSync(join(fx.tmp, 'spool', d)));

  before(async () => {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp, { maxObjectBytes: 200000 }));
  });

  it('stores a good object (status 0x0000) into the folder archive as study/series/instance', async () => {
    const img = syntheticImage({ rows: 64, columns: 64 });
    expect(await storeRaw(br.port, join(fx.tmp, 'good.dcm'), img.bytes)).to.equal(0x0000);
    const archived = join(fx.tmp, 'archive', img.studyUid, img.seriesUid, `${img.sopInstanceUid}.dcm`);
    await waitFor('the archived file', () => existsSync(archived));
    expect(readFileMeta(readFileSync(archived)).sopInstanceUid).to.equal(img.sopInstanceUid);
    // readable by the service user only
    expect(statSync(archived).mode & 0o777).to.equal(0o600);
    expect(statSync(join(fx.tmp, 'archive', img.studyUid)).mode & 0o777).to.equal(0o700);
    expect(statSync(join(fx.tmp, 'spool', 'inbox')).mode & 0o777).to.equal(0o700);
    // no patient data in the logs (the synthetic images carry TEST^PHANTOM / PHANTOM-001)
    expect(br.logs()).not.to.match(/PHANTOM/);
  });

  it('answers 0xC000 to a dataset cut off inside its pixel data', async () => {
    const img = syntheticImage({ rows: 64, columns: 64 });
    expect(await storeRaw(br.port, join(fx.tmp, 'truncated.dcm'), img.bytes.subarray(0, img.bytes.length - 1000))).to.equal(0xc000);
    await br.waitForEntry({ message: 'C-STORE failed', code: 'OBJECT_TRUNCATED' });
  });

  it('answers 0xC000 to bytes that are not a dataset', async () => {
    const img = syntheticImage({ rows: 16, columns: 16 });
    const meta = readFileMeta(img.bytes);
    const garbage = Buffer.concat([img.bytes.subarray(0, meta.datasetOffset), Buffer.from('this is not DICOM at all, just text that goes on and on')]);
    expect(await storeRaw(br.port, join(fx.tmp, 'garbage.dcm'), garbage)).to.equal(0xc000);
  });

  it('answers 0xC000 to a hostile SOP Instance UID and writes no file named after it', async () => {
    const img = syntheticImage({ rows: 16, columns: 16 });
    expect(await storeRaw(br.port, join(fx.tmp, 'hostile.dcm'), img.bytes, { sopInstanceUid: '../../../../tmp/owned' })).to.equal(0xc000);
    await br.waitForEntry({ message: 'C-STORE failed', code: 'UID_INVALID' });
  });

  it('answers 0xA700 to an object over listen.maxObjectBytes', async () => {
    const img = syntheticImage({ rows: 512, columns: 512 });
    expect(await storeRaw(br.port, join(fx.tmp, 'big.dcm'), img.bytes)).to.equal(0xa700);
    await br.waitForEntry({ message: 'C-STORE failed', code: 'OBJECT_TOO_LARGE' });
  });

  it('leaves no partial or rejected file in the spool', () => {
    expect(spoolFiles()).to.deep.equal([]);
  });
});

describe('ingest: a spool without room answers 0xA700', function () {
  this.timeout(30000);
  const fx = suiteFixture('full');
  let br: BodyrouteProcess;

  before(async () => {
    // more free space than any disk has: every store is refused
    br = await startBodyroute(fx.tmp, { ...folderConfig(fx.tmp), spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: Number.MAX_SAFE_INTEGER } });
  });

  it('refuses with out-of-resources and writes nothing', async () => {
    const img = syntheticImage({ rows: 32, columns: 32 });
    expect(await storeRaw(br.port, join(fx.tmp, 'x.dcm'), img.bytes)).to.equal(0xa700);
    await br.waitForEntry({ message: 'C-STORE failed', status: '0xA700', code: 'SPOOL_FULL' });
    expect(['tmp', 'inbox', 'store'].flatMap((d) => readdirSync(join(fx.tmp, 'spool', d)))).to.deep.equal([]);
  });
});
