// The History view: webd with --history in a temporary directory, fed a
// replay of zeek-wikipedia.pcap followed by the hostile packets (re-timed
// to follow it), at --speed max. Once the history has stored every packet,
// the view must show the capture's own time range: the rate chart (packets
// per step, from the capture's timestamps), every packet page by page in
// capture order (against capd --json), the filters, the PCAP export (read
// back with tshark and byte for byte), the CSV of the loaded rows, hostile
// names as text only, both themes; and the same after webd restarts on the
// same history file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, Backend, historyDir, waitFor } from '../lib/backend.mjs';
import { domCensus, launch, newPage, problems, uiTest } from '../lib/browser.mjs';
import { HOSTILE, HOSTILE_IPS, buildHistoryMix, capdJson } from '../lib/captures.mjs';
import { readPcap } from '../lib/pcap.mjs';
import { download, parseCsv, tsharkFields } from '../lib/util.mjs';

let browser = null;
let page = null;
let b = null;
let pcap = null;
let packets = null; // capd --json of the capture: the oracle
let dbPath = null;
let baseline = null;
const ui = uiTest(test, 'history', () => page);
// Refused on purpose by the filter test (the browser logs each 400): a bad address, asked by the
// packets and the flows tables both, and a bad proto.
const REFUSED = { allow: [/status of 400 .*api\/history\/(packets\?.*(ip=2001%3Adb8%3A%3Azz|proto=NOPE)|flows\?.*addr=2001%3Adb8%3A%3Azz)/] };

// The capture's own range, as the view takes it: whole UTC seconds, "to" excluded.
const firstSecond = () => Math.floor(Number(packets[0]._ts));
const lastSecond = () => Math.floor(Number(packets[packets.length - 1]._ts));

const pad = (n, w = 2) => String(n).padStart(w, '0');
// Unix seconds -> a datetime-local value in UTC (what the view's inputs hold).
function inputValue(s) {
  const d = new Date(s * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// capd's ts text -> "YYYY-MM-DD HH:MM:SS.mmm" UTC (truncated, as shown).
function utcText(tsText) {
  const [sec, frac = ''] = tsText.split('.');
  const d = new Date(Number(sec) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${(frac + '000').slice(0, 3)}`;
}

function address(ip, port) {
  if (!ip)
    return '';
  if (port === undefined)
    return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// What a history row shows for a packet of capd --json. The history keeps
// IP addresses only: ARP and LLC rows have no source or destination.
const expectRow = (o) => ({ time: utcText(o._ts), proto: o.proto || '', src: address(o.src, o.sport), dst: address(o.dst, o.dport), len: String(o.len) });

async function historyRows() {
  return page.$$eval('#history-body tr', (trs) => trs.map((tr) => {
    const cell = (c) => (tr.querySelector(`td.c-${c}`) || {}).textContent || '';
    return { id: Number(tr.dataset.id), proto: tr.dataset.proto, cells: { time: cell('htime'), proto: cell('proto'), src: cell('src'), dst: cell('dst'), len: cell('len') }, name: cell('name'), info: cell('info') };
  }));
}

async function idle() {
  await page.waitForSelector('#history-view[data-state=idle]', { timeout: 20000 });
}

async function setRange(from, to) {
  await page.fill('#history-from', inputValue(from));
  await page.fill('#history-to', inputValue(to));
}

// Shows the capture's range with the given filters and page size.
async function show({ ip = '', proto = '', q = '', pageSize = '50' } = {}) {
  await setRange(firstSecond(), lastSecond() + 1);
  await page.fill('#history-ip', ip);
  await page.fill('#history-proto', proto);
  await page.fill('#history-q', q);
  await page.selectOption('#history-page-size', pageSize);
  await page.click('#history-apply');
  await idle();
}

// Presses "Load more" until it goes away; -> {rows, pages}.
async function loadAll() {
  let pages = 1;
  for (;;) {
    await idle();
    if (await page.isHidden('#history-more'))
      break;
    await page.click('#history-more');
    pages++;
    assert.ok(pages < 100, 'Load more ends');
  }
  await page.waitForSelector('#history-table[data-complete=true]');
  return { rows: await historyRows(), pages };
}

function rowDiffs(rows, want) {
  const diffs = [];
  if (rows.length !== want.length)
    diffs.push(`${rows.length} rows shown, ${want.length} expected`);
  for (let i = 0; i < Math.min(rows.length, want.length); i++) {
    const w = expectRow(want[i]);
    for (const k of Object.keys(w))
      if (rows[i].cells[k] !== w[k])
        diffs.push(`row ${i + 1} (capd packet ${want[i].seq}) ${k}: shown ${JSON.stringify(rows[i].cells[k])}, expected ${JSON.stringify(w[k])}`);
  }
  return diffs.slice(0, 20);
}

const chartData = () => page.evaluate(() => {
  const canvas = document.getElementById('history-chart');
  const c = window.Chart && window.Chart.getChart(canvas);
  return { step: Number(canvas.dataset.step), from: Number(canvas.dataset.from), points: c ? c.data.datasets[0].data.map((p) => [p.x, p.y]) : null };
});

// Packets per step of the capture's timestamps, from `from`, zeros included.
function expectedCounts(from, to, step) {
  const counts = [];
  for (let t = from; t < to; t += step)
    counts.push([t, 0]);
  for (const o of packets) {
    const s = Math.floor(Number(o._ts));
    if (s >= from && s < to)
      counts[Math.floor((s - from) / step)][1]++;
  }
  return counts;
}

before(async () => {
  pcap = buildHistoryMix();
  packets = capdJson(pcap);
  dbPath = join(historyDir('history'), 'history.db');
  const [br, be] = await Promise.all([launch(), Backend.start('history', { pcap, speed: 'max', startDelay: 500, webdArgs: ['--history', dbPath] })]);
  browser = br;
  b = be;
  const n = packets.length;
  await waitFor(async () => (await b.stats()).history.stored === n, { timeout: 30000, what: `history.stored = ${n}` });
  // The per-second rates reach the history a couple of seconds after their second.
  await waitFor(async () => {
    const r = await b.json(`/api/history/rates?from=${firstSecond()}&to=${lastSecond() + 1}&step=1`);
    return r.rates.reduce((s, x) => s + x.packets, 0) === n;
  }, { timeout: 20000, what: `history rates summing to ${n}` });
  page = await newPage(browser);
  await page.goto(`${b.base}/`);
  await page.waitForSelector('#connection-status[data-state=connected]');
  baseline = await page.evaluate(domCensus);
});

after(async () => {
  if (browser)
    await browser.close();
  if (b)
    await b.stop();
});

ui('the History tab (keyboard) opens the last hour up to the newest stored packet', async () => {
  await page.focus('#tab-live');
  await page.keyboard.press('End'); // History is the last tab (Live, Conversations, Endpoints, History)
  assert.equal(await page.getAttribute('#tab-history', 'aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-history', 'focus follows the tab');
  await page.waitForSelector('#history-view', { state: 'visible' });
  assert.ok(await page.isHidden('#live-view'), 'the live view is hidden meanwhile');
  assert.equal(await page.evaluate(() => window.location.hash), '#history');
  await idle();
  const last = packets[packets.length - 1];
  const newest = Number(await page.getAttribute('#history-bounds', 'data-newest'));
  assert.ok(Math.abs(newest - Number(last._ts)) < 1e-5, `the newest stored packet is the capture's last (${newest} vs ${last._ts})`);
  assert.equal(await page.getAttribute('#history-quick [data-range="3600"]', 'aria-pressed'), 'true');
  assert.equal(await page.inputValue('#history-to'), inputValue(lastSecond() + 1), '"to": the second after the newest packet');
  assert.equal(await page.inputValue('#history-from'), inputValue(lastSecond() + 1 - 3600));
  // Quick range: 15 minutes back from the newest packet (the capture's clock, not now).
  await page.click('#history-quick [data-range="900"]');
  await idle();
  assert.equal(await page.inputValue('#history-from'), inputValue(lastSecond() + 1 - 900));
  assert.equal(await page.inputValue('#history-to'), inputValue(lastSecond() + 1));
  await waitFor(async () => (await page.textContent('#history-count')).includes('all loaded'), { what: 'the rows of the last 15 min' });
  assert.equal((await historyRows()).length, packets.length, 'every packet is in the last 15 minutes of the capture');
  const chart = await chartData();
  assert.equal(chart.step, 2, '900 s in at most 500 points: 2 s a point');
  assert.ok(chart.points.length <= 500);
  assert.equal(chart.points.reduce((s, [, y]) => s + y, 0), packets.length, 'the chart counts every packet');
});

ui('the capture\'s own range: the chart shows the packets per step of the capture\'s timestamps', async () => {
  await show();
  const from = firstSecond();
  const to = lastSecond() + 1;
  const chart = await chartData();
  assert.equal(chart.step, 1, `a ${to - from} s range: one point a second`);
  assert.deepEqual(chart.points, expectedCounts(from, to, 1), 'packets per second as capd timestamps them');
  assert.match(await page.getAttribute('#history-chart', 'aria-label'), new RegExp(`${packets.length} in all`));
  // A day around it: 300 s a point (at most 500 points), every packet in one point or two.
  await setRange(from - 43200, from + 43200);
  await page.click('#history-apply');
  await idle();
  const day = await chartData();
  assert.equal(day.step, 300);
  assert.ok(day.points.length <= 500, `${day.points.length} points`);
  assert.deepEqual(day.points.filter(([, y]) => y > 0), expectedCounts(from - 43200, from + 43200, 300).filter(([, y]) => y > 0));
});

ui('the table lists every packet in capture order, page by page with "Load more"', async () => {
  await show({ pageSize: '50' });
  assert.equal((await historyRows()).length, 50, 'a first page of 50');
  assert.ok(await page.isVisible('#history-more'), '"Load more" while the cursor says there is more');
  const { rows, pages } = await loadAll();
  assert.equal(pages, Math.ceil(packets.length / 50), 'pages of 50');
  assert.deepEqual(rowDiffs(rows, packets), [], 'count, order, time, proto, source, destination and length as capd --json');
  assert.ok(rows.every((r, i) => i === 0 || r.id > rows[i - 1].id), 'ids grow with capture order');
  assert.match(await page.textContent('#history-count'), new RegExp(`^${packets.length} packets · all loaded`));
  // The keyboard reaches "Load more" and the rows' scroll box.
  await show({ pageSize: '100' });
  await page.focus('#history-more');
  await page.keyboard.press('Enter');
  await idle();
  assert.equal((await historyRows()).length, packets.length);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'history-scroll', 'focus moves to the table once the last page is in');
});

ui('filters narrow the rows: proto=DNS, an address, a search; the PCAP export follows them', async () => {
  await show({ proto: 'DNS' });
  const dns = packets.filter((o) => o.proto === 'DNS');
  assert.ok(dns.length > 10 && dns.length < packets.length);
  assert.deepEqual(rowDiffs((await loadAll()).rows, dns), [], 'proto=DNS: exactly the DNS packets (not MDNS or LLMNR)');
  assert.match(await page.textContent('#history-chart-note'), /the filter applies to the table only/);
  const dl = await download(page, '#history-export-pcap');
  assert.match(dl.url, /proto=DNS/);
  assert.equal(tsharkFields(dl.path, ['frame.number']).length, dns.length, 'the filtered PCAP has the DNS packets');

  const ip = HOSTILE_IPS.client;
  await show({ ip });
  const mine = packets.filter((o) => o.src === ip || o.dst === ip);
  assert.deepEqual(rowDiffs((await loadAll()).rows, mine), [], `ip=${ip}: its packets, either direction`);

  await show({ ip: '2001:db8::zz' });
  assert.match(await page.textContent('#history-error'), /ip= must be an IPv4 or IPv6 address/, 'the server\'s refusal is shown');
  assert.equal((await historyRows()).length, 0);
  await show({ proto: 'NOPE' });
  assert.match(await page.textContent('#history-error'), /unknown protocol 'NOPE'/);

  await show({ q: 'wikipedia' });
  const { rows } = await loadAll();
  assert.ok(rows.length > 0 && rows.length < packets.length, `q=wikipedia: ${rows.length} rows`);
  assert.ok(await page.isHidden('#history-error'));
});

ui('the PCAP export of the range has the same packets (tshark, and byte for byte)', async () => {
  await show();
  const href = await page.getAttribute('#history-export-pcap', 'href');
  assert.match(href, new RegExp(`from=${firstSecond()}&to=${lastSecond() + 1}`));
  const dl = await download(page, '#history-export-pcap');
  const fields = tsharkFields(dl.path, ['frame.time_epoch', 'frame.len', 'frame.cap_len']);
  assert.equal(fields.length, packets.length, 'tshark reads every packet');
  const diffs = [];
  fields.forEach(([t, len], i) => {
    if (Number(t).toFixed(6) !== Number(packets[i]._ts).toFixed(6) || Number(len) !== packets[i].len)
      diffs.push(`frame ${i + 1}: ${t} ${len}, capd says ${packets[i]._ts} ${packets[i].len}`);
  });
  assert.deepEqual(diffs.slice(0, 10), []);
  const got = readPcap(dl.path).packets;
  const want = readPcap(pcap).packets;
  assert.equal(got.length, want.length);
  assert.ok(got.every((p, i) => p.data.equals(want[i].data) && p.sec === want[i].sec && p.frac === want[i].frac), 'the same bytes and timestamps as the replayed file');
});

ui('hostile names in the history rows and its CSV are text; nothing runs', async () => {
  await show({ pageSize: '200' });
  const text = await page.textContent('#history-body');
  for (const p of [HOSTILE.dnsQuery, HOSTILE.dnsJs, HOSTILE.dnsScriptAlert, HOSTILE.sni, HOSTILE.httpPath, HOSTILE.httpHost2])
    assert.ok(text.includes(p), `${p} shown as text in the history table`);
  await page.locator('#history-body').getByText(`${HOSTILE.dnsQuery}.evil.test`, { exact: true }).first().waitFor({ state: 'visible' });
  await page.locator('#history-body').getByText(HOSTILE.sni, { exact: true }).first().waitFor({ state: 'visible' });
  await page.fill('#history-q', '<script>');
  await page.click('#history-apply');
  await idle();
  assert.ok((await historyRows()).length > 0, 'a search for <script> finds the hostile rows');
  assert.deepEqual(await problems(page, REFUSED), [], 'no script ran, no dialog, no CSP violation, no console error');
  assert.deepEqual(await page.evaluate(domCensus), baseline, 'no element or handler from a payload');

  await show({ pageSize: '200' });
  const dl = await download(page, '#history-export-csv');
  const csv = parseCsv(readFileSync(dl.path, 'utf8'));
  assert.equal(dl.name, 'wlite-history.csv');
  assert.equal(csv.length - 1, packets.length, 'one CSV line per loaded row');
  const qnames = csv.slice(1).map((r) => r[11]);
  assert.ok(qnames.includes(`${HOSTILE.dnsQuery}.evil.test`), 'the hostile name, as it is');
});

ui('both themes: the History view follows the theme toggle', async () => {
  const look = () => page.evaluate(() => {
    const c = window.Chart.getChart(document.getElementById('history-chart'));
    const s = getComputedStyle(document.querySelector('#history-view .card'));
    return { theme: document.documentElement.dataset.theme, card: s.backgroundColor, text: s.color, line: c.data.datasets[0].borderColor, accent: getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() };
  });
  const first = await look();
  await page.click('#theme-toggle');
  const second = await look();
  assert.notEqual(second.theme, first.theme);
  assert.notEqual(second.card, first.card, 'the cards change colour');
  assert.notEqual(second.text, first.text);
  assert.equal(first.line, first.accent, 'the chart uses the theme\'s accent');
  assert.equal(second.line, second.accent, '... in the other theme too');
  await page.screenshot({ path: join(ARTIFACTS, `history--theme-${second.theme}.png`), fullPage: true });
  await page.click('#theme-toggle');
  assert.equal((await look()).theme, first.theme);
});

ui('after webd restarts on the same history file, the History view still shows the packets', async () => {
  // Off the page first: its feed would log the refused reconnections.
  await page.goto('about:blank');
  await b.kill(b.webd);
  await b.startWebd(['--history', dbPath], true);
  const st = await b.stats();
  assert.equal(st.history.enabled, true);
  assert.equal(st.history.path, dbPath);
  // Straight to the view by its address.
  await page.goto(`${b.base}/#history`);
  await page.waitForSelector('#history-view', { state: 'visible' });
  await idle();
  assert.equal(await page.getAttribute('#tab-history', 'aria-selected'), 'true');
  await show({ pageSize: '100' });
  assert.deepEqual(rowDiffs((await loadAll()).rows, packets), [], 'every packet, as before the restart');
  assert.deepEqual((await chartData()).points, expectedCounts(firstSecond(), lastSecond() + 1, 1), 'and the rates');
  assert.deepEqual(await problems(page, REFUSED), []);
});
