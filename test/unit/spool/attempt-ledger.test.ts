import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttemptLedger } from '../../../src/spool/attempt-ledger';
import { SpoolLayout } from '../../../src/spool/layout';

describe('spool/attempt-ledger', () => {
  let tmp: string;
  let layout: SpoolLayout;

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-ledger-'));
    layout = new SpoolLayout(tmp);
    mkdirSync(layout.inbox);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('counts failed attempts per stage in a file beside the object, and clears it', async () => {
    const ledger = new AttemptLedger(layout);
    await ledger.load([]);
    expect(await ledger.read('a')).to.deep.equal({});
    expect(await ledger.record('a', 'routing')).to.equal(1);
    expect(await ledger.record('a', 'routing')).to.equal(2);
    expect(await ledger.record('a', 'tagging')).to.equal(1);
    expect(JSON.parse(readFileSync(layout.attempts('a'), 'utf8'))).to.deep.equal({ routing: 2, tagging: 1 });
    await ledger.clear('a');
    expect(existsSync(layout.attempts('a'))).to.equal(false);
    expect(await ledger.read('a')).to.deep.equal({});
  });

  it('at start keeps the counts of inbox objects and removes those whose object has left', async () => {
    writeFileSync(layout.inboxObject('kept'), '');
    writeFileSync(layout.attempts('kept'), '{"routing":4}\n');
    writeFileSync(layout.attempts('gone'), '{"routing":1}\n');
    const ledger = new AttemptLedger(layout);
    await ledger.load(readdirSync(layout.inbox));
    expect(await ledger.read('kept')).to.deep.equal({ routing: 4 });
    expect(await ledger.record('kept', 'routing')).to.equal(5);
    expect(existsSync(layout.attempts('gone'))).to.equal(false);
  });

  it('an unreadable ledger file counts afresh instead of failing the object', async () => {
    writeFileSync(layout.inboxObject('a'), '');
    writeFileSync(layout.attempts('a'), 'not json');
    const ledger = new AttemptLedger(layout);
    await ledger.load(readdirSync(layout.inbox));
    expect(await ledger.record('a', 'routing')).to.equal(1);
  });
});
