/**
 * npm run bench:spool — what one acknowledged object costs on this machine's disk, without the network:
 *   (1) bodyroute's spool as it runs (Spool.beginReceive → 16 KiB writes → finish → commit: create, write,
 *       fdatasync, rename into the inbox, inbox fsync), one object at a time and --concurrency at once;
 *       then, one at a time, with each object also promoted to the store and removed as delivered 20 objects
 *       later, as a router that forwards does: without and with spare files (new receives written over
 *       delivered objects' files); and with slot files (spool.slotFiles: one fdatasync per acknowledgement,
 *       no rename or folder fsync), alone and, alternated with spare files alone over three rounds, with the
 *       objects delivered;
 *   (2) the same system calls made synchronously in one thread: what a "one hop" commit (a worker doing the
 *       whole sequence) could reach at best;
 *   (3) the same object appended to a preallocated segment and fdatasync'd: what an append-only object log
 *       (no file creation, rename or directory fsync per object) could reach at best.
 * Prints ms per object, objects/s, each ratio to (1) and, for the spool, the time from the object's first byte
 * written to its acknowledgement (with several at a time, each object's own wait). Usage:
 *   node dist/scripts/bench/spool-commit.js [--objects N] [--concurrency C] [--dir DIR (default: a temporary folder)]
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileMeta } from '../../src/dicom/part10';
import { createLogger } from '../../src/observability/logger';
import { Spool } from '../../src/spool/spool';
import { SpooledObject } from '../../src/spool/spooled-object';
import { MAX_SPARE_FILES } from '../../src/spool/spare-files';
import { syntheticImage } from '../../test/helpers/synthetic-dicom';
import { runMain } from './run-main';

const PDV_BYTES = 16 * 1024; // storescu's default maximum PDU

interface Sample {
  header: Buffer;
  chunks: Buffer[];
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

function sample(): Sample {
  const obj = syntheticImage({ rows: 512, columns: 512 });
  const meta = readFileMeta(obj.bytes);
  const dataset = obj.bytes.subarray(meta.datasetOffset);
  const chunks: Buffer[] = [];
  for (let at = 0; at < dataset.length; at += PDV_BYTES) chunks.push(dataset.subarray(at, at + PDV_BYTES));
  return {
    header: obj.bytes.subarray(0, meta.datasetOffset),
    chunks,
    sopClassUid: meta.sopClassUid,
    sopInstanceUid: meta.sopInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
  };
}

const ORIGIN = { callingAeTitle: 'BENCH', calledAeTitle: 'BODYROUTE', remoteAddress: '127.0.0.1', receivedAt: new Date().toISOString() };

async function storeOne(spool: Spool, s: Sample): Promise<SpooledObject> {
  const id = spool.newId();
  const writer = spool.beginReceive(id, s.sopClassUid, s.sopInstanceUid, s.transferSyntaxUid, ORIGIN);
  for (const c of s.chunks) writer.write(c);
  const written = await writer.finish();
  return spool.commit(id, written, {
    sopClassUid: s.sopClassUid,
    sopInstanceUid: s.sopInstanceUid,
    transferSyntaxUid: s.transferSyntaxUid,
    origin: ORIGIN,
    headerBytes: writer.headerBytes,
  });
}

/** Objects stored but not yet delivered when `delivering` is on (a destination a little behind). */
const IN_FLIGHT = 20;
/** Slot files kept ready in the slot rows (spool.slotFiles). */
const SLOT_FILES = 16;
/** Rounds of the alternated comparison of spare files without and with slot files. */
const PAIRED_ROUNDS = 3;

/**
 * (1) The spool itself; `concurrency` objects in flight at once. `delivering`: each object is also promoted
 * and removed IN_FLIGHT objects later, with `maxSpareFiles` spares. Returns ms per object.
 */
async function spoolRun(dir: string, s: Sample, objects: number, concurrency: number, delivering?: { maxSpareFiles: number }, slotFiles = 0): Promise<Timing> {
  const spool = new Spool(
    { dir, minFreeBytes: 0, maxObjectBytes: 1 << 30, maxSpareFiles: delivering?.maxSpareFiles, slotFiles },
    createLogger({ level: 'error', format: 'json' }),
  );
  await spool.init();
  let next = 0;
  const stored: string[] = [];
  let acknowledging = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < objects) {
        const began = performance.now();
        const obj = await storeOne(spool, s);
        acknowledging += performance.now() - began;
        if (!delivering) continue;
        await spool.promote(obj);
        stored.push(obj.id);
        if (stored.length > IN_FLIGHT) await spool.removeStored(stored.shift() as string);
      }
    }),
  );
  const ms = (performance.now() - t0) / objects;
  await spool.close();
  return { ms, ackMs: acknowledging / objects };
}

/** ms per object in all; for the spool, also ms from the first byte written to the acknowledgement. */
interface Timing {
  ms: number;
  ackMs?: number;
}

/** The run with the median acknowledgement time. */
function median(runs: Timing[]): Timing {
  return [...runs].sort((a, b) => (a.ackMs ?? a.ms) - (b.ackMs ?? b.ms))[Math.floor(runs.length / 2)];
}

/** (2) The same system calls, synchronously, one thread. */
function syncRun(dir: string, s: Sample, objects: number): Timing {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  mkdirSync(join(dir, 'inbox'), { recursive: true });
  const inbox = openSync(join(dir, 'inbox'), 'r');
  const t0 = performance.now();
  for (let i = 0; i < objects; i++) {
    const tmp = join(dir, 'tmp', `${i}.part`);
    const fd = openSync(tmp, 'wx', 0o600);
    writevSync(fd, [s.header, ...s.chunks]);
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(dir, 'inbox', `${i}.dcm`));
    fsyncSync(inbox);
  }
  const ms = (performance.now() - t0) / objects;
  closeSync(inbox);
  return { ms };
}

/** (3) Appended into a preallocated segment, one fdatasync per object. */
function logRun(dir: string, s: Sample, objects: number): Timing {
  const object = Buffer.concat([s.header, ...s.chunks]);
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, 'segment.log'), 'w', 0o600);
  const zeros = Buffer.alloc(object.length);
  for (let i = 0; i < objects; i++) writeSync(fd, zeros);
  fsyncSync(fd);
  const t0 = performance.now();
  for (let i = 0; i < objects; i++) {
    writeSync(fd, object, 0, object.length, i * object.length);
    fdatasyncSync(fd);
  }
  const ms = (performance.now() - t0) / objects;
  closeSync(fd);
  return { ms };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { objects: { type: 'string' }, concurrency: { type: 'string' }, dir: { type: 'string' } } });
  const objects = Number(values.objects ?? 300);
  const concurrency = Math.max(1, Number(values.concurrency ?? 4));
  const root = mkdtempSync(join(values.dir ?? tmpdir(), 'bench-spool-'));
  const s = sample();
  const bytes = s.header.length + s.chunks.reduce((a, c) => a + c.length, 0);
  try {
    const rows: [string, Timing][] = [
      ['(1) spool, one object at a time', await spoolRun(join(root, 'spool1'), s, objects, 1)],
      [`(1) spool, ${concurrency} objects at a time`, await spoolRun(join(root, 'spoolN'), s, objects, concurrency)],
      ['(1) one at a time, delivered, no spare files', await spoolRun(join(root, 'spoolD'), s, objects, 1, { maxSpareFiles: 0 })],
      ['(1) one at a time, delivered, spare files', await spoolRun(join(root, 'spoolS'), s, objects, 1, { maxSpareFiles: MAX_SPARE_FILES })],
      [`(1) one at a time, ${SLOT_FILES} slot files`, await spoolRun(join(root, 'slot1'), s, objects, 1, undefined, SLOT_FILES)],
      [`(1) ${concurrency} at a time, ${SLOT_FILES} slot files`, await spoolRun(join(root, 'slotN'), s, objects, concurrency, undefined, SLOT_FILES)],
      ['(2) same calls, synchronous, one thread', syncRun(join(root, 'sync'), s, objects)],
      ['(3) append to a preallocated segment + fdatasync', logRun(join(root, 'log'), s, objects)],
    ];
    // the comparison that matters for slot files, alternated: this disk's speed drifts from run to run
    const spares = { maxSpareFiles: MAX_SPARE_FILES };
    const pairs: [Timing, Timing][] = [];
    for (let round = 0; round < PAIRED_ROUNDS; round++) {
      pairs.push([
        await spoolRun(join(root, `pairS${round}`), s, objects, 1, spares),
        await spoolRun(join(root, `pairL${round}`), s, objects, 1, spares, SLOT_FILES),
      ]);
    }
    rows.push(
      [`(1) delivered, spare files (median of ${PAIRED_ROUNDS})`, median(pairs.map((p) => p[0]))],
      [`(1) delivered, spares + slot files (median of ${PAIRED_ROUNDS})`, median(pairs.map((p) => p[1]))],
    );
    console.log(`${objects} objects of ${(bytes / 1024).toFixed(0)} KiB (512×512 CT), written in ${PDV_BYTES / 1024} KiB pieces, under ${root}`);
    console.log(`${'sequence'.padEnd(52)} ${'ms/object'.padStart(10)} ${'objects/s'.padStart(10)} ${'vs (1)'.padStart(7)} ${'ack ms'.padStart(7)}`);
    for (const [name, { ms, ackMs }] of rows) {
      const ack = ackMs === undefined ? '' : ackMs.toFixed(2);
      console.log(
        `${name.padEnd(52)} ${ms.toFixed(2).padStart(10)} ${(1000 / ms).toFixed(0).padStart(10)} ${(rows[0][1].ms / ms).toFixed(2).padStart(7)} ${ack.padStart(7)}`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

runMain('npm run bench:spool', main);
