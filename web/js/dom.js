// DOM and formatting helpers. Everything that reaches the page from the
// network goes in as text (textContent, createTextNode, setAttribute of
// harmless attributes): nothing here builds HTML from strings.

// el('td', {className: 'x', text: 'y', attrs: {title: 'z'}}, child...)
export function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  if (opts.className)
    node.className = opts.className;
  if (opts.text !== undefined && opts.text !== null)
    node.textContent = String(opts.text);
  if (opts.attrs) {
    for (const [key, value] of Object.entries(opts.attrs)) {
      if (value !== undefined && value !== null && value !== false)
        node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined)
      continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
}

// Sets text only when it changed: rows are refreshed ten times a second.
export function setText(node, text) {
  const value = text === undefined || text === null ? '' : String(text);
  if (node.textContent !== value)
    node.textContent = value;
}

// A two-letter country code as its flag (regional indicator symbols).
export function flag(code) {
  if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code))
    return '';
  const upper = code.toUpperCase();
  return String.fromCodePoint(0x1f1e6 + upper.charCodeAt(0) - 65, 0x1f1e6 + upper.charCodeAt(1) - 65);
}

export function countryLabel(code) {
  return code ? `${flag(code)} ${code.toUpperCase()}` : '';
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Seconds since the epoch (with fraction) as local HH:MM:SS.mmm.
export function formatTime(ts, withMillis = true) {
  if (typeof ts !== 'number' || !Number.isFinite(ts))
    return '';
  const d = new Date(ts * 1000);
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMillis ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

export function formatDateTime(ts) {
  if (typeof ts !== 'number' || !Number.isFinite(ts))
    return '';
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatTime(ts, false)}`;
}

const numberFormat = new Intl.NumberFormat('en-US');
export function formatCount(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '0';
}

function scaled(n, units, step) {
  let value = Number(n) || 0;
  let i = 0;
  while (Math.abs(value) >= step && i < units.length - 1) {
    value /= step;
    i++;
  }
  const digits = i === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[i]}`;
}

export const formatBytes = (n) => scaled(n, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 1024);
export const formatBits = (n) => scaled(n, ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'], 1000);

const DNS_TYPES = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY',
  64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 255: 'ANY', 257: 'CAA',
};
export function dnsTypeName(qtype) {
  return DNS_TYPES[qtype] || (qtype ? `TYPE${qtype}` : '');
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export function rcodeName(rcode) {
  return RCODES[rcode] || `RCODE${rcode}`;
}

// Reads a remembered setting; storage may be disabled or hold junk.
export function loadSetting(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

export function saveSetting(key, value) {
  try {
    localStorage.setItem(key, String(value));
  } catch {
    /* not remembered: the setting still applies to this page */
  }
}
