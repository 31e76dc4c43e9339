import { spawn } from 'node:child_process';
import { BodyrouteProcess } from './bodyroute-process';
import { PEER_ENV } from './tools';

/** Sends `files` with storescu -v; sends `signal` (default SIGKILL) to `victim` after `killAfter` success responses. Returns the acknowledged UIDs. */
export async function sendAndKill(
  port: number,
  files: string[],
  uidOf: Map<string, string>,
  victim: BodyrouteProcess,
  killAfter: number,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<Set<string>> {
  const acknowledged = new Set<string>();
  const sender = spawn('storescu', ['-v', '-aec', 'BODYROUTE', '127.0.0.1', String(port), ...files], { env: PEER_ENV });
  let current = '';
  // one line buffer per stream: chunks of stdout and stderr interleave
  const reader = () => {
    let buffered = '';
    return (d: Buffer) => {
      buffered += d.toString('latin1');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /Sending file: (.*)$/.exec(line);
        if (m) current = m[1].trim();
        if (/Received Store Response \(Success\)/.test(line)) {
          const uid = uidOf.get(current);
          if (!uid) throw new Error(`success response for an unknown file "${current}"`);
          acknowledged.add(uid);
          if (acknowledged.size === killAfter) victim.proc.kill(signal);
        }
      }
    };
  };
  sender.stdout.on('data', reader());
  sender.stderr.on('data', reader());
  await new Promise((resolve) => sender.once('exit', resolve));
  return acknowledged;
}
