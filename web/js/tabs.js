// The views' tabs (Live, Conversations, Endpoints, History) and the
// address's hash, which names the view and, for the views that have them,
// its filters: "#conversations?port=443&sort=rate", "#endpoints?sort=flows",
// "#history". A view writes its own query with setQuery() as the user
// changes it (replaceState: no new history entry per keystroke); a hash
// typed or followed as a link is read back with the view's params.
// Keyboard: ←/→/Home/End move between the tabs (the selected one takes Tab).

// "#view?query" -> {view, params}; an unknown view is the first tab's.
export function parseHash(hash, views) {
  const text = (hash || '').replace(/^#/, '');
  const at = text.indexOf('?');
  const view = at < 0 ? text : text.slice(0, at);
  return {
    view: views.includes(view) ? view : views[0],
    params: new URLSearchParams(at < 0 ? '' : text.slice(at + 1)),
  };
}

export class Tabs {
  // tabs: buttons with data-view and aria-controls; onShow(view, params|null):
  // params when they came from the address (a link, a typed hash), else null.
  constructor({ tabs, onShow }) {
    this.tabs = tabs;
    this.views = tabs.map((t) => t.dataset.view);
    this.onShow = onShow;
    this.current = null;
    this.queries = new Map(); // view -> its query text, as last written
    tabs.forEach((tab, i) => {
      tab.addEventListener('click', () => this.select(tab.dataset.view));
      tab.addEventListener('keydown', (ev) => {
        let next = null;
        if (ev.key === 'ArrowRight')
          next = tabs[(i + 1) % tabs.length];
        else if (ev.key === 'ArrowLeft')
          next = tabs[(i - 1 + tabs.length) % tabs.length];
        else if (ev.key === 'Home')
          next = tabs[0];
        else if (ev.key === 'End')
          next = tabs[tabs.length - 1];
        if (next) {
          ev.preventDefault();
          this.select(next.dataset.view, { focus: true });
        }
      });
    });
    window.addEventListener('hashchange', () => this.fromHash());
  }

  // The view of the page's address, with its params (call once, at start).
  fromHash() {
    const { view, params } = parseHash(window.location.hash, this.views);
    this.select(view, { params });
  }

  select(view, { focus = false, params = null } = {}) {
    const tab = this.tabs.find((t) => t.dataset.view === view) || this.tabs[0];
    // theme-init.js's first guess at the view, for the first layout: the panels' hidden attributes decide from now on.
    document.documentElement.removeAttribute('data-view');
    for (const t of this.tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus)
      tab.focus();
    this.current = tab.dataset.view;
    if (params)
      this.queries.set(this.current, params.toString());
    this.writeHash();
    this.onShow(this.current, params);
  }

  // A view's own query (its filters, sort, open flow), into the address.
  setQuery(view, query) {
    this.queries.set(view, query);
    if (view === this.current)
      this.writeHash();
  }

  writeHash() {
    const view = this.current;
    const query = this.queries.get(view) || '';
    const hash = view === this.views[0] ? '' : `#${view}${query ? `?${query}` : ''}`;
    if (window.location.hash !== hash)
      window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
  }
}
