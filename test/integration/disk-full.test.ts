import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { freePort, PEER_ENV, requireTools, waitFor } from '../helpers/tools';

/** storescu -v over files; returns the SOP UIDs answered with success, and the count of failures. */
function sendEach(port: number, files: string[], uidOf: Map<string, string>): { ok: string[]; failed: number } {
  const r = spawnSync('storescu', ['-v', '-nh', '-aec', 'BODYROUTE', '127.0.0.1', String(port), ...files], { env: PEER_ENV, encoding: 'latin1' });
  const ok: string[] = [];
  let failed = 0;
  let current = '';
  for (const line of `${r.stdout}${r.stderr}`.split('\n')) {
    const m = /Sending file: (.*)$/.exec(line);
    if (m) current = m[1].trim();
    if (/Received Store Response \(Success\)/.test(line)) ok.push(uidOf.get(current) as string);
    else if (/Received Store Response/.test(line)) failed++;
  }
  return { ok, failed };
}

describe('a full spool disk: refused with 0xA700, nothing half-written, service resumes when space returns', function () {
  this.timeout(120000);
  let tmp: string;
  let mountPoint: string;
  let br: BodyrouteProcess | undefined;
  let dest: ScriptedScp | undefined;

  before(function () {
    requireTools(this, 'storescu', 'mount', 'umount');
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-full-'));
    mountPoint = join(tmp, 'small-disk');
    mkdirSync(mountPoint);
    // a 3 MiB filesystem for the spool (needs root, as CI and these machines run)
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (m.status !== 0) {
      if (process.env.CI) throw new Error(`cannot mount a small tmpfs: ${m.stderr}`);
      this.skip();
    }
  });

  after(async () => {
    await br?.kill();
    await dest?.stop();
    spawnSync('umount', [mountPoint]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('answers A700 once the disk is full, keeps what it acknowledged, and accepts again after delivering', async () => {
    const destPort = await freePort();
    br = await startBodyroute(tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(mountPoint, 'spool'), minFreeBytes: 0 },
      retry: { initialDelayMs: 100, maxDelayMs: 300 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: destPort, aeTitle: 'PACS', connectTimeoutMs: 500 }],
      routes: [{ to: ['pacs'] }],
    });
    const dir = join(tmp, 'in');
    mkdirSync(dir);
    const uidOf = new Map<string, string>();
    const series = newUid();
    const files = Array.from({ length: 10 }, (_, i) => {
      const f = join(dir, `${i}.dcm`);
      uidOf.set(f, writeSyntheticImage(f, { rows: 512, columns: 512, seriesUid: series, instanceNumber: i + 1 }).sopInstanceUid);
      return f;
    });
    // the destination is down: everything stays in the 3 MiB spool until it is full
    const first = sendEach(br.port, files, uidOf);
    expect(first.ok.length).to.be.within(1, 9);
    expect(first.failed).to.equal(10 - first.ok.length);
    await br.waitForEntry({ message: 'C-STORE failed', status: '0xA700', code: 'SPOOL_IO' });
    expect(readdirSync(join(mountPoint, 'spool', 'tmp')), 'no half-written file').to.deep.equal([]);

    // space returns as the destination comes up and the spool drains
    const d = await startScriptedScp(() => 0);
    dest = d;
    await br.kill();
    br = await startBodyroute(
      tmp,
      {
        listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
        spool: { dir: join(mountPoint, 'spool'), minFreeBytes: 0 },
        retry: { initialDelayMs: 100, maxDelayMs: 300 },
        destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: d.port, aeTitle: 'PACS' }],
        routes: [{ to: ['pacs'] }],
      },
      'with-destination',
    );
    await waitFor('the acknowledged objects delivered', () => first.ok.every((u) => d.stored.includes(u)), 20000);
    const rest = files.filter((f) => !first.ok.includes(uidOf.get(f) as string));
    const second = sendEach(br.port, rest, uidOf);
    expect(second.failed).to.equal(0);
    await waitFor('every object delivered', () => [...uidOf.values()].every((u) => d.stored.includes(u)), 20000);

    // an unwritable spool, even for root: its tmp folder replaced by a plain file
    const spoolTmp = join(mountPoint, 'spool', 'tmp');
    rmSync(spoolTmp, { recursive: true });
    writeFileSync(spoolTmp, 'not a folder');
    expect(sendEach(br.port, [files[0]], uidOf).failed).to.equal(1);
    await br.waitForEntry({ message: 'C-STORE failed', status: '0xA700', code: 'SPOOL_IO', reason: /^cannot create spool file: ENOTDIR/ });
    rmSync(spoolTmp);
    mkdirSync(spoolTmp, { mode: 0o700 });
    expect(sendEach(br.port, [files[0]], uidOf).failed, 'writable again').to.equal(0);
  });
});
