// A table of live rows keyed by identity (a flow, an endpoint), for the
// Conversations and Endpoints views. Its <tr> are kept per key and refilled
// in place; the order follows the server's sort.
//
// Rows never move under the user: while the pointer is over the rows, or
// keyboard focus is in them, the order is held. Rows already shown keep
// their places and their figures update in place; rows that left the
// server's page stay (dimmed, class "stale") and new ones wait. When the
// pointer leaves (and focus too), the latest page is drawn in its order.
// A sort or filter change is the user's own action and always redraws.
import { el, setText } from './dom.js';

export class LiveTable {
  // columns: [{id, label, title?, sort?, num?, cell(row) -> string | {text, title, className}}]
  constructor({ table, body, head, empty, note, scroller, columns, keyOf, onOpen, onSort }) {
    Object.assign(this, { table, body, empty, note, scroller, columns, keyOf });
    this.onOpen = onOpen || (() => {});
    this.onSort = onSort || (() => {});
    this.trs = new Map(); // key -> <tr>
    this.latest = []; // the newest rows given, in the server's order
    this.shown = []; // keys in the DOM, top to bottom
    this.selectedKey = null;
    this.pointerInside = false;
    this.keyboardFocus = false; // focus in the rows that came from the keyboard
    this.lastPointerDown = 0;
    this.sort = null;
    this.order = 'desc';
    this.headCells = new Map();
    this.buildHead(head);

    const hold = () => this.holding();
    scroller.addEventListener('pointerenter', () => {
      this.pointerInside = true;
      this.markHold();
    });
    scroller.addEventListener('pointerleave', () => {
      this.pointerInside = false;
      if (!hold())
        this.render();
    });
    // Focus that a click gave a row does not hold the order once the
    // pointer has gone (to the flow pane, say); focus from the keyboard does.
    body.addEventListener('pointerdown', () => {
      this.lastPointerDown = Date.now();
    });
    body.addEventListener('focusin', () => {
      this.keyboardFocus = Date.now() - this.lastPointerDown > 300;
    });
    body.addEventListener('focusout', () => {
      // After the focus has gone somewhere (or nowhere).
      setTimeout(() => {
        if (!hold())
          this.render();
      }, 0);
    });
    body.addEventListener('click', (ev) => {
      if (ev.target.closest('a'))
        return; // a link in a cell does its own thing
      const tr = ev.target.closest('tr');
      if (tr && tr.row_)
        this.open(tr);
    });
    body.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  buildHead(head) {
    // Explicit roles: the stylesheet lays rows out as flex boxes (each row
    // contained, so that one row's change lays out that row only), and a
    // table shown so is no table to assistive technology without them.
    this.table.setAttribute('role', 'grid');
    head.setAttribute('role', 'rowgroup');
    this.body.setAttribute('role', 'rowgroup');
    const tr = el('tr', { attrs: { role: 'row' } });
    for (const col of this.columns) {
      const th = el('th', { className: `c-${col.id}${col.num ? ' num' : ''}`, attrs: { scope: 'col', title: col.title, role: 'columnheader' } });
      if (col.sort) {
        const button = el('button', { className: 'sort-btn', text: col.label, attrs: { type: 'button', 'data-sort': col.sort } });
        button.addEventListener('click', () => this.onSort(col.sort));
        th.append(button);
        th.dataset.sort = col.sort;
      } else {
        th.textContent = col.label;
      }
      this.headCells.set(col.id, th);
      tr.append(th);
    }
    head.replaceChildren(tr);
  }

  // Marks the sorted column (aria-sort), after the view changed its sort.
  setSort(sort, order) {
    this.sort = sort;
    this.order = order;
    for (const [id, th] of this.headCells) {
      const col = this.columns.find((c) => c.id === id);
      if (col.sort && col.sort === sort)
        th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending');
      else
        th.removeAttribute('aria-sort');
    }
  }

  holding() {
    return this.pointerInside || (this.keyboardFocus && this.body.contains(document.activeElement));
  }

  // New rows from the server. force: the user changed the query, draw them as they are.
  update(rows, { force = false } = {}) {
    this.latest = rows;
    if (force || !this.holding())
      this.render();
    else
      this.refreshInPlace();
  }

  makeRow(key) {
    const tr = el('tr', { attrs: { role: 'row', tabindex: '-1', 'aria-selected': 'false' } });
    tr.dataset.key = key;
    tr.cells_ = {};
    for (const col of this.columns) {
      const td = el('td', { className: `c-${col.id}${col.num ? ' num' : ''}`, attrs: { role: 'gridcell' } });
      tr.cells_[col.id] = td;
      tr.append(td);
    }
    return tr;
  }

  fill(tr, row) {
    if (tr.row_ === row)
      return;
    tr.row_ = row;
    for (const col of this.columns) {
      const td = tr.cells_[col.id];
      const v = col.cell(row);
      const text = v && typeof v === 'object' ? v.text : v;
      setText(td, text);
      const title = v && typeof v === 'object' && v.title !== undefined ? v.title : text;
      if (td.title !== (title || ''))
        td.title = title || '';
      if (v && typeof v === 'object' && v.className !== undefined) {
        const cls = `c-${col.id}${col.num ? ' num' : ''}${v.className ? ` ${v.className}` : ''}`;
        if (td.className !== cls)
          td.className = cls;
      }
    }
  }

  // Draws the latest rows in their order: a key already shown keeps its
  // <tr>; the <tr> of keys that left are given to the new ones (sorted by
  // last seen, most of a page changes at each update: no element churn).
  render() {
    const keys = [];
    const seen = new Set();
    for (const row of this.latest) {
      const key = this.keyOf(row);
      if (!seen.has(key)) { // a row twice in one page (the server pages by offset)
        seen.add(key);
        keys.push([key, row]);
      }
    }
    const spare = [];
    for (const [key, tr] of this.trs) {
      if (!seen.has(key)) {
        this.trs.delete(key);
        spare.push(tr);
      }
    }
    keys.forEach(([key, row], at) => {
      let tr = this.trs.get(key);
      if (!tr) {
        tr = spare.pop() || this.makeRow(key);
        tr.dataset.key = key;
        tr.row_ = null;
        this.trs.set(key, tr);
      }
      this.fill(tr, row);
      tr.classList.remove('stale');
      if (this.body.children[at] !== tr)
        this.body.insertBefore(tr, this.body.children[at] || null);
    });
    for (const tr of spare)
      tr.remove();
    this.shown = keys.map(([key]) => key);
    this.markSelection();
    this.empty.hidden = this.shown.length > 0;
    this.markHold();
  }

  // Held: only the figures of rows already shown change; nothing moves.
  refreshInPlace() {
    const byKey = new Map(this.latest.map((r) => [this.keyOf(r), r]));
    let waiting = 0;
    for (const row of this.latest)
      if (!this.trs.has(this.keyOf(row)))
        waiting++;
    for (const [key, tr] of this.trs) {
      const row = byKey.get(key);
      if (row)
        this.fill(tr, row);
      tr.classList.toggle('stale', !row);
    }
    this.markHold(waiting);
  }

  markHold(waiting = 0) {
    const held = this.holding();
    this.table.dataset.held = String(held);
    if (!this.note)
      return;
    if (!held) {
      setText(this.note, '');
      return;
    }
    const inOrder = this.latest.map((r) => this.keyOf(r)).join('\n') === this.shown.join('\n');
    setText(this.note, inOrder ? 'order held while the pointer is on the table'
      : `order held while the pointer is on the table${waiting ? `: ${waiting} new waiting` : ': the order has changed'}`);
  }

  markSelection() {
    let first = null;
    for (const key of this.shown) {
      const tr = this.trs.get(key);
      const on = key === this.selectedKey;
      tr.setAttribute('aria-selected', String(on));
      tr.classList.toggle('selected', on);
      tr.tabIndex = on ? 0 : -1;
      if (!first)
        first = tr;
    }
    // Roving tabindex: with no selection in view, the first row takes Tab.
    if (first && !(this.selectedKey && this.trs.has(this.selectedKey)))
      first.tabIndex = 0;
  }

  select(key, focus = false) {
    this.selectedKey = key;
    this.markSelection();
    const tr = key === null ? null : this.trs.get(key);
    if (tr && focus) {
      tr.focus({ preventScroll: true });
      this.reveal(tr);
    }
  }

  open(tr) {
    this.select(tr.dataset.key, true);
    this.onOpen(tr.row_);
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

  onKey(ev) {
    const tr = ev.target.closest('tr');
    if (!tr || !tr.dataset.key)
      return;
    this.keyboardFocus = true;
    const index = this.shown.indexOf(tr.dataset.key);
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
      this.open(tr);
      return;
    default:
      return;
    }
    ev.preventDefault();
    next = Math.max(0, Math.min(this.shown.length - 1, next));
    if (this.shown[next])
      this.select(this.shown[next], true);
  }

  focusSelected() {
    const tr = this.selectedKey === null ? null : this.trs.get(this.selectedKey);
    if (tr)
      tr.focus({ preventScroll: true });
  }

  clear() {
    this.latest = [];
    this.render();
  }
}
