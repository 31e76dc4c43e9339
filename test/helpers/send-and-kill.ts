import { spawn } from 'node:child_process';
import { BodyrouteProcess } from './bodyroute-process';
import { PEER_ENV } from './tools';

/** Sends `files` with storescu -v; kills `victim` with SIGKILL after `killAfter` success responses. Returns the acknowledged UIDs. */
export async function sendAndKill(port: number, files: string[], uidOf: Map<string, string>, victim: BodyrouteProcess, killAfter: number): Promise<Set<string>> {
  const acknowledged = new Set<string>();
  const sender = spawn('storescu', ['-v', '-aec', 'BODYROUTE', '127.0.0.1', String(port), ...files], { env: PEER_ENV });
  let current = '';
  let buffered = '';
  const onOutput = (d: Buffer) => {
    buffered += d.toString('latin1');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const m = /Sending file: (.*)$/.exec(line);
      if (m) current = m[1].trim();
      if (/Received Store Response \(Success\)/.test(line)) {
        acknowledged.add(uidOf.get(current) as string);
        if (acknowledged.size === killAfter) victim.proc.kill('SIGKILL');
      }
    }
  };
  sender.stdout.on('data', onOutput);
  sender.stderr.on('data', onOutput);
  await new Promise((resolve) => sender.once('exit', resolve));
  return acknowledged;
}

