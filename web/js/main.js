// Wires the dashboard together: the live feed fills a row store, and one
// requestAnimationFrame pass per frame applies what arrived (table,
// indicators, chart), however many updates came in between.
import { apiUrl, getJSON, getText, poll } from './api.js';
import { Feed } from './feed.js';
import { Filters } from './filters.js';
import { PacketTable } from './table.js';
import { PpsChart } from './chart.js';
import { DetailPane } from './detail.js';
import { AlertsPanel, Breakdown, DnsPanel, DropIndicators, HostsPanel, NamesPanel } from './panels.js';
import { CaptureControls } from './capture.js';
import { bindTheme } from './theme.js';
import { HistoryView } from './history.js';
import { HistoryFlows } from './historyflows.js';
import { FlowsOnlyNotice, SensorsPanel } from './sensors.js';
import { Tabs } from './tabs.js';
import { ConversationsView } from './conversations.js';
import { EndpointsView } from './endpoints.js';
import { FlowPane } from './flowpane.js';
import { BandwidthChart } from './bandwidth.js';
import { RowStore, STORE_MAX } from './store.js';
import { formatBits, formatCount, loadSetting, saveSetting, setText } from './dom.js';

const $ = (id) => document.getElementById(id);

// ---- Settings -------------------------------------------------------------------

const settings = {
  maxRows: Math.max(10, Math.min(1000, Number(loadSetting('wlite-max-rows', 100)) || 100)),
  transport: loadSetting('wlite-transport', 'sse') === 'ws' ? 'ws' : 'sse',
};

// ---- State ----------------------------------------------------------------------

const store = new RowStore();
const filters = new Filters();
let incoming = []; // rows received since the last frame
let pending = []; // rows held back by the soft pause
let pendingDropped = 0; // ... and those beyond what we are willing to hold
let softPaused = false;
let latestSummary = null;
let headlineClock = null;
const SUMMARY_MS = 500;
let summaryAt = 0;
let summaryTimer = null;
let frameQueued = false;
let tabs = null; // the views' tabs (set below, once the views exist)
let tableDirty = true;

// ---- Components -------------------------------------------------------------------

// A packet's flow, from its row or its detail: the Conversations view's flow pane.
// (Defined below; the tables call it only on a click.)
const openFlow = (sensor, id) => openPacketFlow(sensor, id);

const detail = new DetailPane({
  pane: $('detail-pane'),
  tree: $('detail-tree'),
  hex: $('detail-hex'),
  summary: $('detail-summary'),
  closeButton: $('detail-close'),
  flowLink: $('detail-flow'),
  onFlow: openFlow,
  onClose: () => table.focusSelected(),
});

const table = new PacketTable({
  table: $('packets-table'),
  body: $('packets-body'),
  empty: $('table-empty'),
  scroller: $('table-scroll'),
  onOpen: (seq) => detail.open(seq),
  onFlow: openFlow,
});
table.setMaxRows(settings.maxRows);

const chart = new PpsChart({
  canvas: $('pps-chart'),
  wrap: $('chart-wrap'),
  dragBox: $('drag-box'),
  spanButtons: [...document.querySelectorAll('#span-select [data-span]')],
  zoomIn: $('zoom-in'),
  zoomOut: $('zoom-out'),
  zoomReset: $('zoom-reset'),
  rangeLabel: $('chart-range'),
  clockLabel: $('chart-clock'),
  isShown: () => tabs && tabs.current === 'live',
});

const bandwidth = new BandwidthChart({
  canvas: $('bandwidth-chart'),
  now: $('bandwidth-now'),
  isShown: () => tabs && tabs.current === 'live',
});

const breakdown = new Breakdown($('breakdown-list'));
const drops = new DropIndicators({
  kernel: $('drops-kernel'),
  ipc: $('drops-ipc'),
  sampled: $('drops-sampled'),
  sampledServer: $('drops-sampled-server'),
  evicted: $('drops-evicted'),
  sensors: $('sensor-list'),
});
const alerts = new AlertsPanel({ list: $('alerts-list'), count: $('alerts-count'), rule: $('alerts-rule') });
const dns = new DnsPanel({ list: $('dns-list'), filter: $('dns-filter') });
const names = new NamesPanel({ body: $('names-body'), filter: $('names-filter') });
const hosts = new HostsPanel({ body: $('hosts-body') });
const capture = new CaptureControls({
  select: $('interface-select'),
  switchButton: $('interface-apply'),
  form: $('bpf-form'),
  filterInput: $('bpf-filter'),
  error: $('bpf-error'),
  message: $('capture-message'),
  source: $('capture-source'),
  pauseButton: $('hard-pause'),
});

const historyView = new HistoryView({
  view: $('history-view'),
  form: $('history-form'),
  from: $('history-from'),
  to: $('history-to'),
  quick: $('history-quick'),
  apply: $('history-apply'),
  ip: $('history-ip'),
  proto: $('history-proto'),
  protoList: $('history-proto-list'),
  q: $('history-q'),
  pageSize: $('history-page-size'),
  error: $('history-error'),
  bounds: $('history-bounds'),
  canvas: $('history-chart'),
  chartNote: $('history-chart-note'),
  table: $('history-table'),
  body: $('history-body'),
  empty: $('history-empty'),
  scroll: $('history-scroll'),
  count: $('history-count'),
  more: $('history-more'),
  exportCsv: $('history-export-csv'),
  exportPcap: $('history-export-pcap'),
});
const historyFlows = new HistoryFlows({
  table: $('history-flows-table'),
  head: $('history-flows-head'),
  body: $('history-flows-body'),
  empty: $('history-flows-empty'),
  count: $('history-flows-count'),
  error: $('history-flows-error'),
  prev: $('history-flows-prev'),
  next: $('history-flows-next'),
  form: $('history-flows-form'),
});
historyView.onApply = (query) => historyFlows.apply(query);

// The Sensors panel: from the feed's summary, or /api/stats every 2 s when
// no summary with sensors came in that time (a flows-only or quiet feed).
const sensorsPanel = new SensorsPanel({ card: $('sensors-panel'), body: $('sensors-body') });
const flowsOnlyNotice = new FlowsOnlyNotice($('flows-only-notice'));
let sensorsAt = 0;
function updateSensors(sensors) {
  sensorsAt = Date.now();
  sensorsPanel.update(sensors);
  flowsOnlyNotice.update(sensors);
}

bindTheme($('theme-toggle'), () => {
  chart.applyTheme();
  bandwidth.applyTheme();
  historyView.applyTheme();
});

// ---- Conversations, Endpoints and the views' tabs ------------------------------------------

// The flow pane's packets open in a packet detail of its own (the Live view's
// pane is in the Live view).
const flowPacketDetail = new DetailPane({
  pane: $('flow-packet-detail'),
  tree: $('flow-packet-tree'),
  hex: $('flow-packet-hex'),
  summary: $('flow-packet-summary'),
  closeButton: $('flow-packet-close'),
});


const flowPane = new FlowPane({
  els: {
    pane: $('flow-pane'),
    title: $('flow-title'),
    summary: $('flow-summary'),
    status: $('flow-status'),
    close: $('flow-close'),
    facts: $('flow-facts'),
    spark: $('flow-spark'),
    sparkNote: $('flow-spark-note'),
    tcpBox: $('flow-tcp-box'),
    tcpState: $('flow-tcp-state'),
    tcpBody: $('flow-tcp-body'),
    pcap: $('flow-pcap'),
    hostA: $('flow-host-pcap-a'),
    hostB: $('flow-host-pcap-b'),
    packetsTable: $('flow-packets'),
    packetsBody: $('flow-packets-body'),
    packetsNote: $('flow-packets-note'),
    packetsEmpty: $('flow-packets-empty'),
  },
  detail: flowPacketDetail,
  isShown: () => tabs && tabs.current === 'conversations',
});

const conversations = new ConversationsView({
  els: {
    view: $('conversations-view'),
    form: $('conv-form'),
    addr: $('conv-addr'),
    port: $('conv-port'),
    proto: $('conv-proto'),
    app: $('conv-app'),
    appList: $('conv-app-list'),
    name: $('conv-name'),
    country: $('conv-country'),
    state: $('conv-state'),
    minBytes: $('conv-min-bytes'),
    sensor: $('conv-sensor'),
    sensorField: $('conv-sensor-field'),
    limit: $('conv-limit'),
    reset: $('conv-reset'),
    error: $('conv-error'),
    count: $('conv-count'),
    held: $('conv-held'),
    prev: $('conv-prev'),
    next: $('conv-next'),
    exportCsv: $('conv-export-csv'),
    table: $('conv-table'),
    head: $('conv-head'),
    body: $('conv-body'),
    empty: $('conv-empty'),
    scroll: $('conv-scroll'),
  },
  feed: { setFlowQuery: (q) => feed.setFlowQuery(q) },
  pane: flowPane,
  onQuery: (text) => tabs && tabs.setQuery('conversations', text),
});

const endpoints = new EndpointsView({
  els: {
    view: $('endpoints-view'),
    form: $('ep-form'),
    addr: $('ep-addr'),
    port: $('ep-port'),
    proto: $('ep-proto'),
    app: $('ep-app'),
    appList: $('ep-app-list'),
    country: $('ep-country'),
    state: $('ep-state'),
    limit: $('ep-limit'),
    error: $('ep-error'),
    count: $('ep-count'),
    held: $('ep-held'),
    table: $('ep-table'),
    head: $('ep-head'),
    body: $('ep-body'),
    empty: $('ep-empty'),
    scroll: $('ep-scroll'),
  },
  onAddress: (addr) => tabs.select('conversations', { params: new URLSearchParams({ addr }) }),
  onQuery: (text) => tabs && tabs.setQuery('endpoints', text),
});

let shownView = null;
let started = false; // start() has run: the panels poll from then on
let firstShow = null; // the first view's first query, awaited before the feed starts
tabs = new Tabs({
  tabs: [$('tab-live'), $('tab-conversations'), $('tab-endpoints'), $('tab-history')],
  onShow: (view, params) => {
    if (shownView === 'conversations' && view !== 'conversations')
      conversations.hide();
    if (shownView === 'endpoints' && view !== 'endpoints')
      endpoints.hide();
    shownView = view;
    if (view === 'live') {
      tableDirty = true;
      queueFrame();
      chart.schedule();
      bandwidth.maybeDraw(true);
      refreshLivePanels();
    } else if (view === 'conversations') {
      firstShow = conversations.show(params);
    } else if (view === 'endpoints') {
      firstShow = endpoints.show(params);
    } else if (view === 'history') {
      historyView.show();
    }
  },
});

function refreshLivePanels() {
  if (!started)
    return;
  for (const panel of [alerts, dns, hosts, names])
    panel.refresh().catch((err) => console.debug('panel:', err.message));
}

function openPacketFlow(sensor, id) {
  if (tabs.current !== 'conversations')
    tabs.select('conversations');
  conversations.openFlow(sensor, id);
}

// ---- The frame loop ------------------------------------------------------------------

function queueFrame() {
  if (frameQueued)
    return;
  frameQueued = true;
  requestAnimationFrame(applyFrame);
}

function applyFrame() {
  frameQueued = false;
  if (incoming.length) {
    const rows = incoming;
    incoming = [];
    if (softPaused) {
      pending.push(...rows);
      if (pending.length > STORE_MAX) {
        pendingDropped += pending.length - STORE_MAX;
        pending = pending.slice(-STORE_MAX);
      }
    } else if (store.add(rows)) {
      tableDirty = true;
    }
  }
  // The headline and the panels at most every SUMMARY_MS: their figures are
  // 5-second rates and counters, and each change repaints the top bar.
  if (latestSummary && performance.now() - summaryAt >= SUMMARY_MS) {
    summaryAt = performance.now();
    renderSummary(latestSummary);
    latestSummary = null;
  } else if (latestSummary && !summaryTimer) {
    summaryTimer = setTimeout(() => {
      summaryTimer = null;
      queueFrame();
    }, SUMMARY_MS);
  }
  // A hidden Live view draws nothing (its rows stay in the store): the
  // Conversations view of a busy sensor should not pay for it.
  if (tableDirty && !softPaused && tabs.current === 'live') {
    tableDirty = false;
    table.render(store.newest(settings.maxRows, (r) => filters.matches(r)));
  }
  renderTableNote();
}

function renderSummary(summary) {
  setText($('stat-packets'), formatCount(summary.packets));
  // The headline is smoothed over 5 s; the chart keeps every second.
  setText($('stat-pps'), `${formatCount(Math.round(summary.pps_5s ?? summary.pps))} pkt/s`);
  setText($('stat-bps'), formatBits(summary.bps_5s ?? summary.bps));
  setText($('stat-malformed'), formatCount(summary.malformed));
  // Which clock the headline rates follow (webd says, when it has both).
  const clock = summary.rates_clock === 'arrival' ? 'arrival' : 'capture';
  if (headlineClock !== clock) {
    headlineClock = clock;
    const title = clock === 'arrival' ? 'Over the last 5 s of webd\'s clock, as packets arrive' : 'Over the last 5 s of the capture\'s clock';
    for (const id of ['stat-pps', 'stat-bps']) {
      $(id).parentElement.title = title;
      $(id).parentElement.dataset.clock = clock;
    }
  }
  breakdown.update(summary.protocols);
  drops.update(summary);
  alerts.setActive(summary.alerts);
}

function renderTableNote() {
  const parts = [];
  const shown = table.shown.length;
  parts.push(`${shown} shown (max ${settings.maxRows}) of ${formatCount(store.rows.length)} held`);
  if (filters.isActive())
    parts.push('filtered');
  if (softPaused)
    parts.push(`view paused: ${formatCount(pending.length)} new rows waiting${pendingDropped ? `, ${formatCount(pendingDropped)} dropped` : ''}`);
  setText($('table-note'), parts.join(' · '));
}

// ---- Feed -------------------------------------------------------------------------------

const feed = new Feed({
  transport: settings.transport,
  lastSeq: () => Math.max(store.newestSeq, pending.length ? pending[pending.length - 1].seq : 0),
  onStatus: (state, text) => {
    const node = $('connection-status');
    node.dataset.state = state;
    setText(node, text);
  },
  onFlows: (msg) => conversations.onFlows(msg),
  onUpdate: ({ rows, skipped, summary }) => {
    bandwidth.add({ rows, summary });
    if (summary && Array.isArray(summary.sensors))
      conversations.setSensors(summary.sensors.map((s) => String(s.name)));
    if (summary && Array.isArray(summary.sensors))
      updateSensors(summary.sensors);
    if (rows.length) {
      incoming.push(...rows);
      // A background tab gets no animation frames: keep the queue bounded.
      if (incoming.length > STORE_MAX)
        incoming = incoming.slice(-STORE_MAX);
    }
    drops.addSkipped(skipped);
    if (summary) {
      latestSummary = summary;
      chart.addSummary(summary);
      // Every update carries capd's status: a pause made elsewhere shows at once.
      capture.updateStatus(summary);
    }
    queueFrame();
  },
});

// ---- Pause, clear, status ----------------------------------------------------------------

function renderStatus() {
  const node = $('status-indicator');
  let state = 'live';
  let text = 'Live';
  if (capture.stopped && softPaused) {
    state = 'capture-stopped';
    text = 'Capture stopped · view paused';
  } else if (capture.stopped) {
    state = 'capture-stopped';
    text = 'Capture stopped';
  } else if (softPaused) {
    state = 'soft-paused';
    text = 'Paused (soft)';
  }
  node.dataset.state = state;
  node.dataset.softPaused = String(softPaused);
  node.dataset.captureStopped = String(capture.stopped);
  setText(node, text);
}

function setSoftPaused(paused) {
  softPaused = paused;
  const button = $('soft-pause');
  button.setAttribute('aria-pressed', String(paused));
  setText(button, paused ? 'Resume view' : 'Pause view');
  chart.setFrozen(paused);
  bandwidth.setFrozen(paused);
  if (!paused) {
    // Catch up with what arrived meanwhile (bounded by STORE_MAX).
    store.add(pending);
    pending = [];
    pendingDropped = 0;
    tableDirty = true;
  }
  renderStatus();
  queueFrame();
}

$('soft-pause').addEventListener('click', () => setSoftPaused(!softPaused));
capture.addEventListener('change', renderStatus);

$('clear').addEventListener('click', () => {
  store.add(pending);
  pending = [];
  pendingDropped = 0;
  store.clear();
  detail.close();
  table.select(null);
  tableDirty = true;
  queueFrame();
});

// ---- Filters and exports ---------------------------------------------------------------------

function updateExportLinks() {
  const { params, exact } = filters.toQuery();
  $('export-csv').href = apiUrl('api/export.csv', params).href;
  $('export-pcap').href = apiUrl('api/export.pcap', params).href;
  const note = $('export-note');
  note.hidden = exact;
  setText(note, exact ? '' : 'Exports include all protocols: the server cannot exclude “Other”.');
}

// After a filter change, ask the server for matching rows the page never
// held (the feed is sampled), so a narrow filter still fills the table.
let backfill = null;
async function backfillFiltered() {
  if (!filters.isActive() || softPaused)
    return;
  if (backfill)
    backfill.abort();
  backfill = new AbortController();
  const { params } = filters.toQuery();
  try {
    const data = await getJSON('api/packets', { ...params, limit: settings.maxRows }, { signal: backfill.signal });
    if (store.add(data.packets || [])) {
      tableDirty = true;
      queueFrame();
    }
  } catch (err) {
    if (err.name !== 'AbortError')
      console.debug('backfill failed:', err.message);
  }
}

filters.bind({ toggles: $('proto-toggles'), foreign: $('foreign-only'), search: $('search') });
filters.addEventListener('change', () => {
  updateExportLinks();
  tableDirty = true;
  // A filter is the user's own action: apply it even to a paused view.
  if (softPaused) {
    table.render(store.newest(settings.maxRows, (r) => filters.matches(r)));
    tableDirty = false;
  }
  queueFrame();
  backfillFiltered();
});
updateExportLinks();

$('export-chart').addEventListener('click', () => {
  const blob = new Blob([chart.toCSV()], { type: 'text/csv' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = 'wlite-pps.csv';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
});

// ---- Settings controls ---------------------------------------------------------------------

const maxRowsInput = $('max-rows');
maxRowsInput.value = String(settings.maxRows);
maxRowsInput.addEventListener('change', () => {
  const n = Math.max(10, Math.min(1000, Math.round(Number(maxRowsInput.value) || 100)));
  maxRowsInput.value = String(n);
  settings.maxRows = n;
  saveSetting('wlite-max-rows', n);
  table.setMaxRows(n);
  tableDirty = true;
  if (softPaused)
    table.render(store.newest(n, (r) => filters.matches(r)));
  queueFrame();
});

const transportSelect = $('transport');
transportSelect.value = settings.transport;
transportSelect.addEventListener('change', () => {
  settings.transport = transportSelect.value === 'ws' ? 'ws' : 'sse';
  saveSetting('wlite-transport', settings.transport);
  feed.setTransport(settings.transport);
});

// ---- Keyboard ---------------------------------------------------------------------------------

document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || !detail.isOpen() || tabs.current !== 'live')
    return;
  const tag = ev.target && ev.target.tagName;
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA')
    return;
  detail.close();
});

// ---- Start ------------------------------------------------------------------------------------

async function start() {
  renderStatus();
  // The address's view first: when it asks for flows, the feed connects with its query.
  tabs.fromHash();
  if (firstShow)
    await Promise.race([firstShow, new Promise((r) => setTimeout(r, 3000))]);
  feed.start();
  // History first, so the chart is not empty for the first minutes.
  getText('api/rates.csv').then((csv) => chart.loadHistory(csv)).catch((err) => console.debug('rates:', err.message));
  getJSON('api/packets', { limit: Math.max(settings.maxRows, 500) })
    .then((data) => {
      if (store.add(data.packets || [])) {
        tableDirty = true;
        queueFrame();
      }
    })
    .catch((err) => console.debug('packets:', err.message));
  capture.loadInterfaces();
  poll(async () => {
    const stats = await getJSON('api/stats');
    capture.updateStatus(stats);
    setText($('footer-version'), stats.version ? `wlite ${stats.version}` : '');
  }, 3000);
  poll(async () => {
    if (Date.now() - sensorsAt < 2000)
      return;
    const stats = await getJSON('api/stats');
    updateSensors(stats.sensors);
  }, 2000);
  // The side panels poll while the Live view is shown (and once when it comes back).
  started = true;
  const onLive = (fn) => () => (tabs.current === 'live' ? fn() : null);
  poll(onLive(() => alerts.refresh()), 4000);
  poll(onLive(() => dns.refresh()), 3000);
  poll(onLive(() => hosts.refresh()), 5000);
  poll(onLive(() => names.refresh()), 8000);
}

start();
