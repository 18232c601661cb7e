// Talking to capd through webd: interface list and switch, the BPF
// capture filter, and the hard pause. capd's own words are shown when it
// refuses (webd passes them on with a 400).
import { getJSON, postJSON } from './api.js';
import { el, setText } from './dom.js';

export class CaptureControls extends EventTarget {
  constructor({ select, switchButton, form, filterInput, error, message, source, pauseButton }) {
    super();
    Object.assign(this, { select, switchButton, form, filterInput, error, message, source, pauseButton });
    this.stopped = false; // capd paused (hard pause)
    this.filterEdited = false;

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.applyFilter();
    });
    filterInput.addEventListener('input', () => {
      this.filterEdited = true;
    });
    // A button, not on-change: switching what is captured should be deliberate.
    switchButton.addEventListener('click', () => this.switchInterface());
    pauseButton.addEventListener('click', () => this.toggleCapture());
  }

  async loadInterfaces() {
    let data;
    try {
      data = await getJSON('api/interfaces');
    } catch (err) {
      this.select.replaceChildren(el('option', { text: '(unavailable)', attrs: { value: '' } }));
      setText(this.message, `Interfaces: ${err.message}`);
      return;
    }
    const options = [];
    let current = '';
    for (const i of data.interfaces || []) {
      const state = i.up ? (i.running ? '' : ' (no link)') : ' (down)';
      const label = `${i.name}${i.description ? ` — ${i.description}` : ''}${state}`;
      options.push(el('option', { text: label, attrs: { value: i.name, selected: i.current === true } }));
      if (i.current)
        current = i.name;
    }
    if (!current)
      options.unshift(el('option', { text: '(not capturing live)', attrs: { value: '', selected: true } }));
    this.select.replaceChildren(...options);
  }

  async switchInterface() {
    const name = this.select.value;
    if (!name)
      return;
    await this.send({ action: 'interface', interface: name }, `Now capturing on ${name}.`);
    this.loadInterfaces();
  }

  async applyFilter() {
    const filter = this.filterInput.value.trim();
    const ok = await this.send({ action: 'filter', filter }, filter ? `Capture filter set: ${filter}` : 'Capture filter removed.');
    if (ok)
      this.filterEdited = false;
  }

  async toggleCapture() {
    const wantStop = !this.stopped;
    this.pauseButton.disabled = true;
    const ok = await this.send({ action: wantStop ? 'pause' : 'resume' }, wantStop ? 'Capture stopped.' : 'Capture resumed.');
    this.pauseButton.disabled = false;
    if (ok)
      this.setStopped(wantStop);
  }

  // POST /api/capture; shows capd's error text when refused. Filter and
  // interface refusals go to #bpf-error; a pause/resume one to the message.
  async send(body, success) {
    const filterish = body.action === 'filter' || body.action === 'interface';
    if (filterish) {
      this.error.hidden = true;
      setText(this.error, '');
    }
    this.message.classList.remove('error');
    try {
      await postJSON('api/capture', body);
      setText(this.message, success);
      return true;
    } catch (err) {
      const text = (err.body && err.body.error) || err.message;
      if (filterish) {
        setText(this.error, text);
        this.error.hidden = false;
        setText(this.message, '');
      } else {
        setText(this.message, text);
        this.message.classList.add('error');
      }
      return false;
    }
  }

  setStopped(stopped) {
    if (stopped === this.stopped)
      return;
    this.stopped = stopped;
    this.pauseButton.setAttribute('aria-pressed', String(stopped));
    setText(this.pauseButton, stopped ? 'Resume capture' : 'Stop capture');
    this.dispatchEvent(new Event('change'));
  }

  // From /api/stats: capd's status (paused, filter, source) per sensor.
  updateStatus(stats) {
    const sensors = stats.sensors || [];
    const statuses = sensors.map((s) => s.capd_status).filter(Boolean);
    if (!statuses.length)
      return;
    // The control channel talks to one capd; with several, any paused one counts.
    this.setStopped(statuses.some((s) => s.paused === true));
    const first = statuses[0];
    const what = first.source === 'interface' ? `live on ${first.interface}` : `replaying ${String(first.file || '').split('/').pop()}`;
    setText(this.source, `${what}${first.finished ? ' (finished)' : ''}`);
    this.source.title = sensors.map((s) => `${s.name}: ${s.capd_status ? s.capd_status.source : '?'}`).join('\n');
    // Show capd's filter unless the user is typing a new one.
    if (!this.filterEdited && document.activeElement !== this.filterInput && typeof first.filter === 'string')
      this.filterInput.value = first.filter;
  }
}
