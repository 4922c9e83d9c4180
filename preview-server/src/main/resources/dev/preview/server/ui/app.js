// The dashboard's only script: live refresh of the #live region, auto-submitting the state filter,
// and a confirmation before destructive actions. The page works without it (reload to refresh).
(function () {
  'use strict';
  function live() {
    var region = document.getElementById('live');
    if (!region) { return; }
    var every = parseInt(region.getAttribute('data-refresh'), 10) || 5000;
    var src = region.getAttribute('data-src');
    var busy = false;
    // the fingerprint of what the region shows: replaced only when the server's answer differs
    var version = region.getAttribute('data-version');
    function refresh() {
      if (busy || document.visibilityState === 'hidden') { return; }
      busy = true;
      fetch(src, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (r) {
          if (r.status === 404) { window.location.assign('/ui/'); return null; }
          var v = r.headers.get('X-Live-Version');
          if (!r.ok || v === version) { return null; }
          version = v;
          return r.text();
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            var focused = document.activeElement && region.contains(document.activeElement);
            region.innerHTML = html;
            if (focused) { region.focus(); }
          }
        })
        .catch(function () { /* the next tick tries again */ })
        .then(function () { busy = false; });
    }
    window.setInterval(refresh, every);
    document.addEventListener('visibilitychange', refresh);
  }
  function filters() {
    document.querySelectorAll('select[data-autosubmit]').forEach(function (s) {
      s.addEventListener('change', function () { s.form.submit(); });
    });
  }
  function confirmations() {
    document.querySelectorAll('form[data-confirm]').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
      });
    });
  }
  document.addEventListener('DOMContentLoaded', function () { live(); filters(); confirmations(); });
})();
