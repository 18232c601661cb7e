// The History view's flows: /api/history/flows (the flows active at some
// time in the History range, with /api/flows' filters, sorts and pages),
// under the stored packets. The range is the History form's (UTC, capture
// clock); the address filter is passed on as addr=, and the card's own form
// adds /api/flows' others (port, proto, app, name, country, state, min
// bytes, sensor). Sortable by time (last packet), bytes, packets, RTT and
// retransmissions, server-side; a page at a time.
import { getJSON } from './api.js';
import { el, formatCount, setText } from './dom.js';
import { bytesText, countText, endpointText, protoName, rttText, stateText } from './flowfmt.js';
import { formatUtc } from './history.js';

const SORTS = { last: 'Time', bytes: 'Bytes', packets: 'Packets', rtt: 'RTT', retransmissions: 'Retransmissions' };
// The card's filters: input id -> the API's parameter.
const FILTERS = { 'hf-port': 'port', 'hf-proto': 'proto', 'hf-app': 'app', 'hf-name': 'name', 'hf-country': 'country',
  'hf-state': 'state', 'hf-min-bytes': 'min_bytes', 'hf-sensor': 'sensor' };
const retransmissions = (f) => (f.tcp ? num(f.tcp.a_retransmissions) + num(f.tcp.b_retransmissions) : null);
const num = (v) => (typeof v === 'number' ? v : 0);

const COLUMNS = [
  { label: 'Sensor', cell: (f) => f.sensor || '' },
  { label: 'First (UTC)', cell: (f) => formatUtc(f.first) },
  { label: 'Last (UTC)', sort: 'last', cell: (f) => formatUtc(f.last) },
  { label: 'Proto', cell: (f) => protoName(f) },
  { label: 'A', cell: (f) => endpointText(f.a, f.a_port) },
  { label: 'B', cell: (f) => endpointText(f.b, f.b_port) },
  { label: 'Bytes', sort: 'bytes', num: true, cell: (f) => bytesText(num(f.a_bytes) + num(f.b_bytes)) },
  { label: 'Packets', sort: 'packets', num: true, cell: (f) => countText(num(f.a_packets) + num(f.b_packets)) },
  { label: 'RTT', sort: 'rtt', num: true, cell: (f) => rttText(f) },
  { label: 'Retrans', sort: 'retransmissions', num: true, cell: (f) => (retransmissions(f) === null ? '' : countText(retransmissions(f))) },
  { label: 'App', cell: (f) => f.app || '' },
  { label: 'Name', cell: (f) => f.name || '' },
  { label: 'State', cell: (f) => stateText(f) },
];

export class HistoryFlows {
  constructor(els) {
    this.els = els; // table, head, body, empty, count, error, prev, next, form
    this.query = null;
    this.sort = 'last';
    this.order = 'desc';
    this.offset = 0;
    this.limit = 100;
    this.generation = 0;
    this.buildHead();
    els.prev.addEventListener('click', () => this.page(-1));
    els.next.addEventListener('click', () => this.page(1));
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.offset = 0;
      this.load();
    });
  }

  buildHead() {
    const tr = el('tr');
    this.headers = COLUMNS.map((c) => {
      const th = el('th', { attrs: { scope: 'col' } });
      if (c.sort) {
        const b = el('button', { text: c.label, attrs: { type: 'button', 'data-sort': c.sort } });
        b.className = 'sort-btn';
        b.addEventListener('click', () => this.sortBy(c.sort));
        th.append(b);
        th.dataset.sort = c.sort;
      } else {
        th.textContent = c.label;
      }
      if (c.num)
        th.classList.add('num');
      tr.append(th);
      return th;
    });
    this.els.head.replaceChildren(tr);
    this.markSort();
  }

  markSort() {
    for (const th of this.headers) {
      if (!th.dataset.sort)
        continue;
      if (th.dataset.sort === this.sort)
        th.setAttribute('aria-sort', this.order === 'asc' ? 'ascending' : 'descending');
      else
        th.removeAttribute('aria-sort');
    }
  }

  sortBy(sort) {
    if (!SORTS[sort])
      return;
    this.order = this.sort === sort && this.order === 'desc' ? 'asc' : 'desc';
    this.sort = sort;
    this.offset = 0;
    this.markSort();
    this.load();
  }

  page(dir) {
    this.offset = Math.max(0, this.offset + dir * this.limit);
    this.load();
  }

  // Called with the History form's applied query.
  apply(query) {
    this.query = query;
    this.offset = 0;
    this.load();
  }

  params() {
    const q = this.query;
    const p = { from: q.from, to: q.to, sort: this.sort, order: this.order, offset: this.offset, limit: this.limit };
    if (q.ip)
      p.addr = q.ip;
    for (const [id, key] of Object.entries(FILTERS)) {
      const v = this.els.form.querySelector(`#${id}`).value.trim();
      if (v)
        p[key] = v; // webd checks each and says which is wrong
    }
    return p;
  }

  async load() {
    if (!this.query)
      return;
    const gen = ++this.generation;
    setText(this.els.count, 'Loading…');
    this.els.error.hidden = true;
    try {
      const r = await getJSON('api/history/flows', this.params());
      if (gen !== this.generation)
        return;
      this.render(r);
    } catch (err) {
      if (gen !== this.generation)
        return;
      this.els.error.hidden = false;
      setText(this.els.error, err.message);
      setText(this.els.count, '');
      this.els.body.replaceChildren();
      this.els.empty.hidden = false;
      setText(this.els.empty, 'No flows: the query failed.');
    }
  }

  render(r) {
    const flows = Array.isArray(r.flows) ? r.flows : [];
    this.els.body.replaceChildren(...flows.map((f) => this.makeRow(f)));
    this.els.empty.hidden = flows.length > 0;
    setText(this.els.empty, 'No flows in this range.');
    const total = num(r.total);
    const end = this.offset + flows.length;
    setText(this.els.count, flows.length
      ? `${formatCount(this.offset + 1)}–${formatCount(end)} of ${r.total_exact === false ? 'at least ' : ''}${formatCount(total)} flows`
      : `${formatCount(total)} flows`);
    this.els.prev.disabled = this.offset === 0;
    // A lower bound (total_exact false: webd stopped counting) may be passed:
    // then only a short page says there is no more.
    this.els.next.disabled = r.total_exact === false ? flows.length < this.limit : end >= total;
  }

  makeRow(f) {
    const tr = el('tr');
    tr.dataset.sensor = f.sensor || '';
    tr.dataset.id = String(f.id);
    for (const c of COLUMNS) {
      const td = el('td', { text: String(c.cell(f) ?? '') });
      if (c.num)
        td.classList.add('num');
      tr.append(td);
    }
    return tr;
  }
}
