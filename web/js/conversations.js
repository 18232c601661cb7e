// The Conversations view: webd's flows (/api/flows) as a live table, sorted
// by the server (bytes, packets, duration, rate, retransmissions, RTT, last
// seen), filtered by the form (address, port, protocol, application, name,
// country, state, minimum bytes, sensor), a page at a time. The filters and
// the sort are the address's hash (#conversations?port=443&sort=rate), so a
// view can be bookmarked or shared; an open flow is in it too (flow=SENSOR/ID).
//
// Live updates come from the feed's flow query (SSE/WebSocket "flows"
// messages, at most ten a second, only when something changed), or from
// polling /api/flows every second when the feed has none (feed.js). Rows
// never move under the pointer (livetable.js).
import { ApiError, apiUrl, getJSON } from './api.js';
import { el, formatCount, formatTime, setText } from './dom.js';
import {
  bytesText, countText, countriesText, durationText, endpointText, flowKey, flowName, parseFlowKey, protoName,
  rateText, retransmissions, rttText, stateText,
} from './flowfmt.js';
import { LiveTable } from './livetable.js';

export const FILTERS = ['addr', 'port', 'proto', 'app', 'name', 'country', 'state', 'min_bytes', 'sensor'];
const DEFAULTS = { sort: 'bytes', order: 'desc', limit: '100', offset: '0' };
const SORTS = ['bytes', 'packets', 'duration', 'rate', 'retransmissions', 'rtt', 'last'];
const LIMITS = ['50', '100', '200', '500']; // the feed sends at most 500 flows a message
const DEBOUNCE_MS = 300;
// webd's application names (proto/core.c): suggestions for app=.
export const APPS = ['DNS', 'MDNS', 'LLMNR', 'TLS', 'HTTP', 'QUIC', 'SSH', 'NTP', 'DHCP', 'DHCPv6', 'NBNS', 'NBDS',
  'SNMP', 'SSDP', 'Syslog', 'TFTP', 'RIP', 'RADIUS', 'SIP', 'ISAKMP', 'SMB', 'SMTP', 'FTP', 'TELNET', 'BGP', 'ARP'];

const num = (n) => (typeof n === 'number' ? n : 0);

const COLUMNS = [
  { id: 'sensor', label: 'Sensor', cell: (f) => f.sensor || '' },
  { id: 'a', label: 'A (first sender)', cell: (f) => ({ text: endpointText(f.a, f.a_port), title: [f.a, f.a_name].filter(Boolean).join(' · ') }) },
  { id: 'b', label: 'B', cell: (f) => ({ text: endpointText(f.b, f.b_port), title: [f.b, f.b_name].filter(Boolean).join(' · ') }) },
  { id: 'proto', label: 'Proto', cell: (f) => protoName(f) },
  { id: 'app', label: 'App', cell: (f) => f.app || '' },
  {
    id: 'name',
    label: 'Name',
    title: 'The flow\'s TLS SNI, HTTP Host or DNS question; else a name passive DNS knows for B or A (in italics)',
    cell: (f) => {
      const n = flowName(f);
      return { text: n.text, title: n.from === 'flow' ? n.text : n.text && `${n.text} (passive DNS name of ${n.from.toUpperCase()})`, className: n.from && n.from !== 'flow' ? 'derived' : '' };
    },
  },
  { id: 'countries', label: 'Countries', cell: (f) => countriesText(f) },
  { id: 'bytes', label: 'Bytes', sort: 'bytes', num: true, title: 'Both directions, on the wire', cell: (f) => ({ text: bytesText(num(f.a_bytes) + num(f.b_bytes)), title: `${formatCount(num(f.a_bytes) + num(f.b_bytes))} bytes` }) },
  { id: 'a_bytes', label: 'A → B', num: true, title: 'Bytes A sent', cell: (f) => ({ text: bytesText(f.a_bytes), title: `${formatCount(num(f.a_bytes))} bytes, ${formatCount(num(f.a_packets))} packets` }) },
  { id: 'b_bytes', label: 'B → A', num: true, title: 'Bytes B sent', cell: (f) => ({ text: bytesText(f.b_bytes), title: `${formatCount(num(f.b_bytes))} bytes, ${formatCount(num(f.b_packets))} packets` }) },
  { id: 'packets', label: 'Packets', sort: 'packets', num: true, cell: (f) => countText(num(f.a_packets) + num(f.b_packets)) },
  { id: 'rate', label: 'Rate', sort: 'rate', num: true, title: 'Bits a second over the flow\'s life (capture clock)', cell: (f) => rateText(f.rate_bps) },
  { id: 'duration', label: 'Duration', sort: 'duration', num: true, title: 'First to last packet (capture clock)', cell: (f) => ({ text: durationText(f.duration), title: `${f.duration} s` }) },
  { id: 'rtt', label: 'RTT', sort: 'rtt', num: true, title: 'TCP handshake round trip (SYN to the first ACK)', cell: (f) => rttText(f) },
  {
    id: 'retrans', label: 'Retr.', sort: 'retransmissions', num: true, title: 'TCP retransmissions, both directions',
    cell: (f) => {
      const n = retransmissions(f);
      return { text: n === null ? '' : countText(n), className: n ? 'warn' : '' };
    },
  },
  { id: 'state', label: 'State', cell: (f) => ({ text: stateText(f), className: f.active ? '' : 'ended' }) },
  { id: 'last', label: 'Last packet', sort: 'last', num: true, title: 'Capture clock', cell: (f) => ({ text: formatTime(f.last), title: `${f.last}` }) },
];

export class ConversationsView {
  // els: the view's elements (index.html ids); feed: setFlowQuery(); pane: the FlowPane;
  // onQuery(text): the view's query for the address's hash.
  constructor({ els, feed, pane, onQuery }) {
    this.els = els;
    this.feed = feed;
    this.pane = pane;
    this.onQuery = onQuery || (() => {});
    this.params = { ...DEFAULTS };
    this.visible = false;
    this.activeQuery = null; // the query whose flows the table shows
    this.total = 0;
    this.shownCount = 0;
    this.generation = 0;
    this.sensors = [];
    this.debounce = null;

    this.table = new LiveTable({
      table: els.table,
      body: els.body,
      head: els.head,
      empty: els.empty,
      note: els.held,
      scroller: els.scroll,
      columns: COLUMNS,
      keyOf: flowKey,
      onOpen: (f) => this.openFlow(f.sensor, f.id, f),
      onSort: (sort) => this.toggleSort(sort),
    });
    for (const name of APPS)
      els.appList.append(el('option', { attrs: { value: name } }));
    for (const input of this.inputs()) {
      const ev = input.tagName === 'SELECT' ? 'change' : 'input';
      input.addEventListener(ev, () => this.formChanged());
    }
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.formChanged(0);
    });
    els.reset.addEventListener('click', () => {
      this.params = { ...DEFAULTS };
      this.writeForm();
      this.requery();
    });
    els.prev.addEventListener('click', () => this.page(-1));
    els.next.addEventListener('click', () => this.page(1));
    pane.addEventListener('close', () => {
      this.table.select(null);
      this.writeHash();
    });
    this.writeForm();
    this.table.setSort(this.params.sort, this.params.order);
    this.setSensors([]);
  }

  inputs() {
    const e = this.els;
    return [e.addr, e.port, e.proto, e.app, e.name, e.country, e.state, e.minBytes, e.sensor, e.limit];
  }

  // ---- The query -----------------------------------------------------------------------

  // The /api/flows (and feed) query: the filters given, then sort, order, offset, limit.
  queryText() {
    const q = new URLSearchParams();
    for (const key of FILTERS)
      if (this.params[key])
        q.set(key, this.params[key]);
    q.set('sort', this.params.sort);
    q.set('order', this.params.order);
    if (this.params.offset !== '0')
      q.set('offset', this.params.offset);
    q.set('limit', this.params.limit);
    return q.toString();
  }

  // The CSV export: every flow the filters pass, in the table's order.
  csvUrl() {
    const params = {};
    for (const key of FILTERS)
      if (this.params[key])
        params[key] = this.params[key];
    params.sort = this.params.sort;
    params.order = this.params.order;
    return apiUrl('api/flows/export.csv', params).href;
  }

  // For the address: what differs from the defaults, and the open flow.
  hashText() {
    const q = new URLSearchParams();
    for (const key of [...FILTERS, 'sort', 'order', 'offset', 'limit'])
      if (this.params[key] && this.params[key] !== DEFAULTS[key])
        q.set(key, this.params[key]);
    if (this.pane.isOpen() && this.pane.key)
      q.set('flow', this.pane.key);
    return q.toString();
  }

  writeHash() {
    this.onQuery(this.hashText());
  }

  // Params from the address (a link, a bookmark): unknown values fall back to the defaults.
  applyParams(params) {
    const next = { ...DEFAULTS };
    for (const key of FILTERS) {
      const v = params.get(key);
      if (v)
        next[key] = v.slice(0, 200);
    }
    if (SORTS.includes(params.get('sort')))
      next.sort = params.get('sort');
    if (['asc', 'desc'].includes(params.get('order')))
      next.order = params.get('order');
    if (LIMITS.includes(params.get('limit')))
      next.limit = params.get('limit');
    if (/^\d{1,7}$/.test(params.get('offset') || ''))
      next.offset = String(Number(params.get('offset')));
    this.params = next;
    this.writeForm();
    const flow = parseFlowKey(params.get('flow'));
    if (flow)
      this.openFlow(flow.sensor, flow.id);
    else if (this.pane.isOpen())
      this.pane.close();
  }

  readForm() {
    const e = this.els;
    const v = (input) => input.value.trim();
    Object.assign(this.params, {
      addr: v(e.addr), port: v(e.port), proto: v(e.proto), app: v(e.app), name: v(e.name),
      country: v(e.country).toUpperCase(), state: v(e.state), min_bytes: v(e.minBytes), sensor: v(e.sensor),
      limit: LIMITS.includes(v(e.limit)) ? v(e.limit) : DEFAULTS.limit,
    });
  }

  writeForm() {
    const e = this.els;
    const p = this.params;
    e.addr.value = p.addr || '';
    e.port.value = p.port || '';
    e.proto.value = p.proto || '';
    e.app.value = p.app || '';
    e.name.value = p.name || '';
    e.country.value = p.country || '';
    e.state.value = p.state || '';
    e.minBytes.value = p.min_bytes || '';
    if (p.sensor && ![...e.sensor.options].some((o) => o.value === p.sensor))
      e.sensor.append(el('option', { text: p.sensor, attrs: { value: p.sensor } }));
    e.sensor.value = p.sensor || '';
    e.limit.value = p.limit;
  }

  formChanged(delay = DEBOUNCE_MS) {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.readForm();
      this.params.offset = '0';
      this.requery();
    }, delay);
  }

  toggleSort(sort) {
    if (this.params.sort === sort)
      this.params.order = this.params.order === 'desc' ? 'asc' : 'desc';
    else {
      this.params.sort = sort;
      this.params.order = 'desc';
    }
    this.params.offset = '0';
    this.requery();
  }

  page(step) {
    const limit = Number(this.params.limit);
    const offset = Math.max(0, Number(this.params.offset) + step * limit);
    if (step > 0 && offset >= this.total)
      return;
    this.params.offset = String(offset);
    this.requery();
  }

  // ---- Running it ----------------------------------------------------------------------

  // The user changed the query: ask once at once (a refusal shows, the page
  // fills), then let the feed carry it.
  async requery() {
    this.table.setSort(this.params.sort, this.params.order);
    this.writeHash();
    this.els.exportCsv.href = this.csvUrl();
    if (!this.visible)
      return;
    const query = this.queryText();
    const generation = ++this.generation;
    this.els.view.dataset.state = 'loading';
    let data;
    try {
      data = await getJSON(`api/flows?${query}`);
    } catch (err) {
      if (generation !== this.generation)
        return;
      this.showError(err instanceof ApiError && err.status === 400 ? err.message : `flows: ${err.message}`);
      this.els.view.dataset.state = 'idle';
      // A refused query is not sent to the feed: the table keeps the last good one's flows.
      return;
    }
    if (generation !== this.generation)
      return;
    this.showError('');
    this.activeQuery = query;
    this.render({ ...data, query }, true);
    this.feed.setFlowQuery(query);
    this.els.view.dataset.state = 'idle';
  }

  // A "flows" message (the feed) or an /api/flows answer (polling).
  onFlows(msg) {
    if (!this.visible || !msg || msg.query !== this.activeQuery)
      return; // an answer to a query since replaced
    this.render(msg, false);
  }

  render(msg, force) {
    const flows = Array.isArray(msg.flows) ? msg.flows : [];
    this.total = Number(msg.total) || 0;
    this.shownCount = flows.length;
    this.table.update(flows, { force });
    this.pane.flowUpdated(flows);
    const offset = Number(this.params.offset);
    const el = this.els;
    el.table.dataset.total = String(this.total);
    setText(el.count, this.total
      ? `${formatCount(offset + 1)}–${formatCount(offset + flows.length)} of ${formatCount(this.total)} flows`
      : (offset ? `nothing past ${formatCount(offset)}` : 'no flows match'));
    el.prev.disabled = offset === 0;
    el.next.disabled = offset + Number(this.params.limit) >= this.total;
  }

  showError(message) {
    this.els.error.hidden = !message;
    setText(this.els.error, message || '');
  }

  // ---- Showing ----------------------------------------------------------------------------

  show(params) {
    this.visible = true;
    if (params)
      this.applyParams(params);
    return this.requery();
  }

  hide() {
    this.visible = false;
    this.generation++;
    this.activeQuery = null;
    this.feed.setFlowQuery('');
  }

  // The sensors webd has: a column and a filter only when there is more than one.
  setSensors(names) {
    const list = [...names].sort();
    if (list.join('\n') === this.sensors.join('\n'))
      return;
    this.sensors = list;
    const multi = list.length > 1;
    this.els.table.classList.toggle('one-sensor', !multi);
    this.els.sensorField.hidden = !multi;
    const select = this.els.sensor;
    const current = this.params.sensor || '';
    select.replaceChildren(el('option', { text: 'any', attrs: { value: '' } }));
    for (const name of list)
      select.append(el('option', { text: name, attrs: { value: name } }));
    if (current && !list.includes(current))
      select.append(el('option', { text: current, attrs: { value: current } }));
    select.value = current;
  }

  openFlow(sensor, id, flow = null) {
    this.pane.open(sensor, id, flow);
    this.table.select(`${sensor}/${id}`);
    this.writeHash();
  }
}
