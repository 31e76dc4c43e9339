import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './tools';

/** A throw-away CA and certificates for localhost / 127.0.0.1, made with openssl for the TLS tests. */
export function makeCertificates(dir: string, names: string[]): { ca: string; cert: (n: string) => string; key: (n: string) => string } {
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=bodyroute test CA',
  ]);
  const ext = join(dir, 'san.ext');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const n of names) {
    run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${n}.key`), '-out', join(dir, `${n}.csr`), '-subj', '/CN=localhost']);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      join(dir, `${n}.csr`),
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-CAcreateserial',
      '-out',
      join(dir, `${n}.crt`),
      '-days',
      '2',
      '-extfile',
      ext,
    ]);
  }
  return { ca: join(dir, 'ca.crt'), cert: (n) => join(dir, `${n}.crt`), key: (n) => join(dir, `${n}.key`) };
}
