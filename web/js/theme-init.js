// Runs as a classic script in <head>, before the first paint: applies the
// remembered (or the system's) theme so a dark page never flashes white.
// It has to be a file of its own: the CSP forbids inline scripts.
(function () {
  'use strict';
  var theme = null;
  try {
    theme = localStorage.getItem('wlite-theme');
  } catch (e) {
    theme = null; // storage disabled: fall back to the system preference
  }
  if (theme !== 'dark' && theme !== 'light')
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  document.documentElement.setAttribute('data-theme', theme);
  // The view the address asks for (#conversations, #endpoints, #history), so
  // that the first layout is that view's, not the Live view's the markup
  // shows by default (the stylesheet reads it; tabs.js takes over).
  var view = /^#([a-z]+)/.exec(window.location.hash || '');
  if (view && view[1] !== 'live')
    document.documentElement.setAttribute('data-view', view[1]);
})();
