// The History view: what webd stored in its SQLite history (--history),
// through /api/history/*. A time range (UTC, the capture's clock), quick
// ranges counted back from the newest stored packet, a rate chart from
// /api/history/rates (at most ~500 points), the packets a page at a time
// (keyset cursor: "Load more"), ip/proto/q filters, and exports: the PCAP
// link (server-side, same range and filters) and a CSV of the loaded rows.
import { apiUrl, getJSON } from './api.js';
import { el, formatCount, setText } from './dom.js';

export const MAX_POINTS = 500;
// Steps (seconds) the chart may use: the smallest one giving <= MAX_POINTS.
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const TABLE_MAX = 20000; // rows the table holds at most; beyond, "Load more" stops
// webd's protocol names (proto/core.c), offered as suggestions for proto=.
const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'DNS', 'MDNS', 'LLMNR', 'TLS', 'HTTP', 'QUIC', 'ARP', 'LLC',
  'DHCP', 'DHCPv6', 'NTP', 'SSH', 'NBNS', 'NBDS', 'SNMP', 'SSDP', 'Syslog', 'TFTP', 'RIP', 'RADIUS', 'SIP',
  'ISAKMP', 'SMB', 'SMTP', 'FTP', 'TELNET', 'BGP', 'IGMP', 'GRE', 'ESP', 'SCTP'];

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Unix seconds -> "YYYY-MM-DDTHH:MM:SS" (UTC), a datetime-local value.
export function toInputValue(seconds) {
  const d = new Date(Math.floor(seconds) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// A datetime-local value read as UTC -> Unix seconds (NaN if not one).
export function fromInputValue(value) {
  const m = /^(\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(value || '');
  if (!m)
    return NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] || 0),
    Number((m[7] || '0').padEnd(3, '0')));
  return ms / 1000;
}

// Seconds (with fraction) -> "YYYY-MM-DD HH:MM:SS.mmm" UTC. The history's
// ts is a double of microseconds / 1e6: rounded to whole µs first.
export function formatUtc(ts, withMillis = true) {
  if (typeof ts !== 'number' || !Number.isFinite(ts))
    return '';
  const us = Math.round(ts * 1e6);
  const secs = Math.floor(us / 1e6);
  const d = new Date(secs * 1000);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withMillis ? `${base}.${pad(Math.floor((us - secs * 1e6) / 1000), 3)}` : base;
}

export function chooseStep(seconds) {
  for (const s of STEPS)
    if (Math.ceil(seconds / s) <= MAX_POINTS)
      return s;
  return STEPS[STEPS.length - 1];
}

function spanText(seconds) {
  if (seconds % 86400 === 0)
    return `${seconds / 86400} d`;
  if (seconds % 3600 === 0)
    return `${seconds / 3600} h`;
  if (seconds % 60 === 0)
    return `${seconds / 60} min`;
  return `${seconds} s`;
}

function address(ip, port) {
  if (!ip)
    return '';
  if (port === undefined || port === null)
    return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

// One CSV cell: RFC 4180 quoting, and an apostrophe before what a
// spreadsheet would run as a formula (as webd's own CSV export does).
function csvCell(v) {
  let s = v === undefined || v === null ? '' : String(v);
  if (/^[=+\-@]/.test(s))
    s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export class HistoryView {
  constructor(els) {
    this.els = els;
    this.chart = null;
    this.bounds = null; // {oldest, newest} in seconds, null before the first look
    this.query = null; // the applied {from, to, ip, proto, q, limit}
    this.rows = [];
    this.cursor = null;
    this.generation = 0; // a newer query makes older answers stale
    this.controller = null;
    this.started = false;
    this.loading = false;

    for (const name of PROTOCOLS)
      els.protoList.append(el('option', { attrs: { value: name } }));
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.markQuick(null);
      this.apply();
    });
    els.more.addEventListener('click', () => this.loadMore());
    els.exportCsv.addEventListener('click', () => this.downloadCsv());
    els.exportPcap.addEventListener('click', (ev) => {
      if (els.exportPcap.getAttribute('aria-disabled') === 'true')
        ev.preventDefault();
    });
    for (const button of els.quick.querySelectorAll('[data-range]'))
      button.addEventListener('click', () => this.quickRange(button.dataset.range));
    // Editing the range by hand leaves the quick range that set it.
    for (const input of [els.from, els.to])
      input.addEventListener('input', () => this.markQuick(null));
  }

  // First time the view is shown: find what is stored, show the last hour of it.
  async show() {
    this.createChart();
    if (this.started)
      return;
    this.started = true;
    await this.quickRange('3600');
  }

  createChart() {
    if (this.chart || !window.Chart)
      return;
    const Chart = window.Chart;
    this.chart = new Chart(this.els.canvas, {
      type: 'line',
      data: { datasets: [{ label: 'packets', data: [], borderWidth: 1.5, pointRadius: 0, tension: 0, fill: true, stepped: 'after' }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', ticks: { maxTicksLimit: 8, maxRotation: 0, callback: (v) => this.tickLabel(v) } },
          y: { beginAtZero: true, ticks: { maxTicksLimit: 5, precision: 0 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? `${formatUtc(items[0].parsed.x, false)} UTC` : ''),
              label: (item) => `${formatCount(item.parsed.y)} packets in ${spanText(this.step || 1)}`,
            },
          },
        },
      },
    });
    this.applyTheme();
  }

  // Short tick labels: the time of day, or the date for long ranges.
  tickLabel(v) {
    const text = formatUtc(v, false);
    const span = this.query ? this.query.to - this.query.from : 0;
    if (span > 2 * 86400)
      return text.slice(0, 16);
    return text.slice(11);
  }

  applyTheme() {
    if (!this.chart)
      return;
    const ds = this.chart.data.datasets[0];
    ds.borderColor = cssVar('--accent', '#3b82f6');
    ds.backgroundColor = cssVar('--accent-fill', 'rgba(59,130,246,0.15)');
    for (const axis of ['x', 'y']) {
      this.chart.options.scales[axis].grid = { color: cssVar('--grid', 'rgba(128,128,128,0.2)') };
      this.chart.options.scales[axis].ticks.color = cssVar('--muted', '#888');
    }
    this.chart.update('none');
  }

  showError(message) {
    this.els.error.hidden = !message;
    setText(this.els.error, message || '');
  }

  // ---- Bounds: the oldest and newest stored packet ----------------------------------------
  //
  // The history API has no figure for them (API gap): the oldest is the
  // first row of an unbounded query (oldest first); the newest is found by
  // bisecting from= with limit=1 down to one second, then reading that
  // second's rows to the end.

  async hasPacketsFrom(from, signal) {
    const data = await getJSON('api/history/packets', { from: from.toFixed(3), limit: 1 }, { signal });
    return data.packets && data.packets.length ? data.packets[0] : null;
  }

  async findBounds(signal) {
    const first = await getJSON('api/history/packets', { limit: 1 }, { signal });
    if (!first.packets || !first.packets.length)
      return null;
    const oldest = first.packets[0].ts;
    let lo = Math.floor(oldest);
    let hi = Math.max(Date.now() / 1000, lo) + 86400;
    while (hi < 1e11 && (await this.hasPacketsFrom(hi, signal)))
      hi = Math.min(1e11, lo + (hi - lo) * 4);
    for (let i = 0; i < 64 && hi - lo > 1; i++) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.hasPacketsFrom(mid, signal))
        lo = mid;
      else
        hi = mid;
    }
    // Rows from lo on: at most a few seconds of them.
    let newest = oldest;
    let cursor = null;
    for (let page = 0; page < 20; page++) {
      const data = await getJSON('api/history/packets', { from: lo, limit: 10000, cursor }, { signal });
      const rows = data.packets || [];
      if (rows.length)
        newest = Math.max(newest, rows[rows.length - 1].ts);
      cursor = data.next_cursor;
      if (!cursor)
        break;
    }
    return { oldest, newest };
  }

  renderBounds() {
    const b = this.bounds;
    setText(this.els.bounds, b
      ? `Stored: ${formatUtc(b.oldest, false)} – ${formatUtc(b.newest, false)} UTC`
      : 'Nothing stored yet');
    if (b) {
      this.els.bounds.dataset.oldest = String(b.oldest);
      this.els.bounds.dataset.newest = String(b.newest);
    }
  }

  markQuick(range) {
    for (const button of this.els.quick.querySelectorAll('[data-range]'))
      button.setAttribute('aria-pressed', String(button.dataset.range === range));
  }

  // A quick range, counted back from the newest stored packet (not from now:
  // a replayed capture keeps its own timestamps). "all": oldest to newest.
  async quickRange(range) {
    this.markQuick(range);
    const gen = ++this.generation;
    this.abortRunning();
    const signal = this.controller.signal;
    this.setBusy(true);
    this.showError('');
    try {
      this.bounds = await this.findBounds(signal);
    } catch (err) {
      if (gen === this.generation) {
        this.setBusy(false);
        if (err.name !== 'AbortError')
          this.showError(`History unavailable: ${err.message}`);
      }
      return;
    }
    if (gen !== this.generation)
      return;
    this.renderBounds();
    const newest = this.bounds ? this.bounds.newest : Date.now() / 1000;
    const to = Math.floor(newest) + 1; // "to" is exclusive: the newest second included
    let from = to - (Number(range) || 3600);
    if (range === 'all' && this.bounds)
      from = Math.floor(this.bounds.oldest);
    this.els.from.value = toInputValue(from);
    this.els.to.value = toInputValue(to);
    this.setBusy(false);
    await this.apply();
  }

  abortRunning() {
    if (this.controller)
      this.controller.abort();
    this.controller = new AbortController();
  }

  setBusy(busy) {
    this.loading = busy;
    this.els.apply.disabled = busy;
    this.els.view.setAttribute('aria-busy', String(busy));
    this.els.view.dataset.state = busy ? 'loading' : 'idle';
  }

  readForm() {
    const from = fromInputValue(this.els.from.value);
    const to = fromInputValue(this.els.to.value);
    if (!Number.isFinite(from) || !Number.isFinite(to))
      return { error: 'Give both ends of the range (UTC date and time).' };
    if (to <= from)
      return { error: '“To” must be after “From”.' };
    const proto = this.els.proto.value.split(',').map((s) => s.trim()).filter(Boolean).join(',');
    return {
      query: {
        from, to,
        ip: this.els.ip.value.trim(),
        proto,
        q: this.els.q.value.trim(),
        limit: Number(this.els.pageSize.value) || 200,
      },
    };
  }

  params(query, extra = {}) {
    const p = { from: query.from, to: query.to, ...extra };
    if (query.ip)
      p.ip = query.ip;
    if (query.proto)
      p.proto = query.proto;
    if (query.q)
      p.q = query.q;
    return p;
  }

  // Show: the chart, the first page of packets and the export link.
  async apply() {
    const { query, error } = this.readForm();
    if (error) {
      this.showError(error);
      return;
    }
    const gen = ++this.generation;
    this.abortRunning();
    const signal = this.controller.signal;
    this.showError('');
    this.setBusy(true);
    this.query = query;
    if (this.onApply)
      this.onApply(query); // the flows table (historyflows.js) follows the same range
    this.rows = [];
    this.cursor = null;
    this.els.body.replaceChildren();
    this.els.more.hidden = true;
    this.els.exportCsv.disabled = true;
    this.els.exportPcap.setAttribute('aria-disabled', 'true');
    setText(this.els.count, 'Loading…');
    this.els.empty.hidden = true;
    try {
      const [rates, page] = await Promise.all([
        this.loadRates(query, signal),
        getJSON('api/history/packets', this.params(query, { limit: query.limit }), { signal }),
      ]);
      if (gen !== this.generation)
        return;
      this.drawRates(query, rates);
      this.appendPage(page);
      this.els.exportPcap.href = apiUrl('api/history/export.pcap', this.params(query)).href;
      this.els.exportPcap.setAttribute('aria-disabled', 'false');
    } catch (err) {
      if (gen === this.generation && err.name !== 'AbortError') {
        this.showError(err.message);
        setText(this.els.count, '');
        this.els.empty.hidden = false;
        setText(this.els.empty, 'No packets: the query failed.');
      }
    } finally {
      if (gen === this.generation)
        this.setBusy(false);
    }
  }

  async loadRates(query, signal) {
    const from = Math.floor(query.from);
    const to = Math.ceil(query.to);
    const step = chooseStep(to - from);
    const data = await getJSON('api/history/rates', { from, to, step }, { signal });
    return { from, to, step, rates: data.rates || [] };
  }

  drawRates(query, { from, to, step, rates }) {
    this.step = step;
    const byT = new Map(rates.map((r) => [r.t, r.packets]));
    const points = [];
    let total = 0;
    for (let t = from; t < to; t += step) {
      const y = byT.get(t) || 0;
      total += y;
      points.push({ x: t, y });
    }
    const canvas = this.els.canvas;
    canvas.dataset.step = String(step);
    canvas.dataset.from = String(from);
    canvas.dataset.to = String(to);
    canvas.dataset.points = String(points.length);
    canvas.setAttribute('aria-label', `Packets per ${spanText(step)} from ${formatUtc(from, false)} to ${formatUtc(to, false)} UTC: ${formatCount(total)} in all`);
    const filtered = query.ip || query.proto || query.q;
    setText(this.els.chartNote, `${formatCount(total)} packets, one point per ${spanText(step)}${filtered ? ' · all packets: the filter applies to the table only' : ''}`);
    if (!this.chart)
      return;
    this.chart.data.datasets[0].data = points;
    this.chart.data.datasets[0].pointRadius = points.length <= 60 ? 2 : 0;
    this.chart.options.scales.x.min = from;
    this.chart.options.scales.x.max = to;
    this.chart.update('none');
  }

  appendPage(page) {
    const rows = page.packets || [];
    const frag = document.createDocumentFragment();
    for (const row of rows)
      frag.append(this.makeRow(row));
    this.els.body.append(frag);
    this.rows.push(...rows);
    this.cursor = page.next_cursor || null;
    const full = this.rows.length >= TABLE_MAX;
    this.els.more.hidden = !this.cursor || full;
    this.els.more.disabled = false;
    this.els.exportCsv.disabled = this.rows.length === 0;
    this.els.empty.hidden = this.rows.length > 0;
    setText(this.els.empty, 'No stored packets in this range.');
    this.els.table.dataset.complete = String(!this.cursor);
    let text = `${formatCount(this.rows.length)} packet${this.rows.length === 1 ? '' : 's'}`;
    if (this.cursor)
      text += full ? ` · the table holds at most ${formatCount(TABLE_MAX)}: narrow the range or use the PCAP export` : ' · more to load';
    else
      text += ' · all loaded';
    setText(this.els.count, text);
  }

  makeRow(row) {
    const tr = el('tr', { attrs: { 'data-id': row.id, 'data-seq': row.seq, 'data-proto': row.proto || '' } });
    const info = row.malformed ? `${row.info || ''} [malformed]` : row.info || '';
    const name = row.qname || row.name || '';
    const cells = [
      ['seq', row.id],
      ['htime', formatUtc(row.ts)],
      ['proto', row.proto || ''],
      ['src', address(row.src, row.sport)],
      ['dst', address(row.dst, row.dport)],
      ['name', name],
      ['len', row.len],
      ['info', info],
    ];
    for (const [col, text] of cells) {
      const td = el('td', { className: `c-${col}`, text });
      if (col === 'info' || col === 'name')
        td.title = String(text);
      tr.append(td);
    }
    tr.cells[2].classList.add(`proto-${String(row.proto || 'other').toLowerCase().replace(/[^a-z0-9]/g, '')}`);
    if (row.malformed)
      tr.classList.add('row-malformed');
    return tr;
  }

  async loadMore() {
    if (!this.cursor || !this.query || this.loading)
      return;
    const gen = this.generation;
    const signal = this.controller.signal;
    // Disabling the button takes the focus away from it: give it back after.
    const hadFocus = document.activeElement === this.els.more;
    this.els.more.disabled = true;
    this.setBusy(true);
    try {
      const page = await getJSON('api/history/packets', this.params(this.query, { limit: this.query.limit, cursor: this.cursor }), { signal });
      if (gen !== this.generation)
        return;
      this.appendPage(page);
      // After the last page the button goes away: the keyboard goes to the rows.
      if (hadFocus)
        (this.els.more.hidden ? this.els.scroll : this.els.more).focus();
    } catch (err) {
      if (gen === this.generation && err.name !== 'AbortError') {
        this.showError(err.message);
        this.els.more.disabled = false;
        if (hadFocus)
          this.els.more.focus();
      }
    } finally {
      if (gen === this.generation)
        this.setBusy(false);
    }
  }

  toCsv() {
    const lines = [['id', 'time_utc', 'ts', 'sensor', 'proto', 'src', 'sport', 'dst', 'dport', 'len', 'info', 'qname', 'name'].join(',')];
    for (const r of this.rows) {
      lines.push([r.id, new Date(Math.floor(r.ts * 1000)).toISOString(), Math.round(r.ts * 1e6) / 1e6, r.sensor, r.proto, r.src,
        r.sport, r.dst, r.dport, r.len, r.info, r.qname, r.name].map(csvCell).join(','));
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  downloadCsv() {
    if (!this.rows.length)
      return;
    const blob = new Blob([this.toCsv()], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'wlite-history.csv';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}

