import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { freePort, PEER_ENV, waitFor } from './tools';
import { stopAfterSuite } from './suite-fixture';

/** Real DICOM peers started by the tests on 127.0.0.1. */

export interface Peer {
  port: number;
  aeTitle: string;
  stop(): Promise<void>;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 3000).unref();
  });
}

function tcpReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface StorescpPeer extends Peer {
  dir: string;
  files(): string[];
  /** SOP Instance UIDs of the complete files received so far (storescp writes in place, so a file still being written is left out). */
  sopInstanceUids(): Set<string>;
}

function sopUidOrNothing(path: string): string[] {
  try {
    return [readFileMeta(readFileSync(path)).sopInstanceUid];
  } catch {
    return [];
  }
}

/** SOP Instance UIDs of the complete Part-10 files in a folder a storescp writes into (in place: a file still being written is left out). */
export function receivedSopInstanceUids(dir: string): Set<string> {
  return new Set(
    readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .flatMap((f) => sopUidOrNothing(join(dir, f))),
  );
}

/**
 * DCMTK storescp writing every received object bit-preserved (+B) into `dir`; it accepts every
 * transfer syntax it knows, or with `syntaxes: 'uncompressed'` only the uncompressed ones, as
 * picky archives do (storescp's default).
 */
export async function startStorescp(dir: string, aeTitle = 'STORESCP', port?: number, syntaxes: 'all' | 'uncompressed' = 'all'): Promise<StorescpPeer> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const accept = syntaxes === 'all' ? ['+xa'] : [];
  const proc = spawn('storescp', ['-aet', aeTitle, ...accept, '+B', '-od', dir, String(p)], { env: PEER_ENV, stdio: 'ignore' });
  await waitFor(`storescp on ${p}`, () => tcpReady(p), 10000);
  stopAfterSuite(() => stopProcess(proc));
  return {
    port: p,
    aeTitle,
    dir,
    files: () =>
      readdirSync(dir)
        .filter((f) => !f.startsWith('.'))
        .map((f) => join(dir, f)),
    sopInstanceUids: () => receivedSopInstanceUids(dir),
    stop: () => stopProcess(proc),
  };
}

export interface OrthancPeer extends Peer {
  httpPort: number;
  instanceIds(): Promise<string[]>;
  instanceFile(id: string): Promise<Buffer>;
}

function httpGet(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Debian's Orthanc with a private storage folder and its REST API on loopback. */
export async function startOrthanc(dir: string, aeTitle = 'ORTHANC'): Promise<OrthancPeer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const httpPort = await freePort();
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      Name: 'bodyroute-test',
      StorageDirectory: join(dir, 'db'),
      IndexDirectory: join(dir, 'db'),
      DicomAet: aeTitle,
      DicomPort: port,
      HttpPort: httpPort,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomCheckCalledAet: true,
      UnknownSopClassAccepted: true,
      OverwriteInstances: true,
      StorageCompression: false,
      Plugins: [],
    }),
  );
  const proc = spawn('Orthanc', [configPath], { env: PEER_ENV, stdio: 'ignore' });
  await waitFor(`Orthanc on ${port}`, async () => (await tcpReady(port)) && (await tcpReady(httpPort)), 30000);
  stopAfterSuite(() => stopProcess(proc));
  return {
    port,
    httpPort,
    aeTitle,
    instanceIds: async () => JSON.parse((await httpGet(httpPort, '/instances')).toString('utf8')) as string[],
    instanceFile: (id: string) => httpGet(httpPort, `/instances/${id}/file`),
    stop: () => stopProcess(proc),
  };
}
