// Dark and light themes. theme-init.js has already applied the remembered
// (or system) theme before the first paint; this wires the toggle and
// follows the system while the user has not chosen.
import { loadSetting, saveSetting } from './dom.js';

const KEY = 'wlite-theme';

export function currentTheme() {
  return document.documentElement.getAttribute('data-theme') === 'light' ? 'light' : 'dark';
}

function apply(theme, button, onChange) {
  document.documentElement.setAttribute('data-theme', theme);
  // The button names the theme it switches to.
  button.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
  button.setAttribute('aria-pressed', String(theme === 'light'));
  button.dataset.theme = theme;
  onChange(theme);
}

export function bindTheme(button, onChange = () => {}) {
  apply(currentTheme(), button, onChange);
  button.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    saveSetting(KEY, next);
    apply(next, button, onChange);
  });
  const media = window.matchMedia('(prefers-color-scheme: light)');
  media.addEventListener('change', (ev) => {
    const saved = loadSetting(KEY, null);
    if (saved !== 'dark' && saved !== 'light')
      apply(ev.matches ? 'light' : 'dark', button, onChange);
  });
}
