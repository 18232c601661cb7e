// The Conversations and Endpoints views, the flow pane and its downloads,
// and the packet -> flow links, against capd's own flows (--read --flows)
// of a capture built for them (lib/captures.mjs buildFlows: zeek-web's
// public HTTP, the hostile names, crafted TCP with RTTs, retransmissions
// and a reset, UDP, ICMP).
//
// One capd replays the capture once; when it ends every flow has been
// reported, so webd holds exactly capd's flows and the views can be
// compared with them value for value. (flows-live.test.mjs: the same
// capture looped by two capds, for the live updates.)
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, GEO, sleep, waitFor } from '../lib/backend.mjs';
import { domCensus, launch, liveRows, newPage, problems, uiTest } from '../lib/browser.mjs';
import { HOSTILE, buildFlows, capdFlows, capdJson } from '../lib/captures.mjs';
import { NameBook, countryOf } from '../lib/expect.mjs';
import { readPcap } from '../lib/pcap.mjs';
import { download, tsharkFields } from '../lib/util.mjs';

const IPPROTO = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };
const n = (x) => Number(x) || 0;
const en = (x) => n(x).toLocaleString('en-US');
const ep = (addr, port) => (port === undefined ? addr : addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
const flag = (cc) => String.fromCodePoint(...[...cc].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
const cl = (cc) => (cc ? `${flag(cc)} ${cc}` : '');

function countriesOf(f) {
  const a = cl(countryOf(f.a));
  const b = cl(countryOf(f.b));
  if (a && b)
    return a === b ? a : `${a} → ${b}`;
  return a ? `${a} →` : b ? `→ ${b}` : '';
}

// The tuple a row shows (protocol, both ends) in the oracle's terms.
const rowTuple = (r) => `${r.cells.proto}|${r.cells.a}|${r.cells.b}`;
const oracleTuple = (f) => `${IPPROTO[f.ipproto] ?? String(f.l3).toUpperCase()}|${ep(f.a, f.a_port)}|${ep(f.b, f.b_port)}`;

// What a Conversations row shows for one of capd's flows (cells by column id).
function expectedCells(f, book) {
  const tcp = f.tcp;
  return {
    a: ep(f.a, f.a_port),
    b: ep(f.b, f.b_port),
    proto: IPPROTO[f.ipproto] ?? String(f.l3).toUpperCase(),
    app: f.app || '',
    name: f.name || book.get(f.b) || book.get(f.a) || '',
    ...(GEO ? { countries: countriesOf(f) } : {}),
    packets: en(n(f.a_packets) + n(f.b_packets)),
    rtt: tcp && typeof tcp.rtt_ms === 'number' ? `${tcp.rtt_ms.toFixed(3)} ms` : '',
    retrans: tcp ? String(n(tcp.a_retransmissions) + n(tcp.b_retransmissions)) : '',
    state: [tcp && tcp.state, `ended: ${f.end}`].filter(Boolean).join(' · '),
  };
}

const TCP_FLAGS = [[0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR'], [0x100, 'AE']];
const flagNames = (bits) => TCP_FLAGS.filter(([b]) => bits & b).map(([, name]) => name).join(' ') || 'none';

// ==================================================================== once

describe('once: the capture replayed once, every flow reported', () => {
  let browser = null;
  let page = null;
  let b = null;
  let pcap = null;
  let flows = [];
  let packets = [];
  let book = null;
  let baseline = null;
  const ui = uiTest(test, 'flows', () => page);

  before(async () => {
    pcap = buildFlows();
    flows = capdFlows(pcap);
    packets = capdJson(pcap);
    book = new NameBook();
    packets.forEach((o) => book.learn(o));
    const [br, be] = await Promise.all([launch(), Backend.start('flows', { pcap, speed: '20', startDelay: 1500, waitPackets: packets.length })]);
    browser = br;
    b = be;
    await waitFor(async () => (await b.json('/api/flows?limit=1')).total === flows.length,
      { timeout: 20000, what: `webd to hold capd's ${flows.length} flows` });
    page = await newPage(browser);
    await page.goto(`${b.base}/`);
    await page.waitForSelector('#connection-status[data-state=connected]');
    baseline = await page.evaluate(domCensus);
    await page.click('#tab-conversations');
  });

  after(async () => {
    if (browser)
      await browser.close();
    if (b)
      await b.stop();
  });

  const convRows = () => liveRows(page, '#conv-body');
  const apiFlows = async (query) => (await b.json(`/api/flows?${query}`)).flows;
  const keysOf = (list) => list.map((f) => `${f.sensor}/${f.id}`);
  const byTuple = (tuple) => flows.find((f) => oracleTuple(f) === tuple);

  async function waitRows(want, what) {
    return waitFor(async () => {
      const rows = await convRows();
      const got = rows.map(rowTuple).sort();
      return JSON.stringify(got) === JSON.stringify(want.map(oracleTuple).sort()) ? rows : false;
    }, { timeout: 10000, what });
  }

  async function resetFilters() {
    await page.click('#tab-conversations');
    await page.click('#conv-reset');
    await waitRows(flows, 'every flow again');
  }

  ui('Conversations lists every flow with capd\'s counters, RTT, retransmissions, state, names and countries', async () => {
    assert.ok(flows.some((f) => f.tcp && f.tcp.a_retransmissions > 0), 'the capture has retransmissions');
    assert.ok(new Set(flows.map((f) => f.tcp && f.tcp.rtt_ms).filter(Boolean)).size >= 4, 'and several RTTs');
    const rows = await waitRows(flows, `the ${flows.length} flows`);
    assert.equal(await page.getAttribute('#conv-head th.c-bytes', 'aria-sort'), 'descending', 'by bytes, largest first');
    const diffs = [];
    for (const r of rows) {
      const f = byTuple(rowTuple(r));
      const want = expectedCells(f, book);
      for (const [k, v] of Object.entries(want))
        if (r.cells[k] !== v)
          diffs.push(`${rowTuple(r)} ${k}: shown ${JSON.stringify(r.cells[k])}, expected ${JSON.stringify(v)}`);
      const exact = {
        bytes: `${en(f.a_bytes + f.b_bytes)} bytes`,
        a_bytes: `${en(f.a_bytes)} bytes, ${en(f.a_packets)} packets`,
        b_bytes: `${en(f.b_bytes)} bytes, ${en(f.b_packets)} packets`,
      };
      for (const [k, v] of Object.entries(exact))
        if (r.titles[k] !== v)
          diffs.push(`${rowTuple(r)} ${k} (title): ${JSON.stringify(r.titles[k])}, expected ${JSON.stringify(v)}`);
      if (Math.abs(Number(r.titles.last) - f.last) > 1e-6)
        diffs.push(`${rowTuple(r)} last: ${r.titles.last} vs ${f.last}`);
      if (Math.abs(Number(r.titles.duration.replace(/ s$/, '')) - (f.last - f.first)) > 1e-5)
        diffs.push(`${rowTuple(r)} duration: ${r.titles.duration} vs ${f.last - f.first}`);
    }
    assert.deepEqual(diffs, []);
    const bytes = rows.map((r) => Number(r.titles.bytes.replace(/[^0-9]/g, '')));
    assert.deepEqual(bytes, [...bytes].sort((x, y) => y - x), 'rows in descending bytes');
    assert.match(await page.textContent('#conv-count'), new RegExp(`1–${flows.length} of ${flows.length} flows`));
    assert.ok(await page.isHidden('#conv-head th.c-sensor'), 'one sensor: no sensor column');
    assert.equal(await page.getAttribute('#conv-clock', 'data-clock'), 'capture');
  });

  ui('sorting: each sortable column orders as the server does, a second click reverses, the hash keeps it', async () => {
    await resetFilters();
    for (const sort of ['packets', 'duration', 'rate', 'retransmissions', 'rtt', 'last', 'bytes']) {
      for (const order of ['desc', 'asc']) {
        // A new column sorts largest first; a second click reverses.
        await page.click(`#conv-head button[data-sort=${sort}]`);
        const th = `#conv-head th[data-sort=${sort}]`;
        const want = order;
        await waitFor(async () => (await page.getAttribute(th, 'aria-sort')) === (want === 'asc' ? 'ascending' : 'descending'),
          { what: `${sort} ${want} marked` });
        const api = keysOf(await apiFlows(`sort=${sort}&order=${want}&limit=100`));
        await waitFor(async () => JSON.stringify((await convRows()).map((r) => r.key)) === JSON.stringify(api),
          { what: `rows by ${sort} ${want} in the server's order` });
        const hash = await page.evaluate(() => window.location.hash);
        if (sort !== 'bytes')
          assert.match(hash, new RegExp(`sort=${sort}`), hash);
        assert.equal(hash.includes('order=asc'), want === 'asc', hash);
      }
    }
    // The order is the flows' own, not only the server's word for it.
    await page.click('#conv-head button[data-sort=packets]');
    await waitFor(async () => (await page.getAttribute('#conv-head th[data-sort=packets]', 'aria-sort')) === 'descending', { what: 'packets desc' });
    await waitFor(async () => {
      const counts = (await convRows()).map((r) => Number(r.cells.packets.replace(/,/g, '')));
      return counts.length === flows.length && counts.every((c, i) => i === 0 || c <= counts[i - 1]);
    }, { what: 'packet counts non-increasing' });
    const rtts = (await apiFlows('sort=rtt&limit=100')).filter((f) => f.tcp && typeof f.tcp.rtt_ms === 'number').map((f) => f.tcp.rtt_ms);
    assert.deepEqual(rtts, [...rtts].sort((x, y) => y - x), 'the API sorts RTTs largest first');
  });

  ui('filters: address, port, protocol, app, name, country, state, minimum bytes; in the hash; kept by a reload; a bad one is refused', async () => {
    await resetFilters();
    const cases = [
      ['#conv-port', '53', (f) => f.a_port === 53 || f.b_port === 53, 'port=53'],
      ['#conv-proto', 'udp', (f) => f.ipproto === 17, 'proto=udp'],
      ['#conv-app', 'HTTP', (f) => f.app === 'HTTP', 'app=HTTP'],
      ['#conv-name', 'evil', (f) => (f.name || '').includes('evil'), 'name=evil'],
      ['#conv-state', 'reset', (f) => f.tcp && f.tcp.state === 'reset', 'state=reset'],
      ['#conv-min-bytes', '5000', (f) => f.a_bytes + f.b_bytes >= 5000, 'min_bytes=5000'],
      ['#conv-addr', '10.1.0.2', (f) => f.a === '10.1.0.2' || f.b === '10.1.0.2', 'addr=10.1.0.2'],
    ];
    if (GEO)
      cases.push(['#conv-country', 'DE', (f) => countryOf(f.a) === 'DE' || countryOf(f.b) === 'DE', 'country=DE']);
    for (const [input, value, match, inHash] of cases) {
      const want = flows.filter(match);
      assert.ok(want.length > 0 && want.length < flows.length, `${inHash} narrows the flows (${want.length})`);
      if (input === '#conv-proto' || input === '#conv-state')
        await page.selectOption(input, value);
      else
        await page.fill(input, value);
      await waitRows(want, `the flows with ${inHash}`);
      assert.ok((await page.evaluate(() => window.location.hash)).includes(inHash), `${inHash} in the hash`);
      await page.click('#conv-reset');
      await waitRows(flows, 'every flow after Clear filters');
    }
    // Together, and through a reload of the address.
    await page.selectOption('#conv-proto', 'tcp');
    await page.fill('#conv-min-bytes', '2000');
    await page.fill('#conv-addr', '10.1.0.2');
    const both = flows.filter((f) => f.ipproto === 6 && f.a_bytes + f.b_bytes >= 2000 && (f.a === '10.1.0.2' || f.b === '10.1.0.2'));
    assert.equal(both.length, 2);
    await waitRows(both, 'proto, min bytes and address together');
    await page.click('#conv-head button[data-sort=packets]');
    await waitFor(async () => (await page.evaluate(() => window.location.hash)).includes('sort=packets'), { what: 'sort in the hash' });
    const hash = await page.evaluate(() => window.location.hash);
    await page.reload();
    await page.waitForSelector('#connection-status[data-state=connected]');
    assert.equal(await page.evaluate(() => window.location.hash), hash, 'the reload keeps the address');
    assert.equal(await page.getAttribute('#tab-conversations', 'aria-selected'), 'true');
    assert.equal(await page.inputValue('#conv-addr'), '10.1.0.2');
    assert.equal(await page.inputValue('#conv-min-bytes'), '2000');
    assert.equal(await page.inputValue('#conv-proto'), 'tcp');
    const rows = await waitRows(both, 'the same flows after the reload');
    assert.equal(await page.getAttribute('#conv-head th[data-sort=packets]', 'aria-sort'), 'descending');
    assert.deepEqual(rows.map((r) => r.key), keysOf(await apiFlows('addr=10.1.0.2&proto=tcp&min_bytes=2000&sort=packets&limit=100')));
    // A refusal shows; the table keeps the last flows it had.
    await page.fill('#conv-addr', 'not-an-address');
    await page.waitForSelector('#conv-error:not([hidden])');
    assert.match(await page.textContent('#conv-error'), /addr=/);
    assert.deepEqual((await convRows()).map(rowTuple).sort(), both.map(oracleTuple).sort());
    await page.click('#conv-reset');
    await waitRows(flows, 'every flow');
    assert.ok(await page.isHidden('#conv-error'), 'the error goes with the bad filter');
  });

  // The crafted connection with two retransmissions: its row, then its pane.
  const bulk = () => flows.find((f) => f.a === '10.1.0.1' && f.a_port === 40001);

  async function openBulk() {
    await resetFilters();
    const f = bulk();
    await page.locator('#conv-body tr', { hasText: ep(f.a, f.a_port) }).click();
    await page.waitForSelector('#flow-pane[data-state=loaded]');
    return f;
  }

  ui('the flow pane: its facts, TCP analysis per direction, rate sparkline and packets; a packet opens its detail', async () => {
    const f = await openBulk();
    assert.equal(await page.textContent('#flow-title'), `${ep(f.a, f.a_port)} ⇄ ${ep(f.b, f.b_port)}`);
    const key = await page.getAttribute('#flow-pane', 'data-key');
    assert.match(await page.evaluate(() => window.location.hash), new RegExp(`flow=${encodeURIComponent(key)}`));
    const fact = (k) => page.textContent(`#flow-facts [data-key=${k}] dd`);
    assert.equal(await fact('a_sent'), `${en(f.a_packets)} packets, ${(await page.textContent('#conv-body tr.selected td.c-a_bytes'))} (${en(f.a_bytes)} bytes)`);
    assert.match(await fact('b_sent'), new RegExp(`^${en(f.b_packets)} packets, .* \\(${en(f.b_bytes)} bytes\\)$`));
    assert.match(await fact('state'), /closed · ended: fin/);
    // TCP analysis, side by side.
    const tcp = await page.$$eval('#flow-tcp-body tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.metric, [tr.cells[1].textContent, tr.cells[2].textContent]])));
    assert.deepEqual(tcp, {
      flags: [flagNames(f.tcp.a_flags), flagNames(f.tcp.b_flags)],
      retransmissions: [String(f.tcp.a_retransmissions), String(f.tcp.b_retransmissions)],
      out_of_order: [String(f.tcp.a_out_of_order), String(f.tcp.b_out_of_order)],
      dup_acks: [String(f.tcp.a_dup_acks), String(f.tcp.b_dup_acks)],
      zero_windows: [String(f.tcp.a_zero_windows), String(f.tcp.b_zero_windows)],
    });
    assert.equal(f.tcp.a_retransmissions, 2);
    assert.ok((await page.textContent('#flow-tcp-state')).includes(`handshake RTT ${f.tcp.rtt_ms.toFixed(3)} ms`));
    // The sparkline: one report (the end of the capture), the rate over the flow's life.
    const spark = JSON.parse(await page.getAttribute('#flow-spark', 'data-points'));
    assert.equal(spark.length, 1);
    assert.ok(Math.abs(spark[0][1] - ((f.a_bytes + f.b_bytes) * 8) / (f.last - f.first)) < 2, `rate ${spark[0][1]}`);
    assert.match(await page.textContent('#flow-spark-note'), /^1 report · peak /);
    // Its packets: all of them (the ring has the whole capture), and only its own.
    const ownSeqs = (await b.json('/api/packets?limit=1000')).packets.filter((p) => `${p.sensor}/${p.flow}` === key).map((p) => String(p.seq));
    assert.equal(ownSeqs.length, f.a_packets + f.b_packets);
    const rows = await page.$$eval('#flow-packets-body tr', (trs) => trs.map((tr) => ({ seq: tr.dataset.seq, src: tr.cells[2].textContent, dst: tr.cells[3].textContent })));
    assert.deepEqual(rows.map((r) => r.seq), ownSeqs, 'the flow\'s packets, oldest first');
    const ends = [ep(f.a, f.a_port), ep(f.b, f.b_port)];
    assert.ok(rows.every((r) => ends.includes(r.src) && ends.includes(r.dst) && r.src !== r.dst), 'every packet between its two ends');
    assert.equal(await page.getAttribute('#flow-packets', 'data-complete'), 'true');
    // A packet: today's packet detail.
    await page.click(`#flow-packets-body tr[data-seq="${rows[3].seq}"]`);
    await page.waitForSelector('#flow-packet-detail:not([hidden]) [data-testid=detail-layer]');
    assert.ok((await page.textContent('#flow-packet-summary')).startsWith(`No. ${rows[3].seq} `));
    assert.ok((await page.textContent('#flow-packet-tree')).includes('Transmission Control Protocol'));
    await page.click('#flow-packet-close');
    assert.ok(await page.isHidden('#flow-packet-detail'));
  });

  ui('PCAP of this flow: exactly its packets, byte for byte; PCAP of this host: every packet to or from it', async () => {
    const f = await openBulk();
    const key = await page.getAttribute('#flow-pane', 'data-key');
    const [sensor, id] = key.split('/');
    assert.equal(new URL(await page.getAttribute('#flow-pcap', 'href')).pathname, `/api/flow/${sensor}/${id}/export.pcap`);
    const got = readPcap((await download(page, '#flow-pcap')).path);
    assert.equal(got.packets.length, f.a_packets + f.b_packets, 'as many packets as the flow counted');
    // The capture's own packets of this connection (tshark picks them), in order.
    const orig = readPcap(pcap);
    const fields = ['frame.number', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport'];
    const own = tsharkFields(pcap, fields).filter(([, s, d, sp, dp]) => {
      const pair = [`${s}:${sp}`, `${d}:${dp}`].sort().join(' ');
      return pair === [`${f.a}:${f.a_port}`, `${f.b}:${f.b_port}`].sort().join(' ');
    }).map(([num]) => orig.packets[Number(num) - 1]);
    assert.equal(own.length, got.packets.length);
    assert.deepEqual(got.packets.map((p) => p.data.toString('hex')), own.map((p) => p.data.toString('hex')), 'the same bytes');
    assert.deepEqual(got.packets.map((p) => p.ts), own.map((p) => p.ts), 'the same times');
    const dl = tsharkFields((await download(page, '#flow-pcap')).path, fields.slice(1));
    assert.ok(dl.every(([s, d, sp, dp]) => [s, d].sort().join() === [f.a, f.b].sort().join() && [sp, dp].sort().join() === [String(f.a_port), String(f.b_port)].sort().join()),
      'tshark reads every packet as this flow\'s');
    // The host: B (the server of two flows).
    assert.equal(await page.textContent('#flow-host-pcap-b'), `PCAP of host ${f.b}`);
    const host = tsharkFields((await download(page, '#flow-host-pcap-b')).path, ['ip.src', 'ip.dst']);
    const wantHost = packets.filter((p) => p.src === f.b || p.dst === f.b).length;
    assert.equal(host.length, wantHost, `every packet to or from ${f.b}`);
    assert.ok(host.every(([s, d]) => s === f.b || d === f.b));
    assert.ok(wantHost > f.a_packets + f.b_packets, 'more than the one flow');
  });

  ui('a packet row links to its flow: the Live table\'s link and the packet detail\'s', async () => {
    await page.click('#tab-live');
    // Room for the whole capture in the table.
    await page.click('#settings summary');
    await page.fill('#max-rows', '1000');
    await page.press('#max-rows', 'Tab');
    await page.click('#settings summary');
    await page.waitForSelector('#packets-body tr[data-seq] a.flow-link');
    const api = (await b.json('/api/packets?limit=1000')).packets;
    // A packet of the SSH connection (40003): its newest, surely among the rows shown.
    const ssh = api.filter((p) => p.sport === 40003 || p.dport === 40003);
    const pkt = ssh[ssh.length - 1];
    const link = `#packets-body tr[data-seq="${pkt.seq}"] a.flow-link`;
    assert.equal(await page.getAttribute(link, 'href'), `#conversations?flow=${encodeURIComponent(`capd/${pkt.flow}`)}`);
    await page.click(link);
    await page.waitForSelector('#conversations-view:not([hidden]) #flow-pane[data-state=loaded]');
    assert.equal(await page.getAttribute('#tab-conversations', 'aria-selected'), 'true');
    assert.equal(await page.getAttribute('#flow-pane', 'data-key'), `capd/${pkt.flow}`);
    const f = flows.find((x) => x.a_port === 40003);
    assert.equal(await page.textContent('#flow-title'), `${ep(f.a, f.a_port)} ⇄ ${ep(f.b, f.b_port)}`);
    assert.ok((await page.evaluate(() => window.location.hash)).includes(`flow=capd%2F${pkt.flow}`));
    assert.ok(await page.$(`#flow-packets-body tr[data-seq="${pkt.seq}"]`), 'the packet is among its flow\'s');
    // From the packet detail: a DNS packet's.
    await page.click('#tab-live');
    const dns = api.find((p) => p.proto === 'DNS' && p.dport === 53);
    await page.click(`#packets-body tr[data-seq="${dns.seq}"] td.c-info`);
    await page.waitForSelector('#detail-flow:not([hidden])');
    assert.equal(await page.textContent('#detail-flow'), `Flow ${dns.flow}`);
    await page.click('#detail-flow');
    await waitFor(async () => (await page.getAttribute('#flow-pane', 'data-key')) === `capd/${dns.flow}`
      && (await page.getAttribute('#flow-pane', 'data-state')) === 'loaded', { what: 'the DNS packet\'s flow' });
    assert.ok((await page.textContent('#flow-summary')).includes(dns.dns.qname));
    await page.click('#flow-close');
    assert.ok(await page.isHidden('#flow-pane'));
    assert.ok(!(await page.evaluate(() => window.location.hash)).includes('flow='), 'the closed flow leaves the hash');
  });

  ui('Endpoints: per address, what the flows add up to; sorting; a row opens its conversations', async () => {
    const want = new Map();
    const add = (addr, peer, outBytes, inBytes, outPk, inPk) => {
      const e = want.get(addr) || { bytes_out: 0, bytes_in: 0, packets_out: 0, packets_in: 0, flows: 0, peers: new Set() };
      e.bytes_out += outBytes;
      e.bytes_in += inBytes;
      e.packets_out += outPk;
      e.packets_in += inPk;
      e.flows++;
      e.peers.add(peer);
      want.set(addr, e);
    };
    for (const f of flows) {
      add(f.a, f.b, f.a_bytes, f.b_bytes, f.a_packets, f.b_packets);
      add(f.b, f.a, f.b_bytes, f.a_bytes, f.b_packets, f.a_packets);
    }
    await page.click('#tab-endpoints');
    const rows = await waitFor(async () => {
      const r = await liveRows(page, '#ep-body');
      return r.length === want.size ? r : false;
    }, { what: `${want.size} endpoints` });
    const diffs = [];
    for (const r of rows) {
      const e = want.get(r.cells.addr);
      if (!e) {
        diffs.push(`unexpected ${r.cells.addr}`);
        continue;
      }
      const got = {
        bytes: r.titles.bytes, bytes_out: r.titles.bytes_out, bytes_in: r.titles.bytes_in,
        packets: r.cells.packets, packets_out: r.cells.packets_out, packets_in: r.cells.packets_in, flows: r.cells.flows, peers: r.cells.peers,
        // A country when the database knows one (else webd's scope: private, multicast, ...).
        ...(GEO ? { country: /^\p{Regional_Indicator}/u.test(r.cells.country) ? r.cells.country : '' } : {}),
      };
      const exp = {
        bytes: `${en(e.bytes_in + e.bytes_out)} bytes`, bytes_out: `${en(e.bytes_out)} bytes`, bytes_in: `${en(e.bytes_in)} bytes`,
        packets: en(e.packets_in + e.packets_out), packets_out: en(e.packets_out), packets_in: en(e.packets_in), flows: en(e.flows), peers: en(e.peers.size),
        ...(GEO ? { country: cl(countryOf(r.cells.addr)) } : {}),
      };
      for (const k of Object.keys(exp))
        if (got[k] !== exp[k])
          diffs.push(`${r.cells.addr} ${k}: ${JSON.stringify(got[k])}, expected ${JSON.stringify(exp[k])}`);
    }
    assert.deepEqual(diffs, []);
    for (const sort of ['packets', 'last', 'bytes'])
      await sortEndpoints(sort);
    // A row: that address's conversations.
    await page.locator('#ep-body tr', { hasText: '10.1.0.2' }).first().click();
    await page.waitForSelector('#conversations-view:not([hidden])');
    assert.equal(await page.inputValue('#conv-addr'), '10.1.0.2');
    await waitRows(flows.filter((f) => f.a === '10.1.0.2' || f.b === '10.1.0.2'), 'the conversations of 10.1.0.2');
  });

  async function sortEndpoints(sort) {
    await page.click(`#ep-head button[data-sort=${sort}]`);
    await waitFor(async () => (await page.getAttribute(`#ep-head th[data-sort=${sort}]`, 'aria-sort')) === 'descending', { what: `endpoints by ${sort}` });
    const api = (await b.json(`/api/endpoints?sort=${sort}&limit=100`)).endpoints.map((e) => e.addr);
    await waitFor(async () => JSON.stringify((await liveRows(page, '#ep-body')).map((r) => r.key)) === JSON.stringify(api), { what: `endpoints in the server's ${sort} order` });
    assert.ok(await page.isHidden('#ep-error'));
    if (sort !== 'bytes')
      assert.ok((await page.evaluate(() => window.location.hash)).includes(`sort=${sort}`));
  }

  ui('Endpoints sorted by flows and by peers', async () => {
    await page.click('#tab-endpoints');
    try {
      for (const sort of ['flows', 'peers'])
        await sortEndpoints(sort);
    } finally {
      await page.click('#ep-head button[data-sort=bytes]');
    }
  });

  ui('hostile names in flows and endpoints are text: the table, a name filter typed with a payload, the pane; nothing runs', async () => {
    await resetFilters();
    const hostile = flows.filter((f) => f.name && /[<>"]|javascript:/.test(f.name));
    assert.ok(hostile.length >= 5, `${hostile.length} flows named with payloads`);
    const rows = await convRows();
    for (const f of hostile) {
      const r = rows.find((x) => rowTuple(x) === oracleTuple(f));
      assert.equal(r.cells.name, f.name, `${oracleTuple(f)}: the name as text`);
    }
    for (const p of [HOSTILE.sni, HOSTILE.httpHost, `${HOSTILE.dnsQuery}.evil.test`])
      await page.locator('#conv-body').getByText(p, { exact: true }).first().waitFor({ state: 'visible' });
    await page.fill('#conv-name', '<img');
    const imgs = flows.filter((f) => (f.name || '').toLowerCase().includes('<img'));
    assert.equal(imgs.length, 2);
    await waitRows(imgs, 'the flows named <img…');
    const tls = flows.find((f) => f.name === HOSTILE.sni);
    await page.locator('#conv-body tr', { hasText: HOSTILE.sni }).click();
    await waitFor(async () => (await page.textContent('#flow-summary')).includes(HOSTILE.sni), { what: 'the TLS flow\'s pane' });
    assert.equal(await page.textContent('#flow-facts [data-key=name] dd'), tls.name);
    assert.match(tls.ja4 || '', /^t1\d[di]\d{4}/, 'capd gives the TLS flow a JA4');
    assert.equal(await page.textContent('#flow-facts [data-key=ja4] dd'), tls.ja4, 'the client\'s JA4 as capd computed it');
    await page.click('#flow-packets-body tr[data-seq]');
    await page.waitForSelector('#flow-packet-detail:not([hidden]) [data-testid=detail-layer]');
    assert.ok((await page.textContent('#flow-packet-tree')).includes(HOSTILE.sni));
    await page.click('#flow-close');
    await page.click('#tab-endpoints');
    await waitFor(async () => (await liveRows(page, '#ep-body')).some((r) => r.cells.addr === tls.b && r.cells.ename === HOSTILE.sni), { what: 'the TLS server\'s name in Endpoints' });
    await sleep(500);
    // The refusals the filter test (a bad address) and the sort webd refuses asked for are the only console errors.
    const allow = [/status of 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/api\/(flows|endpoints)\?/];
    assert.deepEqual(await problems(page, { allow }), [], 'no script ran, no dialog, no CSP violation, no console error');
    assert.deepEqual(await page.evaluate(domCensus), baseline, 'no element or handler from a payload');
    await page.click('#tab-conversations');
    await page.click('#conv-reset');
  });
});
