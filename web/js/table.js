// The live packet table. Its DOM is bounded: a pool of at most maxRows <tr>
// elements, created once and refilled in place (newest first), so a busy
// feed costs text updates, not element churn. Selection is kept by packet
// number, so a selected packet stays selected while the rows move under it.
// A row whose packet names its flow (row.flow) links to it: the flow pane of
// the Conversations view (onFlow), or #conversations?flow=SENSOR/ID as a plain link.
import { countryLabel, el, formatTime, setText } from './dom.js';

const COLUMNS = ['seq', 'time', 'proto', 'src', 'dst', 'country', 'name', 'len', 'info', 'flow'];

export function flowHref(sensor, id) {
  return `#conversations?flow=${encodeURIComponent(`${sensor}/${id}`)}`;
}

function address(ip, port) {
  if (!ip)
    return '';
  if (port === undefined || port === null)
    return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// The name worth showing: the question for DNS, else what passive DNS knows.
function displayName(row) {
  if (row.dns && row.dns.qname)
    return row.dns.qname;
  if (row.sni)
    return row.sni;
  if (row.http && row.http.host)
    return row.http.host;
  return row.dst_name || row.src_name || '';
}

function countryText(row) {
  const src = countryLabel(row.src_country);
  const dst = countryLabel(row.dst_country);
  if (src && dst)
    return src === dst ? src : `${src} → ${dst}`;
  if (src)
    return `${src} →`;
  if (dst)
    return `→ ${dst}`;
  return '';
}

export class PacketTable {
  constructor({ table, body, empty, scroller, onOpen, onSelect, onFlow }) {
    this.table = table;
    this.body = body;
    this.empty = empty;
    this.scroller = scroller;
    this.onOpen = onOpen; // (seq) => void: Enter or click
    this.onSelect = onSelect || (() => {});
    this.onFlow = onFlow || null; // (sensor, id) => void: the row's flow link
    this.pool = [];
    this.shown = []; // rows currently in the DOM, newest first
    this.selectedSeq = null;
    this.maxRows = 100;

    body.addEventListener('click', (ev) => {
      const link = ev.target.closest('a.flow-link');
      if (link) {
        // The page's own flow pane; a modified click (new tab) follows the href.
        if (this.onFlow && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
          ev.preventDefault();
          this.onFlow(link.sensor_, String(link.flow_));
        }
        return;
      }
      const tr = ev.target.closest('tr');
      if (!tr || !tr.dataset.seq)
        return;
      this.select(Number(tr.dataset.seq), true);
      this.onOpen(Number(tr.dataset.seq));
    });
    body.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  setMaxRows(n) {
    this.maxRows = n;
    // Shrink the pool when the limit drops, so the DOM really stays bounded.
    while (this.pool.length > n)
      this.pool.pop().remove();
  }

  makeRow() {
    const tr = el('tr', { attrs: { role: 'row', tabindex: '-1', 'aria-selected': 'false' } });
    tr.cells_ = {};
    for (const col of COLUMNS) {
      const td = el('td', { className: `c-${col}`, attrs: { role: 'gridcell' } });
      tr.cells_[col] = td;
      tr.append(td);
    }
    tr.flowLink_ = el('a', { className: 'flow-link', text: '⇄', attrs: { 'data-testid': 'packet-flow-link', tabindex: '-1', 'aria-label': 'this packet\'s flow', title: 'This packet\'s flow in Conversations (key F)' } });
    return tr;
  }

  fill(tr, row) {
    const c = tr.cells_;
    tr.dataset.seq = String(row.seq);
    tr.dataset.proto = String(row.proto || '');
    tr.classList.toggle('row-alert', row.alert === true);
    tr.classList.toggle('row-malformed', typeof row.malformed === 'string');
    tr.classList.toggle('row-foreign', row.foreign === true);
    setText(c.seq, row.seq);
    setText(c.time, formatTime(row.ts));
    setText(c.proto, row.proto || row.l3 || '');
    setText(c.src, address(row.src || (row.eth && row.eth.src), row.sport));
    setText(c.dst, address(row.dst || (row.eth && row.eth.dst), row.dport));
    setText(c.country, countryText(row));
    const name = displayName(row);
    setText(c.name, name);
    c.name.title = name;
    setText(c.len, row.len);
    const info = row.malformed ? `${row.info || ''} [malformed: ${row.malformed}]` : row.info || '';
    setText(c.info, info);
    c.info.title = info;
    c.proto.className = `c-proto proto-${String(row.proto || 'other').toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    this.fillFlow(tr, row);
    if (row.alert)
      tr.setAttribute('aria-description', 'source is over the alert threshold');
    else
      tr.removeAttribute('aria-description');
  }

  fillFlow(tr, row) {
    const link = tr.flowLink_;
    if (typeof row.flow !== 'number' || !row.sensor) {
      if (link.parentNode)
        link.remove();
      return;
    }
    // Rows move down the pool ten times a second: one attribute a row, and
    // only when its flow changed (the flow's key stays on the element).
    if (link.flow_ !== row.flow || link.sensor_ !== row.sensor) {
      link.flow_ = row.flow;
      link.sensor_ = row.sensor;
      link.href = flowHref(row.sensor, row.flow);
    }
    if (!link.parentNode)
      tr.cells_.flow.append(link);
  }

  // rows: newest first, at most maxRows of them.
  render(rows) {
    const hadFocus = this.body.contains(document.activeElement);
    while (this.pool.length < rows.length) {
      const tr = this.makeRow();
      this.pool.push(tr);
      this.body.append(tr);
    }
    let selectedTr = null;
    for (let i = 0; i < this.pool.length; i++) {
      const tr = this.pool[i];
      const row = rows[i];
      if (!row) {
        // An empty slot forgets its packet, so that filling it again redraws it.
        tr.hidden = true;
        tr.dataset.seq = '';
        tr.row_ = null;
        continue;
      }
      tr.hidden = false;
      // Same packet in the same slot: nothing to redo (its fields never change).
      if (tr.row_ !== row) {
        tr.row_ = row;
        this.fill(tr, row);
      }
      tr.setAttribute('aria-rowindex', String(i + 2)); // row 1 is the header
      const selected = row.seq === this.selectedSeq;
      tr.setAttribute('aria-selected', String(selected));
      tr.classList.toggle('selected', selected);
      tr.tabIndex = selected ? 0 : -1;
      if (selected)
        selectedTr = tr;
    }
    this.shown = rows;
    this.table.setAttribute('aria-rowcount', String(rows.length + 1));
    this.empty.hidden = rows.length > 0;
    // Roving tabindex: with no selection in view, the first row takes Tab.
    if (!selectedTr && this.pool[0] && rows.length)
      this.pool[0].tabIndex = 0;
    // Keep keyboard focus on the selected packet as it moves down the table.
    if (hadFocus && selectedTr && document.activeElement !== selectedTr)
      selectedTr.focus({ preventScroll: true });
  }

  rowElement(seq) {
    return this.pool.find((tr) => !tr.hidden && Number(tr.dataset.seq) === seq) || null;
  }

  select(seq, focus = false) {
    this.selectedSeq = seq;
    this.render(this.shown);
    const tr = seq === null ? null : this.rowElement(seq);
    if (tr && focus) {
      tr.focus({ preventScroll: true });
      this.reveal(tr);
    }
    this.onSelect(seq);
  }

  // Keeps a row visible inside the table's own scroll box, not the page.
  reveal(tr) {
    const box = this.scroller.getBoundingClientRect();
    const at = tr.getBoundingClientRect();
    const head = this.table.tHead ? this.table.tHead.getBoundingClientRect().height : 0;
    if (at.top < box.top + head)
      this.scroller.scrollTop -= box.top + head - at.top;
    else if (at.bottom > box.bottom)
      this.scroller.scrollTop += at.bottom - box.bottom;
  }

  focusSelected() {
    const tr = this.selectedSeq === null ? null : this.rowElement(this.selectedSeq);
    if (tr)
      tr.focus();
  }

  onKey(ev) {
    const tr = ev.target.closest('tr');
    if (!tr || !tr.dataset.seq)
      return;
    const index = this.shown.findIndex((r) => r.seq === Number(tr.dataset.seq));
    let next = null;
    switch (ev.key) {
    case 'ArrowDown': next = index + 1; break;
    case 'ArrowUp': next = index - 1; break;
    case 'PageDown': next = index + 10; break;
    case 'PageUp': next = index - 10; break;
    case 'Home': next = 0; break;
    case 'End': next = this.shown.length - 1; break;
    case 'Enter':
    case ' ':
      ev.preventDefault();
      this.select(Number(tr.dataset.seq), true);
      this.onOpen(Number(tr.dataset.seq));
      return;
    case 'f': {
      // The row's flow, from the keyboard (the link itself is not a Tab stop).
      const link = tr.flowLink_;
      if (this.onFlow && link && link.parentNode) {
        ev.preventDefault();
        this.onFlow(link.sensor_, String(link.flow_));
      }
      return;
    }
    default:
      return;
    }
    ev.preventDefault();
    next = Math.max(0, Math.min(this.shown.length - 1, next));
    if (this.shown[next])
      this.select(this.shown[next].seq, true);
  }
}
