// Hostile names: a generated capture whose DNS names and answers, TLS SNI
// and HTTP Host and path carry HTML/script payloads. They must show as
// text; nothing may run (dialogs, the payloads' globals, alert), no element
// may come from them, and the CSP must never have to block anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, sleep, waitFor } from '../lib/backend.mjs';
import { domCensus, launch, newPage, problems, tableRows, uiTest } from '../lib/browser.mjs';
import { HOSTILE, HOSTILE_IPS, buildHostile, capdJson } from '../lib/captures.mjs';
import { cellDiffs, expectedRows } from '../lib/expect.mjs';

let browser = null;
let page = null;
let b = null;
let baseline = null;
let pcap = null;
const ui = uiTest(test, 'hostile', () => page);

before(async () => {
  pcap = buildHostile();
  browser = await launch();
  page = await newPage(browser);
  b = await Backend.start('hostile', { pcap, speed: '5', startDelay: 2500 });
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

async function assertNothingRan(what) {
  assert.deepEqual(await problems(page), [], `${what}: no script ran, no dialog, no CSP violation, no console error`);
  const now = await page.evaluate(domCensus);
  assert.deepEqual(now, baseline, `${what}: no element or handler from a payload`);
  assert.equal(await page.$('img[src=x]'), null);
}

const json = () => capdJson(pcap);

ui('the hostile rows show their names as text, cell for cell as capd decodes them', async () => {
  const want = expectedRows(json());
  const rows = await waitFor(async () => {
    const r = await tableRows(page);
    return r.length === want.length ? r : false;
  }, { timeout: 15000, what: `${want.length} rows` });
  const diffs = [];
  for (const r of rows)
    diffs.push(...cellDiffs(`packet ${r.seq}`, r.cells, want[r.seq - 1]));
  assert.deepEqual(diffs, []);
  const text = await page.textContent('#packets-body');
  for (const p of [HOSTILE.dnsQuery, HOSTILE.dnsJs, HOSTILE.dnsScriptAlert, HOSTILE.dnsCname, HOSTILE.sni, HOSTILE.httpPath, HOSTILE.httpHost, HOSTILE.httpHost2])
    assert.ok(text.includes(p), `${p} shown as text in the table`);
  // Visible, not only in the DOM.
  await page.getByText(`${HOSTILE.dnsQuery}.evil.test`, { exact: true }).first().waitFor({ state: 'visible' });
  await page.getByText(HOSTILE.sni, { exact: true }).first().waitFor({ state: 'visible' });
  await assertNothingRan('table');
});

ui('the detail pane of every hostile packet shows the payloads as text', async () => {
  const packets = json();
  for (const o of packets) {
    await page.click(`#packets-body tr[data-seq="${o.seq}"]`);
    await waitFor(async () => (await page.textContent('#detail-summary')).startsWith(`No. ${o.seq} `), { what: `the detail of packet ${o.seq}` });
    await page.waitForSelector('[data-testid=detail-layer]');
    const tree = await page.textContent('#detail-tree');
    const shown = [o.dns && o.dns.qname, o.sni, o.http && o.http.host, o.http && o.http.path].filter(Boolean);
    for (const s of shown)
      assert.ok(tree.includes(s), `packet ${o.seq}: ${s} in the tree`);
    // Every field's bytes can be selected: nothing runs then either.
    const fields = await page.$$('#detail-tree [data-testid=detail-field]');
    for (const f of fields.slice(-6))
      await f.click();
    await assertNothingRan(`detail of packet ${o.seq}`);
  }
  await page.click('#detail-close');
});

ui('the DNS and names panels list the hostile names as text', async () => {
  const { answer, tls, web } = HOSTILE_IPS;
  await waitFor(async () => (await page.textContent('#dns-list')).includes(HOSTILE.dnsScriptAlert), { timeout: 10000, what: 'the DNS panel (polled every 3 s)' });
  const dns = await page.textContent('#dns-list');
  for (const p of [`${HOSTILE.dnsQuery}.evil.test`, `${HOSTILE.dnsJs}.evil.test`, `${HOSTILE.dnsScriptAlert}.evil.test`])
    assert.ok(dns.includes(p), `${p} in the DNS panel`);
  assert.ok(dns.includes(`${HOSTILE.dnsCname}.evil.test`) || dns.includes('192.0.2.10'), 'the answers in the DNS panel');
  await waitFor(async () => (await page.textContent('#names-body')).includes(HOSTILE.sni), { timeout: 15000, what: 'the names panel (polled every 8 s)' });
  const pairs = await page.$$eval('#names-body tr', (trs) => trs.map((tr) => [tr.cells[0].title || tr.cells[0].textContent, tr.cells[1].textContent.split(' ')[0]]));
  for (const [name, ip] of [[`${HOSTILE.dnsAnswerName}.evil.test`, answer], [HOSTILE.sni, tls], [HOSTILE.httpHost, web]])
    assert.ok(pairs.some(([n, a]) => n === name && a === ip), `${name} ↔ ${ip} in the names panel: ${JSON.stringify(pairs)}`);
  // The panels' own filters and the search box, typed with payloads.
  await page.fill('#dns-filter', '<script>');
  await page.fill('#names-filter', '"><svg');
  await page.fill('#search', '<img');
  await waitFor(async () => (await tableRows(page)).length > 0 && (await tableRows(page)).every((r) => Object.values(r.cells).join(' ').includes('<img')), { what: 'the search for <img' });
  await sleep(500);
  await assertNothingRan('panels and filters');
  await page.fill('#search', '');
  await page.fill('#dns-filter', '');
  await page.fill('#names-filter', '');
});

ui('after a reload (rows from /api/packets, not the feed) still nothing runs', async () => {
  await page.reload();
  await page.waitForSelector('#connection-status[data-state=connected]');
  await waitFor(async () => (await tableRows(page)).length === json().length, { what: 'the rows again' });
  await page.click('#packets-body tr[data-seq="8"]');
  await page.waitForSelector('[data-testid=detail-layer]');
  await sleep(4000); // the panels poll
  await assertNothingRan('after reload');
});
