import { expect } from 'chai';
import { crashRounds } from '../helpers/crash-rounds';
import { entryMatches } from '../helpers/bodyroute-process';
import { suiteFixture } from '../helpers/suite-fixture';

const ROUNDS = 3;
const OBJECTS = 1000;

describe(`crash durability with spool.slotFiles: ${ROUNDS} rounds of kill -9 while ${OBJECTS} objects are sent`, function () {
  this.timeout(600000);
  const fx = suiteFixture('rounds-slots', 'storescu');

  it('acknowledges in slot files after one fdatasync and still delivers every acknowledged object after each restart', async () => {
    const entries = await crashRounds(fx.tmp, ROUNDS, OBJECTS, { slotFiles: 16 });
    const started = entries.filter((e) => entryMatches(e, { message: 'bodyroute starting' }));
    expect(started).to.have.length(ROUNDS + 1);
    // the objects a kill caught between acknowledgement and promotion were in slot files: found again at start
    const moved = entries.filter((e) => entryMatches(e, { message: 'acknowledged objects found in slot files moved to the inbox' }));
    console.log(`      objects found in slot files at the restarts: ${moved.map((e) => e.count).join(', ')}`);
    expect(moved.length, 'a restart found acknowledged objects in slot files').to.be.at.least(1);
  });
});
