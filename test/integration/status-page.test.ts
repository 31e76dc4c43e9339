import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { startBodyroute } from '../helpers/bodyroute-process';
import { startScriptedScp } from '../helpers/scripted-scp';
import { suiteFixture } from '../helpers/suite-fixture';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { run, waitFor } from '../helpers/tools';

/** Debian's chromium (scripts/install-test-deps.sh); playwright-core never downloads a browser. */
const CHROMIUM = process.env.BODYROUTE_CHROMIUM ?? '/usr/bin/chromium';
/** Set to copy the screenshot into docs/images/ (how docs/images/status-page.png is made). */
const UPDATE_DOCS = process.env.BODYROUTE_UPDATE_SCREENSHOTS === '1';

describe('the status page in a real browser (Debian chromium driven by playwright-core)', function () {
  this.timeout(180000);
  const fx = suiteFixture('page', 'storescu', CHROMIUM);
  let browser: Browser | undefined;

  after(async () => {
    await browser?.close();
  });

  it('shows series with region and thumbnail and dead letters; requeues, pauses and resumes, and records a label correction', async () => {
    let refusing = true;
    const dest = await startScriptedScp(() => (refusing ? 0xa900 : 0));
    const spool = join(fx.tmp, 'spool');
    const br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: spool, minFreeBytes: 0 },
      classifier: { enabled: true },
      tagging: { mode: 'series' },
      series: { stableSeconds: 1 },
      http: { enabled: true, port: 0 },
      destinations: [
        { name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' },
        { name: 'archive', type: 'folder', path: join(fx.tmp, 'archive') },
      ],
      routes: [{ to: ['pacs', 'archive'] }],
    });
    const { files } = writeSyntheticSeries(join(fx.tmp, 'study'), 5, { rows: 128, columns: 128, seriesDescription: 'CHEST 5mm' });
    run('storescu', ['-aet', 'CT_ROOM_1', '-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const shots = join(fx.tmp, 'screenshots');
    mkdirSync(shots);
    const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    await page.goto(`http://127.0.0.1:${br.httpPort}/`);

    // the series, with its region and the classifier's own view of its middle slice
    const series = page.locator('#series tbody tr');
    await series.first().waitFor();
    await expect(await series.count()).to.equal(1);
    const row = series.first();
    await waitFor('series label and all images', async () => (await row.locator('td').nth(5).textContent()) === '5', 15000);
    expect(await row.locator('td').nth(4).textContent()).to.equal('CHEST 5mm');
    expect(await row.locator('td').nth(2).textContent()).to.equal('CT_ROOM_1');
    expect(await page.locator('#model').textContent()).to.match(/^model bodyregion-cnn \d+\.\d+\.\d+ on cpu$/);
    const regions = (await row.locator('td').nth(6).textContent()) ?? '';
    expect(regions).to.match(/^[a-z]+/);
    const thumb = row.locator('img.thumb');
    await waitFor(
      'the thumbnail loaded',
      () => thumb.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth === 64),
      10000,
    );

    // the dead letters of the refusing destination, with their status
    const dead = page.locator('#dead-letters tbody tr');
    await waitFor('five dead letters on the page', async () => (await dead.count()) === 5, 20000);
    expect(await dead.first().locator('td').nth(4).textContent()).to.equal('0xA900');
    await shot('1-dead-letters');
    if (UPDATE_DOCS) copyFileSync(join(shots, '1-dead-letters.png'), join(__dirname, '..', '..', '..', 'docs', 'images', 'status-page.png'));

    // the destination is fixed; requeue all: the queue drains, the dead letters go
    refusing = false;
    await page.getByRole('button', { name: 'requeue all' }).click();
    await waitFor('the dead letters requeued and delivered', async () => (await dead.count()) === 0 && dest.stored.length === 5, 20000);
    const pacs = page.locator('#destinations tbody tr[data-destination="pacs"]');
    await waitFor('delivered 5 shown', async () => (await pacs.locator('td').nth(4).textContent()) === '5', 10000);
    await shot('2-requeued');

    // pause: it keeps queueing, sends nothing, and the pause is on disk; resume: it drains
    await pacs.getByRole('button', { name: 'pause' }).click();
    await waitFor('paused', async () => (await pacs.locator('td').nth(1).textContent()) === 'paused', 10000);
    expect(JSON.parse(readFileSync(join(spool, 'paused.json'), 'utf8'))).to.deep.equal(['pacs']);
    const more = writeSyntheticSeries(join(fx.tmp, 'more'), 2, { rows: 128, columns: 128, seriesDescription: 'ABDOMEN' });
    run('storescu', ['-aet', 'CT_ROOM_1', '-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...more.files]);
    await waitFor('two queued while paused', async () => (await pacs.locator('td').nth(2).textContent()) === '2', 20000);
    expect(dest.stored.length, 'nothing sent while paused').to.equal(5);
    await shot('3-paused');
    await pacs.getByRole('button', { name: 'resume' }).click();
    await waitFor('delivered after resume', () => dest.stored.length === 7, 20000);
    expect(JSON.parse(readFileSync(join(spool, 'paused.json'), 'utf8'))).to.deep.equal([]);

    // a label correction goes to corrections.csv, one row per instance
    const first = page.locator('#series tbody tr', { hasText: 'CHEST 5mm' });
    await first.locator('select').selectOption('knee');
    await first.getByRole('button', { name: 'correct' }).click();
    // the page answers once the rows are fsync'd; the file itself appears (empty) a moment before
    await waitFor(
      'the correction recorded',
      () => existsSync(join(spool, 'corrections.csv')) && readFileSync(join(spool, 'corrections.csv'), 'utf8').trim().split('\n').length === 6,
      10000,
    );
    const csv = readFileSync(join(spool, 'corrections.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).to.equal('time,studyInstanceUid,seriesInstanceUid,sopInstanceUid,correctedRegion,modelRegion');
    expect(csv.slice(1)).to.have.length(5);
    for (const line of csv.slice(1)) expect(line.split(',')[4]).to.equal('knee');
    await waitFor('the page shows it', async () => /knee \(corrected\)/.test((await first.locator('td').nth(6).textContent()) ?? ''), 10000);
    await shot('4-corrected');
    await phoneLayout(page);
    await br.kill();
  });
});

/** The page stays usable on a phone: nothing wider than the screen but the scrolling tables. */
async function phoneLayout(page: Page): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow, 'no sideways scrolling of the whole page').to.be.at.most(0);
}
