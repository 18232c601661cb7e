// The view's filters: protocol toggles, "foreign IPs only" and the search
// box. The same state filters the rows in the browser and becomes the
// query string of exports and fetches, so what you see is what you export.
import { el } from './dom.js';

// Toggle categories, by the row's "proto" (the highest protocol decoded).
// They use webd's protocol names exactly, so a category is also a proto= list.
export const CATEGORIES = [
  { id: 'TCP', label: 'TCP', protos: ['TCP'] },
  { id: 'UDP', label: 'UDP', protos: ['UDP'] },
  { id: 'ICMP', label: 'ICMP', protos: ['ICMP', 'ICMPv6'] },
  { id: 'DNS', label: 'DNS', protos: ['DNS', 'MDNS', 'LLMNR'] },
  { id: 'TLS', label: 'TLS', protos: ['TLS'] },
  { id: 'HTTP', label: 'HTTP', protos: ['HTTP'] },
  { id: 'ARP', label: 'ARP', protos: ['ARP'] },
  { id: 'other', label: 'Other', protos: null }, // everything not named above
];

const categoryOfProto = new Map();
for (const cat of CATEGORIES)
  for (const proto of cat.protos || [])
    categoryOfProto.set(proto.toLowerCase(), cat.id);

export function categoryOf(row) {
  return categoryOfProto.get(String(row.proto || '').toLowerCase()) || 'other';
}

// webd accepts at most this many names in proto= (ROW_FILTER_PROTOS).
const SERVER_PROTO_MAX = 16;

export class Filters extends EventTarget {
  constructor() {
    super();
    this.enabled = new Set(CATEGORIES.map((c) => c.id));
    this.foreignOnly = false;
    this.search = '';
  }

  allProtocols() {
    return this.enabled.size === CATEGORIES.length;
  }

  isActive() {
    return !this.allProtocols() || this.foreignOnly || this.search !== '';
  }

  // Client-side match, mirroring webd's row_matches()/text_matches().
  matches(row) {
    if (!this.allProtocols() && !this.enabled.has(categoryOf(row)))
      return false;
    if (this.foreignOnly && !row.foreign)
      return false;
    if (!this.search)
      return true;
    const q = this.search.toLowerCase();
    const has = (v) => typeof v === 'string' && v.toLowerCase().includes(q);
    if (has(row.proto) || has(row.info) || has(row.src) || has(row.dst) || has(row.src_name) || has(row.dst_name))
      return true;
    if ((row.sport !== undefined || row.dport !== undefined) && `${row.sport ?? 0} ${row.dport ?? 0}`.includes(q))
      return true;
    return has(row.dns && row.dns.qname) || has(row.sni) || has(row.http && row.http.host);
  }

  // Query parameters for /api/packets and the exports: "only these" when
  // Other is off, "all but these" (proto_not=) when it is on. `exact` is
  // false when the server cannot express the toggles (too many names).
  toQuery() {
    const params = {};
    let exact = true;
    if (!this.allProtocols()) {
      const other = this.enabled.has('other');
      const names = CATEGORIES.filter((c) => c.protos && this.enabled.has(c.id) !== other).flatMap((c) => c.protos);
      if (names.length === 0 || names.length > SERVER_PROTO_MAX)
        exact = false;
      else
        params[other ? 'proto_not' : 'proto'] = names.join(',');
    }
    if (this.foreignOnly)
      params.foreign = '1';
    if (this.search)
      params.q = this.search;
    return { params, exact };
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  // Builds the toggle buttons and wires the inputs.
  bind({ toggles, foreign, search }) {
    for (const cat of CATEGORIES) {
      const button = el('button', {
        className: 'toggle',
        text: cat.label,
        attrs: { type: 'button', 'data-proto': cat.id, 'aria-pressed': 'true', 'data-testid': `proto-${cat.id}` },
      });
      button.addEventListener('click', () => {
        if (this.enabled.has(cat.id))
          this.enabled.delete(cat.id);
        else
          this.enabled.add(cat.id);
        button.setAttribute('aria-pressed', String(this.enabled.has(cat.id)));
        this.changed();
      });
      toggles.append(button);
    }
    foreign.addEventListener('change', () => {
      this.foreignOnly = foreign.checked;
      this.changed();
    });
    // Debounced: the table re-filters up to a few thousand rows per change.
    let timer = null;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const value = search.value.trim();
        if (value !== this.search) {
          this.search = value;
          this.changed();
        }
      }, 150);
    });
  }
}
