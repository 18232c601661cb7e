// The fleet view in the page: webd with three sensors and --history. The
// default one gets a capd replaying the flows capture in a loop; that capd
// also publishes flows only (--publish-flows) on a second socket, which webd
// subscribes to as sensor "a" (its --sensor-url set: a flows-only remote
// sensor); sensor "b" has no capd at all (down). Checks: the Sensors panel
// (one row per sensor, up/down, the link's href and rel, only for a), the
// Packets view's "Packets stay on sensor a" notice with its link, and the
// History view's stored flows table against /api/history/flows for the same
// query, sorted by time, bytes, packets and RTT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Backend, CAPD, historyDir, waitFor } from '../lib/backend.mjs';
import { launch, newPage, problems, uiTest } from '../lib/browser.mjs';
import { buildFlows } from '../lib/captures.mjs';

const URL_A = 'http://sensor-a.example:8080/';
let browser = null;
let page = null;
let b = null;
const ui = uiTest(test, 'sensors', () => page);

before(async () => {
  const pcap = buildFlows();
  browser = await launch();
  b = new Backend('sensors');
  const a = `ipc://${b.dir}/a.sock`;
  const bSock = `ipc://${b.dir}/b.sock`;
  const dbPath = join(historyDir('sensors'), 'history.db');
  await b.startWebd(['--capd', `a=${a}`, '--capd', `b=${bSock}`, '--sensor-url', `a=${URL_A}`, '--history', dbPath], true);
  b.startCapd(pcap, { speed: '4', loop: true, startDelay: 500, capdArgs: ['--flow-active-timeout', '1', '--publish-flows', a] });
  await waitFor(async () => {
    const st = await b.stats();
    const sa = st.sensors.find((s) => s.name === 'a');
    return sa && sa.flow_reports > 0 && sa.health && sa.health.up && st.sensors[0].packets > 0;
  }, { timeout: 20000, what: 'flow reports from sensor a and packets from the default sensor' });
  await waitFor(async () => (await b.json('/api/history/flows?from=0&to=4000000000&limit=1')).total > 0,
    { timeout: 20000, what: 'stored flows' });
  page = await newPage(browser);
  await page.goto(`${b.base}/`);
  await page.waitForSelector('#connection-status[data-state=connected]');
});

after(async () => {
  if (browser)
    await browser.close();
  if (b)
    await b.stop();
});

// The panel's rows: {sensor: {col: text}, with the link's href and rel}.
async function panelRows() {
  return page.$$eval('#sensors-body tr', (trs) => Object.fromEntries(trs.map((tr) => {
    const cells = Object.fromEntries([...tr.cells].map((td) => [td.dataset.col, td.textContent]));
    const a = tr.querySelector('a');
    cells.href = a ? a.href : null;
    cells.rel = a ? a.rel : null;
    return [tr.dataset.sensor, cells];
  })));
}

ui('the Sensors panel: a row per sensor, up and down, the sensor link', async () => {
  await page.waitForSelector('#sensors-panel', { state: 'visible', timeout: 10000 });
  const st = await b.stats();
  let rows = null;
  await waitFor(async () => {
    rows = await panelRows();
    return Object.keys(rows).length === st.sensors.length && rows.b && rows.b.status === 'down' && rows.a.status === 'up';
  }, { timeout: 10000, what: 'the panel to show every sensor, b down and a up' });
  assert.deepEqual(Object.keys(rows).sort(), st.sensors.map((s) => s.name).sort());
  assert.equal(rows.a.href, URL_A, 'a links to its --sensor-url');
  assert.equal(rows.a.rel, 'noopener');
  assert.equal(rows.b.href, null, 'b has no url: no link');
  assert.equal(rows[st.sensors[0].name].href, null);
  assert.equal(rows.b.stats_age, 'never', 'b never sent stats');
  assert.equal(rows.b.clock_skew_ms, '—');
  assert.match(rows.a.stats_age, /^\d+\.\d s$/);
  assert.match(rows.a.clock_skew_ms, /^-?\d+\.\d ms$/);
  for (const col of ['kernel_drops', 'interface_drops', 'flow_evictions'])
    assert.match(rows.a[col], /^\d[\d,]*$/, col);
  assert.match(rows.a.ipc_packets, /^\d[\d,]* \/ \d[\d,]*$/);
  assert.match(rows.a.ipc_flows, /^\d[\d,]* \/ \d[\d,]*$/);
  assert.equal(await page.getAttribute('#sensors-body tr[data-sensor="b"]', 'class'), 'bad');
});

ui('the Packets view says the flows-only sensor keeps its packets, with its link', async () => {
  await page.waitForSelector('#flows-only-notice', { state: 'visible', timeout: 10000 });
  const notes = await page.$$eval('#flows-only-notice p', (ps) => ps.map((p) => ({
    sensor: p.dataset.sensor, text: p.textContent, href: p.querySelector('a') ? p.querySelector('a').href : null,
  })));
  assert.equal(notes.length, 1, 'only a sends flows without packets');
  assert.equal(notes[0].sensor, 'a');
  assert.match(notes[0].text, /Packets stay on sensor a\b/);
  assert.equal(notes[0].href, URL_A);
});

// Clicks a History flows header (or nothing), and checks the table against
// the API's answer to the request the page made.
async function checkFlows(sort) {
  const resp = page.waitForResponse((r) => r.url().includes('/api/history/flows?'));
  if (sort)
    await page.click(`#history-flows-head button[data-sort="${sort}"]`);
  else
    await page.click('#history-apply');
  const r = await resp;
  const url = new URL(r.url());
  if (sort)
    assert.equal(url.searchParams.get('sort'), sort);
  const from = Number(url.searchParams.get('from'));
  const to = Number(url.searchParams.get('to'));
  assert.ok(Number.isFinite(from) && to > from, `the History range: ${from}..${to}`);
  const api = await b.json(`${url.pathname}${url.search}`);
  // The table shows the page's answer; the history grows (the capture loops),
  // so compare with what the page got, then that it equals a fresh answer's order.
  const got = await r.json();
  await waitFor(async () => (await page.$$eval('#history-flows-body tr', (t) => t.length)) === got.flows.length,
    { what: 'the flows table to fill' });
  const rows = await page.$$eval('#history-flows-body tr', (trs) => trs.map((tr) => ({
    key: `${tr.dataset.sensor}/${tr.dataset.id}`, sensor: tr.cells[0].textContent,
  })));
  assert.deepEqual(rows.map((x) => x.key), got.flows.map((f) => `${f.sensor}/${f.id}`));
  assert.deepEqual(rows.map((x) => x.sensor), got.flows.map((f) => f.sensor), 'the sensor column');
  assert.ok(got.flows.length > 0, 'flows in the range');
  assert.equal(api.sort, got.sort);
  return { got, url };
}

ui('History: the stored flows table matches /api/history/flows, sorted by time, bytes, packets, RTT', async () => {
  await page.click('#tab-history');
  await page.waitForSelector('#history-view', { state: 'visible' });
  await page.waitForFunction(() => document.querySelector('#history-to').value !== '', null, { timeout: 15000 });
  await page.waitForFunction(() => /flows$/.test(document.querySelector('#history-flows-count').textContent), null, { timeout: 15000 });
  const first = await checkFlows(null);
  assert.equal(first.url.searchParams.get('sort'), 'last', 'by time at first');
  const sensors = new Set(first.got.flows.map((f) => f.sensor));
  assert.ok(sensors.has('a'), 'flows of the flows-only sensor are stored and shown');
  for (const sort of ['bytes', 'packets', 'rtt', 'last'])
    await checkFlows(sort);
  // Same header twice: ascending.
  const again = await checkFlows('last');
  assert.equal(again.url.searchParams.get('order'), 'asc');
  assert.equal(await page.getAttribute('#history-flows-head th[data-sort="last"]', 'aria-sort'), 'ascending');
  assert.deepEqual(await problems(page), []);
});

ui('History: the stored flows card\'s own filters (port, app) go to /api/history/flows; a bad one is refused with its reason', async () => {
  const all = await b.json('/api/history/flows?from=0&to=4000000000&limit=200');
  const f = all.flows.find((x) => x.b_port && x.app);
  assert.ok(f, 'a stored flow with a port and an application');
  await page.fill('#hf-port', String(f.b_port));
  await page.fill('#hf-app', f.app);
  const resp = page.waitForResponse((r) => r.url().includes('/api/history/flows?'));
  await page.click('#hf-apply');
  const r = await resp;
  const url = new URL(r.url());
  assert.deepEqual([url.searchParams.get('port'), url.searchParams.get('app'), url.searchParams.get('offset')], [String(f.b_port), f.app, '0']);
  const got = await r.json();
  assert.ok(got.flows.length > 0, 'the flow chosen is among them');
  assert.deepEqual(got.flows.filter((x) => x.a_port !== f.b_port && x.b_port !== f.b_port || x.app !== f.app), [], 'webd applied both');
  await waitFor(async () => JSON.stringify(await page.$$eval('#history-flows-body tr', (trs) => trs.map((tr) => `${tr.dataset.sensor}/${tr.dataset.id}`)))
    === JSON.stringify(got.flows.map((x) => `${x.sensor}/${x.id}`)), { what: 'the table to show the filtered page' });
  const apps = await page.$$eval('#history-flows-body tr', (trs) => trs.map((tr) => tr.cells[10].textContent));
  assert.deepEqual([...new Set(apps)], [f.app], 'the App column');

  await page.fill('#hf-port', '99999');
  await page.click('#hf-apply');
  await page.waitForSelector('#history-flows-error:not([hidden])');
  assert.match(await page.textContent('#history-flows-error'), /port/);
  await page.fill('#hf-port', '');
  await page.fill('#hf-app', '');
  await page.click('#hf-apply');
  await page.waitForSelector('#history-flows-error', { state: 'hidden' });
  assert.deepEqual(await problems(page, { allow: [/status of 400 .*api\/history\/flows\?.*port=99999/] }), []);
});
