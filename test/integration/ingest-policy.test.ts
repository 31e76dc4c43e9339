import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { ScuAssociation } from '../../src/dispatch/scu-association';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { dicomFilesUnder, PEER_ENV, run, waitFor } from '../helpers/tools';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { join } from 'node:path';
import { suiteFixture } from '../helpers/suite-fixture';

function echo(port: number, callingAe: string, calledAe = 'BODYROUTE') {
  const r = spawnSync('echoscu', ['-aet', callingAe, '-aec', calledAe, '127.0.0.1', String(port)], { env: PEER_ENV, encoding: 'latin1' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Sends bytes, then resolves with whatever came back before the peer closed (or after a pause). */
function sendRaw(port: number, bytes: Buffer, waitMs = 1500): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    const done = () => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', done);
    s.on('close', done);
    setTimeout(done, waitMs).unref();
  });
}

describe('ingest policy: AE titles and hostile bytes', function () {
  this.timeout(60000);
  const fx = suiteFixture('policy', 'echoscu');
  let br: BodyrouteProcess;

  before(async function () {
    br = await startBodyroute(fx.tmp, {
      ...folderConfig(fx.tmp, {
        allowedCallingAeTitles: ['CT01', 'MR01'],
        allowedPeers: ['127.0.0.0/8', '::1'],
        associationTimeoutMs: 2000,
        maxAssociations: 1,
      }),
      logging: { format: 'json' },
    });
  });

  it('answers C-ECHO from an allowed calling AE', () => {
    const r = echo(br.port, 'CT01');
    expect(r.ok, r.output).to.equal(true);
  });

  it('rejects a calling AE outside the allow-list with A-ASSOCIATE-RJ "calling AE title not recognized"', async () => {
    const r = echo(br.port, 'INTRUDER');
    expect(r.ok).to.equal(false);
    expect(r.output).to.match(/Association Rejected/i);
    expect(r.output).to.match(/Calling AE Title Not Recognized/i);
    await br.waitForEntry({ callingAe: 'INTRUDER', reason: /not in listen.allowedCallingAeTitles/ });
  });

  it('rejects a wrong called AE title with reason "called AE title not recognized"', () => {
    const r = echo(br.port, 'CT01', 'SOMEONEELSE');
    expect(r.ok).to.equal(false);
    expect(r.output).to.match(/Called AE Title Not Recognized/i);
  });

  it('survives random bytes, an unknown PDU type and an absurd PDU length, and keeps serving', async () => {
    for (let i = 0; i < 20; i++) await sendRaw(br.port, randomBytes(1 + Math.floor(Math.random() * 4096)), 300);
    const abort = await sendRaw(br.port, Buffer.from([0x42, 0, 0, 0, 0, 4, 1, 2, 3, 4]));
    expect(abort[0], 'A-ABORT for an unknown PDU type').to.equal(0x07);
    const huge = await sendRaw(br.port, Buffer.from([0x04, 0, 0xff, 0xff, 0xff, 0xf0, 0, 0]));
    expect(huge[0], 'A-ABORT for a 4 GB P-DATA').to.equal(0x07);
    expect(br.proc.exitCode).to.equal(null);
    const r = echo(br.port, 'MR01');
    expect(r.ok, r.output).to.equal(true);
    await br.waitForEntry({ message: 'connection dropped', reason: 'unknown PDU type 0x42' });
  });

  it('rejects an association over listen.maxAssociations as transient "local limit exceeded"', async () => {
    const held = await ScuAssociation.open(
      {
        host: '127.0.0.1',
        port: br.port,
        callingAeTitle: 'CT01',
        calledAeTitle: 'BODYROUTE',
        maxPduLength: 16384,
        connectTimeoutMs: 5000,
        responseTimeoutMs: 5000,
      },
      [{ sopClassUid: '1.2.840.10008.1.1', transferSyntaxUid: '1.2.840.10008.1.2' }],
    );
    try {
      const r = echo(br.port, 'MR01');
      expect(r.ok).to.equal(false);
      expect(r.output).to.match(/Local Limit Exceeded/i);
    } finally {
      await held.release();
    }
    await br.waitForEntry({ reason: 'already 1 associations (listen.maxAssociations)' });
    const after = echo(br.port, 'MR01');
    expect(after.ok, after.output).to.equal(true);
  });

  it('writes JSON log lines when logging.format is json', () => {
    const line = br
      .logs()
      .split('\n')
      .find((l) => l.includes('association rejected'));
    expect(JSON.parse(line as string)).to.include({ level: 'warn', message: 'association rejected', component: 'ingest', callingAe: 'INTRUDER' });
  });

  it('drops a connection that never asks for an association (ARTIM)', async () => {
    const started = Date.now();
    await sendRaw(br.port, Buffer.alloc(0), 10000);
    expect(Date.now() - started).to.be.within(1500, 6000);
  });
});

describe('ingest policy: peer-address allow-list', function () {
  this.timeout(30000);
  const fx = suiteFixture('peers', 'echoscu');
  let br: BodyrouteProcess;

  before(async function () {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp, { allowedPeers: ['10.20.0.0/16'] }));
  });

  it('rejects an association from an address outside listen.allowedPeers, and says why in the log', async () => {
    const r = echo(br.port, 'CT01');
    expect(r.ok).to.equal(false);
    expect(r.output).to.match(/Association Rejected/i);
    await br.waitForEntry({ message: 'association rejected', reason: 'peer address is not in listen.allowedPeers' });
  });
});

describe('listen.aeTitles: several called AE titles on one port, routed by when.calledAeTitle', function () {
  this.timeout(60000);
  const fx = suiteFixture('titles', 'storescu', 'echoscu');

  it('accepts NEURO and BODY beside BODYROUTE, routes each by the title it was sent to, and rejects others naming them', async () => {
    const br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE', aeTitles: ['NEURO', 'BODY'] },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      destinations: [
        { name: 'neuro', type: 'folder', path: join(fx.tmp, 'neuro') },
        { name: 'body', type: 'folder', path: join(fx.tmp, 'body') },
      ],
      routes: [
        { when: { calledAeTitle: 'NEURO' }, to: ['neuro'] },
        { when: { calledAeTitle: ['BODY', 'BODYROUTE'] }, to: ['body'] },
      ],
    });
    const head = writeSyntheticSeries(join(fx.tmp, 'head'), 2, { rows: 32, columns: 32 });
    const chest = writeSyntheticSeries(join(fx.tmp, 'chest'), 3, { rows: 32, columns: 32 });
    run('storescu', ['-aec', 'NEURO', '127.0.0.1', String(br.port), ...head.files]);
    run('storescu', ['-aec', 'BODY', '127.0.0.1', String(br.port), ...chest.files]);
    await waitFor('both routed', () => dicomFilesUnder(join(fx.tmp, 'neuro')) === 2 && dicomFilesUnder(join(fx.tmp, 'body')) === 3, 15000);
    expect(echo(br.port, 'ANY', 'OTHER').ok).to.equal(false);
    const rejected = await br.waitForEntry({ message: 'association rejected', calledAe: 'OTHER' });
    expect(rejected.reason).to.equal('called AE title "OTHER" is not "BODYROUTE" or "NEURO" or "BODY"');
  });
});
