// The live dashboard while capd replays the mix (corpus packets of every
// category, ~16 packets/s) at --speed 1 --loop: the chart moves, the
// capture panel, soft and hard pause, the filters, clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, sleep, waitFor } from '../lib/backend.mjs';
import { chartPoints, launch, newPage, problems, tableRows, tableSeqs, uiTest } from '../lib/browser.mjs';
import { buildMix } from '../lib/captures.mjs';
import { CATEGORIES, categoryOf, isPublic } from '../lib/expect.mjs';

let browser = null;
let page = null;
let b = null;
const ui = uiTest(test, 'live', () => page);

before(async () => {
  const [br, be] = await Promise.all([launch(), Backend.start('live', { pcap: buildMix(), speed: '1', loop: true })]);
  browser = br;
  b = be;
  page = await newPage(browser);
  await page.goto(`${b.base}/`);
  await page.waitForSelector('#connection-status[data-state=connected]');
  // Room for a whole loop of the mix in the table.
  await page.click('#settings summary');
  await page.fill('#max-rows', '1000');
  await page.press('#max-rows', 'Tab');
  await page.click('#settings summary');
});

after(async () => {
  if (browser)
    await browser.close();
  if (b)
    await b.stop();
});

const maxOf = (xs) => xs.reduce((m, x) => Math.max(m, x), 0);
const ipOf = (cell) => cell.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([0-9.]+):\d+$/, '$1');

async function status() {
  return page.evaluate(() => {
    const n = document.getElementById('status-indicator');
    return { state: n.dataset.state, text: n.textContent };
  });
}

// Soft pause on or off, whatever it was.
async function softPause(on) {
  if ((await page.getAttribute('#soft-pause', 'aria-pressed')) !== String(on))
    await page.click('#soft-pause');
  assert.equal(await page.getAttribute('#soft-pause', 'aria-pressed'), String(on));
  if (on)
    await sleep(300); // a frame already under way
}

// Back to an unfiltered, running view and capture (after a test that
// failed half-way).
async function resetView() {
  if (b.capdControl({ cmd: 'status' }).status.paused) {
    b.capdControl({ cmd: 'resume' });
    await waitFor(async () => (await status()).state !== 'capture-stopped', { what: 'the indicator after resuming capd' });
  }
  await softPause(false);
  for (const cat of CATEGORIES) {
    const button = `#proto-toggles [data-proto="${cat}"]`;
    if ((await page.getAttribute(button, 'aria-pressed')) !== 'true')
      await page.click(button);
  }
  await page.uncheck('#foreign-only');
  if (await page.inputValue('#search')) {
    await page.fill('#search', '');
    await sleep(300);
  }
}

// ---- the chart -------------------------------------------------------------------

ui('the chart moves: new points each second while the capture replays', async (t) => {
  await waitFor(async () => {
    const p = await chartPoints(page);
    return p && p.some(([, y]) => y > 0);
  }, { timeout: 15000, what: 'packets on the chart' });
  const before1 = await chartPoints(page);
  const shot1 = await page.locator('#pps-chart').screenshot();
  await sleep(3500);
  const after1 = await chartPoints(page);
  const shot2 = await page.locator('#pps-chart').screenshot();
  const last = (pts) => maxOf(pts.filter(([, y]) => y > 0).map(([x]) => x));
  t.diagnostic(`newest point with packets: ${last(before1)} then ${last(after1)}`);
  assert.ok(last(after1) >= last(before1) + 2, 'points for newer seconds appeared');
  assert.notDeepEqual(after1, before1, 'the data changed');
  assert.ok(!shot1.equals(shot2), 'the canvas was redrawn (its pixels changed)');
  // The mix carries 10, 16 or 22 packets a second (the last second of a loop
  // fewer). The chart counts them by arrival: a capture second's packets may
  // straddle two of webd's seconds on a busy machine (11 17 21 15 11 was
  // seen), so the rates drawn are the mix's give or take such a split.
  const ys = after1.map(([, y]) => y).filter((y) => y > 0);
  const median = [...ys].sort((a, b) => a - b)[Math.floor(ys.length / 2)];
  assert.ok(ys.length >= 3 && median >= 8 && median <= 24 && Math.max(...ys) <= 44, `the mix's rates drawn: ${ys.join(' ')}`);
});

// ---- capture panel ---------------------------------------------------------------------

ui('interface list from capd (replaying a file, not switched); a bad BPF filter shows capd\'s error', async () => {
  const api = await b.json('/api/interfaces');
  const names = api.interfaces.map((i) => i.name);
  assert.ok(names.length > 0, 'capd lists interfaces');
  await waitFor(async () => (await page.$$eval('#interface-select option', (o) => o.length)) > 1, { what: 'the interface list' });
  const options = await page.$$eval('#interface-select option', (o) => o.map((x) => ({ value: x.value, text: x.textContent, selected: x.selected })));
  assert.deepEqual(options.filter((o) => o.value).map((o) => o.value), names, 'one option per interface capd lists');
  assert.equal(options.find((o) => o.selected).value, '', '"not capturing live" is selected: capd reads a file');
  assert.match(await page.textContent('#capture-source'), /replaying mix\.pcap/);

  const bad = 'tcp port';
  const capdSays = b.capdControl({ cmd: 'set_filter', filter: bad });
  assert.equal(capdSays.ok, false);
  await page.fill('#bpf-filter', bad);
  await page.click('#bpf-apply');
  await page.waitForSelector('#bpf-error:not([hidden])');
  assert.equal((await page.textContent('#bpf-error')).trim(), capdSays.error, 'capd\'s own words');
  const st = b.capdControl({ cmd: 'status' }).status;
  assert.equal(st.filter, '', 'the old (empty) filter stays');
  assert.equal(st.source, 'file', 'still replaying the file');

  // A good one applies (on the file), and only TCP packets come; then none again.
  try {
    await page.fill('#bpf-filter', 'tcp');
    await page.click('#bpf-apply');
    await waitFor(async () => (await page.textContent('#capture-message')).includes('Capture filter set: tcp'), { what: 'the filter message' });
    const mark = await b.newestSeq(); // packets up to here may predate the filter
    assert.equal(await page.isHidden('#bpf-error'), true);
    assert.equal(b.capdControl({ cmd: 'status' }).status.filter, 'tcp');
    await waitFor(async () => (await b.newestSeq()) > mark + 25, { timeout: 15000, what: 'packets after the filter' });
    const rows = (await b.json(`/api/packets?after_seq=${mark + 2}&limit=500`)).packets;
    assert.ok(rows.length > 0);
    assert.deepEqual(rows.filter((r) => r.ipproto !== 6).map((r) => `${r.seq} ${r.proto}`), [], 'only TCP after "tcp"');
    await page.fill('#bpf-filter', '');
    await page.click('#bpf-apply');
    await waitFor(async () => (await page.textContent('#capture-message')).includes('Capture filter removed'), { what: 'the filter removed' });
    assert.equal(b.capdControl({ cmd: 'status' }).status.filter, '');
  } finally {
    b.capdControl({ cmd: 'set_filter', filter: '' });
  }
});

// ---- soft pause ---------------------------------------------------------------------------

ui('soft pause: the rows and the chart stop while the feed goes on; resume catches up', async () => {
  await resetView();
  await page.click('#soft-pause');
  assert.deepEqual(await status(), { state: 'soft-paused', text: 'Paused (soft)' });
  assert.equal(await page.getAttribute('#soft-pause', 'aria-pressed'), 'true');
  await sleep(300); // a frame already under way
  const seqs1 = await tableSeqs(page);
  const chart1 = await chartPoints(page);
  const server1 = await b.newestSeq();
  await sleep(3000);
  const server2 = await b.newestSeq();
  assert.ok(server2 >= server1 + 20, `the capture went on (${server1} -> ${server2})`);
  assert.deepEqual(await tableSeqs(page), seqs1, 'the table did not change');
  assert.deepEqual(await chartPoints(page), chart1, 'the chart did not change');
  const note = await page.textContent('#table-note');
  const waiting = Number((/view paused: ([\d,]+) new rows waiting/.exec(note) || [])[1]?.replace(/,/g, ''));
  assert.ok(waiting >= server2 - server1 - 20, `the note counts the rows waiting: ${note}`);

  await page.click('#soft-pause');
  assert.deepEqual(await status(), { state: 'live', text: 'Live' });
  const top1 = maxOf(seqs1);
  const seqs2 = await waitFor(async () => {
    const s = await tableSeqs(page);
    return maxOf(s) >= server2 ? s : false;
  }, { what: 'the table to catch up' });
  const shown = new Set(seqs2);
  const missing = [];
  for (let s = top1 + 1; s <= server2; s++)
    if (!shown.has(s))
      missing.push(s);
  assert.deepEqual(missing, [], 'every row that arrived during the pause is shown');
  assert.notDeepEqual(await chartPoints(page), chart1, 'the chart moves again');
});

// ---- hard pause ------------------------------------------------------------------------------

ui('hard pause: capd pauses, the indicator says capture stopped, no new packets; resume', async () => {
  await resetView();
  await page.click('#hard-pause');
  await waitFor(async () => (await status()).state === 'capture-stopped', { what: 'the capture-stopped indicator' });
  assert.equal((await status()).text, 'Capture stopped');
  assert.equal(await page.getAttribute('#hard-pause', 'aria-pressed'), 'true');
  assert.equal((await page.textContent('#hard-pause')).trim(), 'Resume capture');
  assert.equal(b.capdControl({ cmd: 'status' }).status.paused, true, 'capd says paused');
  await waitFor(async () => (await b.capdStatus()).paused === true, { what: 'webd to report capd paused' });
  await sleep(500);
  const server1 = await b.newestSeq();
  const rows1 = await tableSeqs(page);
  await sleep(3000);
  assert.equal(await b.newestSeq(), server1, 'no packet while capd is paused');
  assert.deepEqual(await tableSeqs(page), rows1, 'no new row');
  assert.equal((await status()).state, 'capture-stopped', 'still stopped after the status polls');

  await page.click('#hard-pause');
  await waitFor(async () => (await status()).state === 'live', { what: 'the live indicator' });
  assert.equal(b.capdControl({ cmd: 'status' }).status.paused, false, 'capd resumed');
  await waitFor(async () => (await b.newestSeq()) > server1 + 5, { what: 'packets again', timeout: 10000 });
  await waitFor(async () => maxOf(await tableSeqs(page)) > server1, { what: 'new rows again' });
});

// ---- filters ----------------------------------------------------------------------------------

// The rows shown, with their category and addresses.
async function view() {
  return (await tableRows(page)).map((r) => ({ seq: r.seq, cat: categoryOf(r.cells.proto), proto: r.cells.proto, src: ipOf(r.cells.src), dst: ipOf(r.cells.dst), text: Object.values(r.cells).join(' ') }));
}

// With the view paused, a filter shows exactly the held rows that match:
// those of `before` that match, then older held rows the table had no room for.
function assertFiltered(before, after, match, what) {
  const lowest = Math.min(...before.map((r) => r.seq));
  const afterSeqs = new Set(after.map((r) => r.seq));
  const lost = before.filter((r) => match(r) && !afterSeqs.has(r.seq));
  assert.deepEqual(lost.map((r) => `${r.seq} ${r.proto}`), [], `${what}: matching rows still shown`);
  const wrong = after.filter((r) => !match(r));
  assert.deepEqual(wrong.map((r) => `${r.seq} ${r.proto} ${r.src} ${r.dst}`), [], `${what}: no other row shown`);
  const beforeSeqs = new Set(before.map((r) => r.seq));
  const extra = after.filter((r) => !beforeSeqs.has(r.seq) && r.seq > lowest);
  assert.deepEqual(extra.map((r) => r.seq), [], `${what}: nothing new while paused`);
}

ui('each protocol toggle hides exactly its rows, and brings them back', async (t) => {
  await resetView();
  // Wait until every category is in the table.
  await waitFor(async () => {
    const cats = new Set((await view()).map((r) => r.cat));
    return CATEGORIES.every((c) => cats.has(c));
  }, { timeout: 30000, what: `rows of every category (${CATEGORIES.join(', ')})` });
  await softPause(true);
  const all = await view();
  t.diagnostic(`${all.length} rows; ${CATEGORIES.map((c) => `${c}: ${all.filter((r) => r.cat === c).length}`).join(', ')}`);
  for (const cat of CATEGORIES) {
    const button = `#proto-toggles [data-proto="${cat}"]`;
    await page.click(button);
    assert.equal(await page.getAttribute(button, 'aria-pressed'), 'false');
    assertFiltered(all, await view(), (r) => r.cat !== cat, `${cat} off`);
    await page.click(button);
    assert.equal(await page.getAttribute(button, 'aria-pressed'), 'true');
    assert.deepEqual((await view()).map((r) => r.seq), all.map((r) => r.seq), `${cat} on again: the same rows`);
  }
  // Only one category on (the others off): only its rows.
  for (const cat of CATEGORIES.filter((c) => c !== 'DNS'))
    await page.click(`#proto-toggles [data-proto="${cat}"]`);
  assertFiltered(all, await view(), (r) => r.cat === 'DNS', 'only DNS');
  assert.ok((await view()).length > 0);
  assert.match(await page.getAttribute('#export-csv', 'href'), /proto=DNS%2CMDNS%2CLLMNR/, 'the export carries the filter');
  // Live: with the view running, new rows respect the filter too.
  await softPause(false);
  const top = maxOf(all.map((r) => r.seq));
  await waitFor(async () => (await view()).some((r) => r.seq > top), { what: 'new DNS rows', timeout: 15000 });
  assert.deepEqual((await view()).filter((r) => r.cat !== 'DNS').map((r) => r.seq), [], 'live rows filtered too');
  for (const cat of CATEGORIES.filter((c) => c !== 'DNS'))
    await page.click(`#proto-toggles [data-proto="${cat}"]`);
});

ui('after a filter is undone every row still carries its data-seq, and a click opens its detail', async () => {
  await resetView();
  await softPause(true);
  const all = await tableRows(page);
  await page.click('#proto-toggles [data-proto="TCP"]');
  await page.click('#proto-toggles [data-proto="TCP"]');
  const again = await tableRows(page);
  assert.deepEqual(again.map((r) => r.seq), all.map((r) => r.seq), 'the same rows');
  const broken = again.filter((r) => r.dataSeq !== String(r.seq));
  const last = again[again.length - 1];
  assert.equal(broken.length, 0, `${broken.length} of ${again.length} rows without their data-seq, e.g. ${broken.slice(0, 5).map((r) => `${r.seq}: data-seq="${r.dataSeq}"`).join(', ')}`);
  // Still paused, so the rows cannot move under the click.
  await page.click(`#packets-body tr[data-seq="${last.seq}"]`);
  await waitFor(async () => (await page.textContent('#detail-summary')).startsWith(`No. ${last.seq} `), { what: 'the clicked row\'s detail', timeout: 5000 });
  await page.click('#detail-close');
  await softPause(false);
});

ui('foreign-only shows exactly the rows with a public address', async () => {
  await resetView();
  await softPause(true);
  const all = await view();
  const foreign = (r) => isPublic(r.src) || isPublic(r.dst);
  assert.ok(all.some(foreign) && all.some((r) => !foreign(r)), 'the mix has both');
  await page.check('#foreign-only');
  await waitFor(async () => (await view()).every(foreign), { what: 'the filter to apply' });
  assertFiltered(all, await view(), foreign, 'foreign only');
  await page.uncheck('#foreign-only');
  await waitFor(async () => (await view()).length === all.length, { what: 'all rows back' });
  assert.deepEqual((await view()).map((r) => r.seq), all.map((r) => r.seq));
  await softPause(false);
});

ui('search: by address, by name, and nothing for a string no packet has', async () => {
  await resetView();
  await softPause(true);
  const all = await view();
  const ip = '125.190.109.199';
  await page.fill('#search', ip);
  await waitFor(async () => (await view()).every((r) => r.src === ip || r.dst === ip), { what: `the search for ${ip}` });
  assertFiltered(all, await view(), (r) => r.src === ip || r.dst === ip, `search ${ip}`);
  assert.ok((await view()).length > 0);

  await page.fill('#search', 'lilawelt');
  await waitFor(async () => (await view()).every((r) => r.text.includes('www.lilawelt.net')), { what: 'the search for a name' });
  const byName = await view();
  assert.ok(byName.length > 0 && byName.some((r) => r.proto === 'TLS'), 'the ClientHello with the SNI and its flow');

  await page.fill('#search', 'zz-no-such-packet');
  await waitFor(async () => (await view()).length === 0, { what: 'an empty table' });
  assert.equal(await page.isVisible('#table-empty'), true);
  await page.fill('#search', '');
  await waitFor(async () => (await view()).length === all.length, { what: 'all rows back' });
  await softPause(false);
});

// ---- clear ----------------------------------------------------------------------------------------

ui('clear empties the table; only newer packets come back', async () => {
  await resetView();
  await waitFor(async () => (await tableSeqs(page)).length > 10, { what: 'rows' });
  await page.click('#packets-body tr[data-seq]:not([hidden])');
  await page.waitForSelector('#detail-pane:not([hidden])');
  const before1 = maxOf(await tableSeqs(page));
  await page.click('#clear');
  const right = await tableSeqs(page);
  assert.ok(right.every((s) => s > before1), `no row from before the clear: ${right.join(' ')}`);
  assert.equal(await page.isHidden('#detail-pane'), true, 'the detail pane closed');
  await waitFor(async () => (await tableSeqs(page)).length >= 5, { what: 'new rows after the clear' });
  const now = await tableSeqs(page);
  assert.ok(now.every((s) => s > before1), 'only packets newer than the clear');
  // Rows keep coming: read the note and count the rows in one go, until the note has caught up.
  const same = await waitFor(async () => {
    const [n, note] = await page.evaluate(() => [document.querySelectorAll('#packets-body tr:not([hidden]) td.c-seq').length,
      document.getElementById('table-note').textContent]);
    return note.startsWith(`${n} shown`) ? note : false;
  }, { what: 'the note to count the rows shown' });
  assert.match(same, /^\d+ shown/);
});

ui('no console errors and no CSP violations during the live session', async () => {
  // The refused BPF filter is a 400 answer, which Chromium logs as an error.
  assert.deepEqual(await problems(page, { allow: [/^error: Failed to load resource: .* 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/api\/capture\)$/] }), []);
});
