import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDeadLetters } from '../../../src/dispatch/dead-letter';

describe('dispatch/dead-letter: the list the status page shows', () => {
  it('counts every dead letter and reads only the newest, across destinations, newest first', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'bodyroute-dead-'));
    try {
      for (const dest of ['pacs', 'viewer']) mkdirSync(join(tmp, dest));
      for (let i = 0; i < 30; i++) {
        const dest = i % 2 ? 'pacs' : 'viewer';
        const id = `${(1000 + i).toString(36).padStart(11, '0')}-000001-0000000${i % 10}`;
        const at = new Date(Date.UTC(2026, 11, 4, 0, 0, i)).toISOString();
        writeFileSync(
          join(tmp, dest, `${id}.json`),
          JSON.stringify({ id, destination: dest, sopInstanceUid: `1.2.${i}`, attempts: 1, code: 'DEST_STATUS_FATAL', reason: 'x', at }),
        );
        writeFileSync(join(tmp, dest, `${id}.dcm`), 'DICM');
      }
      // a record being written (writeFileAtomic's temporary name) is not one yet
      writeFileSync(join(tmp, 'pacs', 'zzzzzzzzzzz-000001-00000000.json.4242.tmp'), '{');
      const { records, total } = await listDeadLetters(tmp, 5);
      expect(total).to.equal(30);
      expect(records.map((r) => r.sopInstanceUid)).to.deep.equal(['1.2.29', '1.2.28', '1.2.27', '1.2.26', '1.2.25']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
