import { expect } from 'chai';
import { startStatsLog } from '../../../src/observability/stats';
import type { Logger } from '../../../src/observability/logger';

describe('observability/stats', () => {
  it('logs memory and backlog periodically, and stops', async () => {
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const log = { info: (message: string, fields: Record<string, unknown>) => lines.push({ message, fields }) } as unknown as Logger;
    const stop = startStatsLog(log, 20, () => ({ pipeline: 3, 'queued:pacs': 7 }));
    await new Promise((r) => setTimeout(r, 70));
    stop();
    const seen = lines.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.length).to.equal(seen);
    expect(seen).to.be.at.least(2);
    expect(lines[0].message).to.equal('stats');
    expect(lines[0].fields).to.include({ pipeline: 3, 'queued:pacs': 7 });
    for (const k of ['rssMb', 'heapUsedMb', 'externalMb']) expect(lines[0].fields[k]).to.be.a('number').above(0);
  });

  it('is off at interval 0', () => {
    const log = { info: () => expect.fail('no line expected') } as unknown as Logger;
    startStatsLog(log, 0, () => ({}))();
  });
});
