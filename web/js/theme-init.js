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
})();
