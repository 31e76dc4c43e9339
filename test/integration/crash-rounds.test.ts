import { crashRounds } from '../helpers/crash-rounds';
import { suiteFixture } from '../helpers/suite-fixture';

const ROUNDS = 5;
const OBJECTS = 1000;

describe(`crash durability: ${ROUNDS} rounds of kill -9 while ${OBJECTS} objects are sent`, function () {
  this.timeout(600000);
  const fx = suiteFixture('rounds', 'storescu');

  it('delivers every acknowledged object after each restart; duplicates are counted, not lost objects', async () => {
    await crashRounds(fx.tmp, ROUNDS, OBJECTS);
  });
});
