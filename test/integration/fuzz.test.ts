import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { mulberry32 } from '../../src/classify/metrics';
import { readFileMeta } from '../../src/dicom/part10';
import { encodeCStoreRq } from '../../src/dicom/ul/command';
import { encodeAssociateRq, encodePData, RELEASE_RQ } from '../../src/dicom/ul/pdu';
import { BodyrouteProcess, folderConfig, startBodyroute } from '../helpers/bodyroute-process';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { PEER_ENV } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/**
 * A seeded, bounded fuzzer: mutated association/C-STORE byte streams thrown at a running router.
 * BODYROUTE_FUZZ_SEED and BODYROUTE_FUZZ_CASES reproduce or lengthen a run (default 300 cases).
 */
const SEED = Number(process.env.BODYROUTE_FUZZ_SEED ?? 20261127);
const CASES = Number(process.env.BODYROUTE_FUZZ_CASES ?? 300);
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';

type Outcome = 'reject' | 'abort' | 'failure status' | 'success' | 'released' | 'closed by bodyroute' | 'peer closed first';

function send(port: number, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    const got: Buffer[] = [];
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(o);
    };
    /** What bodyroute answered, most telling first: reject, a C-STORE status, abort. */
    const classify = (closedByServer: boolean): Outcome => {
      const all = Buffer.concat(got);
      let pos = 0;
      let status: Outcome | undefined;
      let aborted = false;
      let released = false;
      while (pos + 6 <= all.length) {
        const type = all[pos];
        const len = all.readUInt32BE(pos + 2);
        if (type === 0x03) return 'reject';
        if (type === 0x07) aborted = true;
        if (type === 0x06) released = true;
        if (type === 0x04 && pos + 6 + len <= all.length) {
          const statusAt = all.indexOf(Buffer.from([0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00]), pos);
          if (statusAt > 0 && statusAt + 10 <= all.length) status = all.readUInt16LE(statusAt + 8) === 0 ? 'success' : 'failure status';
        }
        pos += 6 + len;
      }
      // released: the mangled bytes never made a C-STORE, and the association ended in an orderly release
      return status ?? (aborted ? 'abort' : released ? 'released' : closedByServer ? 'closed by bodyroute' : 'peer closed first');
    };
    s.on('data', (d: Buffer) => {
      got.push(d);
      // a release answer ends the association; a well-behaved SCU then closes
      if (Buffer.concat(got).includes(Buffer.from([0x06, 0x00, 0x00, 0x00, 0x00, 0x04]))) finish(classify(true));
    });
    s.on('error', () => finish(classify(true)));
    s.on('close', () => finish(classify(true)));
    s.on('connect', () => {
      s.write(bytes);
      // every case must be ended by bodyroute: an answer, or the PDU/ARTIM timeout's A-ABORT
      setTimeout(() => finish(classify(false)), 3000);
    });
  });
}

describe(`fuzzing the listener (seed ${SEED}, ${CASES} cases)`, function () {
  this.timeout(600000);
  const fx = suiteFixture('fuzz', 'echoscu');
  let br: BodyrouteProcess;

  before(async function () {
    br = await startBodyroute(fx.tmp, folderConfig(fx.tmp, { associationTimeoutMs: 500, pduTimeoutMs: 500, maxObjectBytes: 4 * 1024 * 1024 }));
  });

  it('stays up with bounded memory, answers every case at the DICOM level, and writes nothing outside the spool', async () => {
    const rnd = mulberry32(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const img = syntheticImage({ rows: 32, columns: 32 });
    const meta = readFileMeta(img.bytes);
    const dataset = img.bytes.subarray(meta.datasetOffset);
    const rq = encodeAssociateRq({
      callingAeTitle: 'FUZZ',
      calledAeTitle: 'BODYROUTE',
      maxPduLength: 16384,
      contexts: [{ id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT] }],
    });
    const store = (uid: string, body: Buffer) =>
      Buffer.concat([...encodePData(1, true, true, encodeCStoreRq(1, CT, uid)), ...encodePData(1, false, true, body)]);
    const valid = () => Buffer.concat([rq, store(meta.sopInstanceUid, dataset), RELEASE_RQ]);
    const hostileUids = ['../../../../tmp/bodyroute-fuzz-owned', '1.2.' + '3'.repeat(120), 'abc.def', '', '1..2', '1.2.3\0/etc/passwd'];
    const deepSequence = () => {
      // 200 nested undefined-length sequences
      let body = Buffer.alloc(0);
      for (let i = 0; i < 200; i++) {
        const item = Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]), body, Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0])]);
        body = Buffer.concat([
          Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff]),
          item,
          Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
        ]);
      }
      return Buffer.concat([body, dataset]);
    };
    const mutations: ((b: Buffer) => Buffer)[] = [
      (b) => {
        for (let k = 0, n = 1 + int(20); k < n; k++) b[int(b.length)] ^= 1 << int(8);
        return b;
      }, // bit flips anywhere
      (b) => b.subarray(0, int(b.length)), // truncated
      (b) => {
        const at = int(Math.min(b.length, rq.length + 200));
        b.writeUInt32BE(int(2) ? 0xffffff00 + int(255) : int(1 << 30), Math.max(0, Math.min(b.length - 4, at)));
        return b;
      }, // absurd lengths
      (b) => {
        b[0] = int(256);
        return b;
      }, // wrong PDU type
      () => Buffer.concat([store(meta.sopInstanceUid, dataset), rq]), // out of order
      () => Buffer.concat([RELEASE_RQ, rq]),
      () => Buffer.concat([rq, store(hostileUids[int(hostileUids.length)], dataset)]), // hostile UIDs
      () => {
        const d = Buffer.from(dataset);
        for (let k = 0; k < 10; k++) d[int(Math.min(d.length, 600))] = int(256);
        return Buffer.concat([rq, store(meta.sopInstanceUid, d)]);
      }, // header garbage: wrong VRs, impossible lengths
      () => {
        const d = Buffer.from(dataset);
        d.writeUInt32LE(0xffffffff, 8 + int(40));
        return Buffer.concat([rq, store(meta.sopInstanceUid, d)]);
      }, // undefined lengths in odd places
      () => Buffer.concat([rq, store(meta.sopInstanceUid, deepSequence())]), // deep nesting
      () => Buffer.from(Array.from({ length: 1 + int(3000) }, () => int(256))), // noise
    ];
    const outcomes = new Map<Outcome, number>();
    let peakRssMb = 0;
    for (let c = 0; c < CASES; c++) {
      const mutate = mutations[int(mutations.length)];
      const o = await send(br.port, mutate(valid()));
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      if (c % 25 === 0) {
        const status = readFileSync(`/proc/${br.proc.pid}/status`, 'utf8');
        peakRssMb = Math.max(peakRssMb, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
      }
    }

    console.log(`      ${CASES} cases: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; peak RSS ${peakRssMb.toFixed(0)} MB`);
    expect(br.proc.exitCode).to.equal(null);
    const echo = spawnSync('echoscu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port)], { env: PEER_ENV });
    expect(echo.status, 'C-ECHO after fuzzing').to.equal(0);
    expect(peakRssMb).to.be.below(400);
    expect(existsSync('/tmp/bodyroute-fuzz-owned')).to.equal(false);
    // only bodyroute's own folders, named by its ids
    expect(readdirSync(fx.tmp).sort()).to.include.members(['spool']);
    for (const d of ['inbox', 'store', 'tmp']) {
      for (const f of readdirSync(join(fx.tmp, 'spool', d))) expect(f, `${d}/${f}`).to.match(/^[0-9a-z]{11}-[0-9a-f]{6}-[0-9a-f]{8}\.(dcm|part|tagged\.dcm)$/);
    }
    expect(outcomes.get('peer closed first') ?? 0, 'cases bodyroute left hanging').to.equal(0);
    expect(outcomes.get('closed by bodyroute') ?? 0, 'connections closed without a DICOM answer').to.equal(0);
    expect(outcomes.get('abort') ?? 0).to.be.greaterThan(0);
    expect(outcomes.get('failure status') ?? 0).to.be.greaterThan(0);
  });
});
