// The detail pane: /api/packet/{seq} as a collapsible tree of layers (and
// their fields, when webd sends them) beside the bytes as hex + ASCII.
// Selecting a layer or field highlights its bytes (offset/length).
import { ApiError, getJSON } from './api.js';
import { clear, el, formatDateTime } from './dom.js';
import { flowHref } from './table.js';

const BYTES_PER_LINE = 16;
const HEX_MAX = 16384; // bytes drawn; a 64 KiB jumbo frame would be 4,000 lines

function hexToBytes(hex) {
  const n = Math.floor((hex || '').length / 2);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

// The API nests sub-fields (a flag's bits, a DNS record's parts) under their
// field: list them in order, each with its depth.
function flatten(fields, out = []) {
  for (const f of Array.isArray(fields) ? fields : []) {
    out.push(f);
    flatten(f.fields, out);
  }
  return out;
}

export class DetailPane {
  // flowLink: an <a> shown when the packet names its flow (onFlow(sensor, id) on click).
  constructor({ pane, tree, hex, summary, closeButton, onClose, flowLink, onFlow }) {
    this.pane = pane;
    this.flowLink = flowLink || null;
    this.onFlow = onFlow || null;
    if (this.flowLink && this.onFlow) {
      this.flowLink.addEventListener('click', (ev) => {
        if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0)
          return;
        ev.preventDefault();
        this.onFlow(this.flowLink.dataset.sensor, this.flowLink.dataset.flow);
      });
    }
    this.tree = tree;
    this.hex = hex;
    this.summary = summary;
    this.onClose = onClose || (() => {});
    this.seq = null;
    this.byteSpans = []; // [hexSpan, asciiSpan] per byte
    this.highlighted = [];
    this.activeItem = null;
    this.request = null;
    closeButton.addEventListener('click', () => this.close());
    pane.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.close();
      }
    });
    tree.addEventListener('keydown', (ev) => this.onTreeKey(ev));
  }

  isOpen() {
    return !this.pane.hidden;
  }

  async open(seq) {
    if (this.request)
      this.request.abort();
    const request = new AbortController();
    this.request = request;
    this.seq = seq;
    this.pane.hidden = false;
    this.summary.textContent = `packet ${seq}: loading…`;
    if (this.flowLink)
      this.flowLink.hidden = true;
    let detail;
    try {
      detail = await getJSON(`api/packet/${encodeURIComponent(seq)}`, {}, { signal: request.signal });
    } catch (err) {
      if (err.name === 'AbortError')
        return;
      clear(this.tree);
      clear(this.hex);
      const why = err instanceof ApiError && err.status === 404 ? 'no longer in the server\'s ring' : err.message;
      this.summary.textContent = `packet ${seq}: ${why}`;
      return;
    } finally {
      if (this.request === request)
        this.request = null;
    }
    if (this.seq !== seq)
      return;
    this.render(detail);
  }

  close() {
    if (!this.isOpen())
      return;
    if (this.request)
      this.request.abort();
    this.pane.hidden = true;
    this.seq = null;
    clear(this.tree);
    clear(this.hex);
    this.byteSpans = [];
    this.onClose();
  }

  render(detail) {
    const s = detail.summary || {};
    const route = s.src || s.dst ? `${s.src || '?'} → ${s.dst || '?'}` : '';
    this.summary.textContent = [
      `No. ${s.seq}`, formatDateTime(s.ts), s.proto, route, `${s.len} bytes on wire, ${s.caplen} captured`,
      s.sensor ? `sensor ${s.sensor}` : '',
    ].filter(Boolean).join(' · ');
    this.renderHex(hexToBytes(detail.hex));
    this.renderTree(detail);
    this.renderFlowLink(s);
  }

  renderFlowLink(s) {
    const link = this.flowLink;
    if (!link)
      return;
    const has = typeof s.flow === 'number' && typeof s.sensor === 'string' && s.sensor !== '';
    link.hidden = !has;
    if (!has)
      return;
    link.dataset.flow = String(s.flow);
    link.dataset.sensor = s.sensor;
    link.href = flowHref(s.sensor, s.flow);
    link.textContent = `Flow ${s.flow}`;
  }

  renderTree(detail) {
    clear(this.tree);
    this.activeItem = null;
    const layers = Array.isArray(detail.layers) && detail.layers.length ? detail.layers : detail.layer_spans || [];
    if (!layers.length) {
      this.tree.append(el('p', { className: 'note', text: 'No layers decoded.' }));
      return;
    }
    layers.forEach((layer, i) => {
      const details = el('details', { className: 'layer', attrs: { open: i === layers.length - 1 || layers.length <= 4 } });
      const head = el('summary', {
        className: 'tree-item layer-name',
        attrs: { role: 'treeitem', 'aria-level': '1', tabindex: i === 0 ? '0' : '-1', 'data-testid': 'detail-layer' },
      });
      head.append(el('span', { text: layer.name }));
      if (layer.value)
        head.append(el('span', { className: 'field-value', text: `, ${layer.value}` }));
      head.append(el('span', { className: 'span-note', text: ` bytes ${layer.offset}–${layer.offset + layer.length - 1} (${layer.length})` }));
      this.bindSelect(head, layer.offset, layer.length);
      details.append(head);
      const fields = flatten(layer.fields);
      if (fields.length)
        details.append(this.fieldList(fields));
      else
        details.append(el('p', { className: 'note tree-empty', text: 'No field breakdown for this layer yet.' }));
      details.addEventListener('toggle', () => head.setAttribute('aria-expanded', String(details.open)));
      head.setAttribute('aria-expanded', String(details.open));
      this.tree.append(details);
    });
  }

  // Fields are listed in order with their depth: nest them with a stack of lists.
  fieldList(fields) {
    const root = el('ul', { className: 'fields', attrs: { role: 'group' } });
    const stack = [{ depth: -1, list: root }];
    for (const f of fields) {
      const depth = Number(f.depth) || 0;
      while (stack.length > 1 && stack[stack.length - 1].depth >= depth)
        stack.pop();
      const item = el('li', { attrs: { role: 'none' } });
      const label = el('span', {
        className: 'tree-item field',
        attrs: { role: 'treeitem', 'aria-level': String(depth + 2), tabindex: '-1', 'data-testid': 'detail-field' },
      });
      label.append(el('span', { className: 'field-name', text: f.name }));
      if (f.value !== undefined && f.value !== null && f.value !== '')
        label.append(el('span', { className: 'field-value', text: `: ${f.value}` }));
      if (typeof f.offset === 'number' && typeof f.length === 'number')
        this.bindSelect(label, f.offset, f.length);
      item.append(label);
      stack[stack.length - 1].list.append(item);
      const sub = el('ul', { className: 'fields', attrs: { role: 'group' } });
      item.append(sub);
      stack.push({ depth, list: sub });
    }
    // Drop the empty sublists made for leaves.
    for (const ul of root.querySelectorAll('ul'))
      if (!ul.children.length)
        ul.remove();
    return root;
  }

  bindSelect(node, offset, length) {
    node.dataset.offset = String(offset);
    node.dataset.length = String(length);
    node.addEventListener('click', () => this.activate(node));
    node.addEventListener('focus', () => this.activate(node));
  }

  activate(node) {
    if (this.activeItem)
      this.activeItem.classList.remove('active');
    this.activeItem = node;
    node.classList.add('active');
    for (const item of this.tree.querySelectorAll('.tree-item'))
      item.tabIndex = item === node ? 0 : -1;
    this.highlight(Number(node.dataset.offset), Number(node.dataset.length));
  }

  // Up/Down walk the visible tree items; Enter/Space on a layer toggles it.
  onTreeKey(ev) {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key))
      return;
    const items = [...this.tree.querySelectorAll('.tree-item')].filter((n) => n.offsetParent !== null);
    const at = items.indexOf(document.activeElement);
    let next = at;
    if (ev.key === 'ArrowDown') next = at + 1;
    else if (ev.key === 'ArrowUp') next = at - 1;
    else if (ev.key === 'Home') next = 0;
    else next = items.length - 1;
    next = Math.max(0, Math.min(items.length - 1, next));
    if (items[next]) {
      ev.preventDefault();
      items[next].focus();
    }
  }

  renderHex(bytes) {
    clear(this.hex);
    this.byteSpans = [];
    this.highlighted = [];
    const shown = Math.min(bytes.length, HEX_MAX);
    const frag = document.createDocumentFragment();
    for (let line = 0; line < shown; line += BYTES_PER_LINE) {
      const row = el('div', { className: 'hex-line' });
      row.append(el('span', { className: 'hex-off', text: line.toString(16).padStart(4, '0') }));
      const hexPart = el('span', { className: 'hex-bytes' });
      const asciiPart = el('span', { className: 'hex-ascii' });
      for (let i = line; i < Math.min(line + BYTES_PER_LINE, shown); i++) {
        const b = bytes[i];
        const h = el('span', { className: 'b', text: b.toString(16).padStart(2, '0') });
        const a = el('span', { className: 'b', text: b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.' });
        h.dataset.i = String(i);
        a.dataset.i = String(i);
        hexPart.append(h);
        asciiPart.append(a);
        this.byteSpans.push([h, a]);
      }
      row.append(hexPart, asciiPart);
      frag.append(row);
    }
    this.hex.append(frag);
    if (bytes.length > shown)
      this.hex.append(el('p', { className: 'note', text: `${bytes.length - shown} more bytes not drawn` }));
    if (!bytes.length)
      this.hex.append(el('p', { className: 'note', text: 'No bytes.' }));
  }

  // Scrolls the hex box only (scrollIntoView would scroll the page too).
  revealInHex(span) {
    const box = this.hex.getBoundingClientRect();
    const at = span.getBoundingClientRect();
    if (at.top < box.top || at.bottom > box.bottom)
      this.hex.scrollTop += at.top - box.top - box.height / 3;
  }

  highlight(offset, length) {
    for (const [h, a] of this.highlighted) {
      h.classList.remove('hl');
      a.classList.remove('hl');
    }
    this.highlighted = this.byteSpans.slice(Math.max(0, offset), Math.max(0, offset + length));
    for (const [h, a] of this.highlighted) {
      h.classList.add('hl');
      a.classList.add('hl');
    }
    if (this.highlighted.length)
      this.revealInHex(this.highlighted[0][0]);
  }
}
