// The Conversations view live (see flows.test.mjs for the views against
// capd's flows): two capds ("capd" and "lab") loop the flows capture with
// 1 s active timeouts, so flows keep arriving: the feed's flow updates
// (SSE and WebSocket), rows that hold still under the pointer, the sensor
// column, and polling /api/flows when there is no push feed.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, CAPD, sleep, waitFor } from '../lib/backend.mjs';
import { launch, liveRows, newPage, uiTest } from '../lib/browser.mjs';
import { buildFlows } from '../lib/captures.mjs';

// ==================================================================== live

describe('live: two sensors loop the capture', () => {
  let browser = null;
  let page = null;
  let b = null;
  let labCapd = null;
  const ui = uiTest(test, 'flows-live', () => page);

  before(async () => {
    const pcap = buildFlows();
    browser = await launch();
    b = new Backend('flows-live');
    const lab = `ipc://${b.dir}/lab.sock`;
    await b.startWebd(['--capd', `lab=${lab}`], true);
    const capdArgs = ['--flow-active-timeout', '1'];
    b.startCapd(pcap, { speed: '4', loop: true, startDelay: 500, capdArgs });
    labCapd = b.spawnLogged(CAPD, ['--read', pcap, '--speed', '4', '--loop', '--start-delay', '500', '--publish', lab,
      '--control', `ipc://${b.dir}/lab-ctl.sock`, ...capdArgs], 'capd-lab.log');
    await waitFor(async () => {
      const st = await b.stats();
      return st.sensors.length === 2 && st.sensors.every((s) => s.flow_reports > 0);
    }, { timeout: 20000, what: 'flow reports from both sensors' });
    page = await newPage(browser);
  });

  after(async () => {
    if (browser)
      await browser.close();
    if (b)
      await b.stop();
  });

  // /api/flows requests the page makes, counted from now.
  function countFlowRequests(p) {
    const seen = { n: 0 };
    p.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/flows')
        seen.n++;
    });
    return seen;
  }
  const total = () => page.getAttribute('#conv-table', 'data-total').then(Number);

  ui('new flows arrive without a reload over SSE, and with no polling of /api/flows', async () => {
    const requests = countFlowRequests(page);
    await page.goto(`${b.base}/#conversations?limit=50`);
    await page.waitForSelector('#connection-status[data-state=connected]');
    await waitFor(async () => (await total()) > 0, { what: 'flows' });
    const t0 = await total();
    const asked = requests.n;
    // Past a page of 50 too, so that the page must be full.
    await waitFor(async () => (await total()) > Math.max(t0 + 20, 50), { timeout: 20000, what: 'the total to grow' });
    await waitFor(async () => (await liveRows(page, '#conv-body')).length === 50, { what: 'a full page of 50 rows' });
    assert.ok(asked <= 1, `one /api/flows request for the query (${asked})`);
    assert.equal(requests.n, asked, 'the updates came from the feed, not from polling');
  });

  ui('rows hold still under the pointer while the flows change, and take the new order when it leaves', async () => {
    await page.goto(`${b.base}/#conversations?state=active&sort=last&limit=20`);
    await page.waitForSelector('#connection-status[data-state=connected]');
    await waitFor(async () => (await liveRows(page, '#conv-body')).length >= 5, { what: 'active flows' });
    // The pointer onto the third row's place (not the row itself: it may move meanwhile).
    const box = await page.locator('#conv-body tr:nth-child(3)').boundingBox();
    await page.mouse.move(box.x + 40, box.y + box.height / 2);
    await waitFor(async () => (await page.getAttribute('#conv-table', 'data-held')) === 'true', { what: 'the hold' });
    const held = (await liveRows(page, '#conv-body')).map((r) => r.key);
    let differed = false;
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      const now = (await liveRows(page, '#conv-body')).map((r) => r.key);
      assert.deepEqual(now, held, `no row moved under the pointer (${i * 250} ms)`);
      const api = (await b.json('/api/flows?state=active&sort=last&limit=20')).flows.map((f) => `${f.sensor}/${f.id}`);
      if (JSON.stringify(api) !== JSON.stringify(held))
        differed = true;
    }
    assert.ok(differed, 'meanwhile the server\'s page changed');
    assert.match(await page.textContent('#conv-held'), /order held/);
    assert.ok((await liveRows(page, '#conv-body')).some((r) => r.stale), 'flows that left the page are dimmed, not removed');
    await page.mouse.move(5, 5);
    await waitFor(async () => (await page.getAttribute('#conv-table', 'data-held')) === 'false', { what: 'the hold to end' });
    await waitFor(async () => JSON.stringify((await liveRows(page, '#conv-body')).map((r) => r.key)) !== JSON.stringify(held), { what: 'the new order' });
    assert.ok((await liveRows(page, '#conv-body')).every((r) => !r.stale));
    assert.equal(await page.textContent('#conv-held'), '');
  });

  ui('two sensors: a sensor column and a sensor filter', async () => {
    await page.goto(`${b.base}/#conversations?limit=100`);
    await page.waitForSelector('#connection-status[data-state=connected]');
    await waitFor(async () => page.isVisible('#conv-head th.c-sensor'), { what: 'the sensor column' });
    await waitFor(async () => new Set((await liveRows(page, '#conv-body')).map((r) => r.cells.sensor)).size === 2, { what: 'flows of both sensors' });
    assert.ok(await page.isVisible('#conv-sensor'));
    assert.deepEqual(await page.$$eval('#conv-sensor option', (os) => os.map((o) => o.value)), ['', 'capd', 'lab']);
    await page.selectOption('#conv-sensor', 'lab');
    await waitFor(async () => {
      const rows = await liveRows(page, '#conv-body');
      return rows.length > 0 && rows.every((r) => r.cells.sensor === 'lab' && r.key.startsWith('lab/'));
    }, { what: 'only the lab sensor\'s flows' });
    assert.ok((await page.evaluate(() => window.location.hash)).includes('sensor=lab'));
  });

  ui('WebSocket: the flow query changes with a message, no reconnection', async () => {
    const sent = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
    await page.goto(`${b.base}/#conversations?limit=50`);
    await page.click('#settings summary');
    await page.selectOption('#transport', 'ws');
    await page.click('#settings summary');
    await waitFor(async () => (await page.textContent('#connection-status')).includes('WebSocket connected'), { what: 'the WebSocket' });
    await page.selectOption('#conv-proto', 'udp');
    await waitFor(async () => sent.some((s) => JSON.parse(s).flows === 'proto=udp&sort=bytes&order=desc&limit=50'), { what: 'the query sent as a message' });
    const t0 = await waitFor(async () => {
      const rows = await liveRows(page, '#conv-body');
      return rows.length && rows.every((r) => r.cells.proto === 'UDP') ? total() : false;
    }, { what: 'UDP flows only' });
    await waitFor(async () => (await total()) > t0, { timeout: 15000, what: 'UDP flows to keep coming over the WebSocket' });
    assert.ok((await page.textContent('#connection-status')).includes('WebSocket connected'), 'the same connection');
    await page.click('#settings summary');
    await page.selectOption('#transport', 'sse');
    await page.click('#settings summary');
  });

  ui('without a push feed, the view polls /api/flows every second', async () => {
    const p2 = await newPage(browser);
    try {
      await p2.route(/\/(api\/stream|ws)(\?|$)/, (route) => route.abort());
      const requests = countFlowRequests(p2);
      await p2.goto(`${b.base}/#conversations?limit=50`);
      await p2.waitForSelector('#connection-status[data-state=polling]', { timeout: 30000 });
      const n0 = requests.n;
      const t0 = Number(await p2.getAttribute('#conv-table', 'data-total'));
      await sleep(4000);
      assert.ok(requests.n - n0 >= 3, `polled ${requests.n - n0} times in 4 s`);
      await waitFor(async () => Number(await p2.getAttribute('#conv-table', 'data-total')) > t0, { timeout: 15000, what: 'new flows by polling' });
    } finally {
      await p2.context().close();
    }
  });
});
