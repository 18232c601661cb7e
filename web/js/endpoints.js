// The Endpoints view: per address, what webd's flows add up to
// (/api/endpoints): bytes and packets in and out, flows, distinct peers,
// first and last seen, country, AS and the best name webd knows. Sorted by
// the server (bytes, packets, flows, peers, last seen: the largest first),
// filtered by the flows' own filters (an address, port, protocol,
// application, country or state keeps the endpoints of the flows that
// pass). Polled every 2 s while shown; rows never move under the pointer.
// A row opens the Conversations view on that address.
import { ApiError, getJSON } from './api.js';
import { countryLabel, el, formatCount, formatTime, setText } from './dom.js';
import { asText, bytesText, countText } from './flowfmt.js';
import { LiveTable } from './livetable.js';
import { APPS } from './conversations.js';

const FILTERS = ['addr', 'port', 'proto', 'app', 'country', 'state'];
const DEFAULTS = { sort: 'bytes', limit: '100' };
const SORTS = ['bytes', 'packets', 'flows', 'peers', 'last'];
const LIMITS = ['50', '100', '200', '500'];
const POLL_MS = 2000;
const DEBOUNCE_MS = 300;

const num = (n) => (typeof n === 'number' ? n : 0);

const COLUMNS = [
  { id: 'addr', label: 'Address', cell: (e) => e.addr || '' },
  { id: 'country', label: 'Country', cell: (e) => ({ text: countryLabel(e.country) || e.scope || '', title: [e.country, e.scope].filter(Boolean).join(' · ') }) },
  { id: 'as', label: 'AS', cell: (e) => asText(e.asn) },
  { id: 'ename', label: 'Name', title: 'The best name webd knows for the address (passive DNS, SNI, Host)', cell: (e) => e.name || '' },
  { id: 'bytes', label: 'Bytes', sort: 'bytes', num: true, title: 'In and out', cell: (e) => ({ text: bytesText(num(e.bytes_in) + num(e.bytes_out)), title: `${formatCount(num(e.bytes_in) + num(e.bytes_out))} bytes` }) },
  { id: 'bytes_out', label: 'Sent', num: true, cell: (e) => ({ text: bytesText(e.bytes_out), title: `${formatCount(num(e.bytes_out))} bytes` }) },
  { id: 'bytes_in', label: 'Received', num: true, cell: (e) => ({ text: bytesText(e.bytes_in), title: `${formatCount(num(e.bytes_in))} bytes` }) },
  { id: 'packets', label: 'Packets', sort: 'packets', num: true, title: 'In and out', cell: (e) => countText(num(e.packets_in) + num(e.packets_out)) },
  { id: 'packets_out', label: 'Pkts out', num: true, cell: (e) => countText(e.packets_out) },
  { id: 'packets_in', label: 'Pkts in', num: true, cell: (e) => countText(e.packets_in) },
  { id: 'flows', label: 'Flows', sort: 'flows', num: true, cell: (e) => countText(e.flows) },
  { id: 'peers', label: 'Peers', sort: 'peers', num: true, title: 'Distinct addresses it had flows with', cell: (e) => countText(e.peers) },
  { id: 'first', label: 'First seen', num: true, title: 'Capture clock', cell: (e) => ({ text: formatTime(e.first), title: `${e.first}` }) },
  { id: 'last', label: 'Last seen', sort: 'last', num: true, title: 'Capture clock', cell: (e) => ({ text: formatTime(e.last), title: `${e.last}` }) },
];

export class EndpointsView {
  // onAddress(addr): a row was opened (the Conversations view takes it from there).
  constructor({ els, onAddress, onQuery }) {
    this.els = els;
    this.onAddress = onAddress || (() => {});
    this.onQuery = onQuery || (() => {});
    this.params = { ...DEFAULTS };
    this.visible = false;
    this.timer = null;
    this.generation = 0;
    this.debounce = null;
    this.table = new LiveTable({
      table: els.table,
      body: els.body,
      head: els.head,
      empty: els.empty,
      note: els.held,
      scroller: els.scroll,
      columns: COLUMNS,
      keyOf: (e) => e.addr,
      onOpen: (e) => this.onAddress(e.addr),
      onSort: (sort) => {
        this.params.sort = sort;
        this.requery(true);
      },
    });
    for (const name of APPS)
      els.appList.append(el('option', { attrs: { value: name } }));
    for (const input of [els.addr, els.port, els.proto, els.app, els.country, els.state, els.limit]) {
      const ev = input.tagName === 'SELECT' ? 'change' : 'input';
      input.addEventListener(ev, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.readForm();
          this.requery(true);
        }, DEBOUNCE_MS);
      });
    }
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.readForm();
      this.requery(true);
    });
    this.writeForm();
    this.table.setSort(this.params.sort, 'desc');
  }

  queryText() {
    const q = new URLSearchParams();
    for (const key of FILTERS)
      if (this.params[key])
        q.set(key, this.params[key]);
    q.set('sort', this.params.sort);
    q.set('limit', this.params.limit);
    return q.toString();
  }

  hashText() {
    const q = new URLSearchParams();
    for (const key of [...FILTERS, 'sort', 'limit'])
      if (this.params[key] && this.params[key] !== DEFAULTS[key])
        q.set(key, this.params[key]);
    return q.toString();
  }

  applyParams(params) {
    const next = { ...DEFAULTS };
    for (const key of FILTERS)
      if (params.get(key))
        next[key] = params.get(key).slice(0, 200);
    if (SORTS.includes(params.get('sort')))
      next.sort = params.get('sort');
    if (LIMITS.includes(params.get('limit')))
      next.limit = params.get('limit');
    this.params = next;
    this.writeForm();
  }

  readForm() {
    const e = this.els;
    const v = (input) => input.value.trim();
    Object.assign(this.params, {
      addr: v(e.addr), port: v(e.port), proto: v(e.proto), app: v(e.app), country: v(e.country).toUpperCase(),
      state: v(e.state), limit: LIMITS.includes(v(e.limit)) ? v(e.limit) : DEFAULTS.limit,
    });
  }

  writeForm() {
    const e = this.els;
    const p = this.params;
    e.addr.value = p.addr || '';
    e.port.value = p.port || '';
    e.proto.value = p.proto || '';
    e.app.value = p.app || '';
    e.country.value = p.country || '';
    e.state.value = p.state || '';
    e.limit.value = p.limit;
  }

  show(params) {
    this.visible = true;
    if (params)
      this.applyParams(params);
    return this.requery(true);
  }

  hide() {
    this.visible = false;
    this.generation++;
    clearTimeout(this.timer);
  }

  // force: the user changed the query (draw it as it comes, whatever the pointer).
  async requery(force) {
    clearTimeout(this.timer);
    this.table.setSort(this.params.sort, 'desc');
    this.onQuery(this.hashText());
    if (!this.visible)
      return;
    const generation = ++this.generation;
    if (!document.hidden) {
      try {
        const data = await getJSON(`api/endpoints?${this.queryText()}`);
        if (generation !== this.generation)
          return;
        this.showError('');
        this.render(data, force);
      } catch (err) {
        if (generation !== this.generation)
          return;
        const refused = err instanceof ApiError && err.status === 400;
        this.showError(refused ? err.message : `endpoints: ${err.message}`);
        if (force)
          this.table.clear();
        if (refused)
          return; // asking again will not help: the next change of the query will
      }
    }
    this.els.view.dataset.state = 'idle';
    if (generation === this.generation && this.visible)
      this.timer = setTimeout(() => this.requery(false), POLL_MS);
  }

  render(data, force) {
    const rows = Array.isArray(data.endpoints) ? data.endpoints : [];
    this.table.update(rows, { force });
    const total = Number(data.total) || 0;
    this.els.table.dataset.total = String(total);
    setText(this.els.count, total ? `${formatCount(rows.length)} of ${formatCount(total)} addresses, by ${data.sort || this.params.sort}` : 'no endpoints');
  }

  showError(message) {
    this.els.error.hidden = !message;
    setText(this.els.error, message || '');
  }
}
