import { REQUEST_HEADER } from './auth';

/**
 * The status page: one HTML document, no external assets. The server renders the frame; a small
 * script fills it from /api/status every two seconds and sends the buttons' POSTs (with the
 * header that proves they come from this page). Text from DICOM headers is only ever set as
 * text (textContent), never parsed as HTML.
 */
export function statusPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bodyroute</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
  header { background: #1f3a5f; color: #fff; padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  main { padding: 8px 16px 32px; }
  section { background: #fff; border: 1px solid #d8dde3; border-radius: 6px; margin: 12px 0; padding: 8px 12px; overflow-x: auto; }
  h2 { font-size: 15px; margin: 4px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff3; vertical-align: middle; white-space: nowrap; }
  td.wrap { white-space: normal; min-width: 12em; }
  th { font-weight: 600; color: #4a5561; font-size: 12px; }
  button { font: inherit; padding: 2px 10px; border: 1px solid #8a96a3; border-radius: 4px; background: #fff; cursor: pointer; }
  button:hover { background: #eef2f6; }
  .state-up { color: #17753a; font-weight: 600; } .state-down { color: #b42318; font-weight: 600; } .state-paused { color: #a15c07; font-weight: 600; }
  .flag { color: #a15c07; font-weight: 600; }
  .muted { color: #6b7785; }
  img.thumb { width: 64px; height: 64px; image-rendering: pixelated; background: #000; display: block; }
  #message { min-height: 1.4em; color: #1f3a5f; }
</style>
</head>
<body>
<header><h1>bodyroute</h1><span id="version"></span><span id="model"></span><span id="ready"></span></header>
<main>
<div id="message" role="status"></div>
<section><h2>Destinations</h2><table id="destinations"><thead><tr><th>destination</th><th>state</th><th>queued</th><th>oldest pending</th><th>delivered</th><th>failed attempts</th><th>dead letters</th><th>last error</th><th></th></tr></thead><tbody></tbody></table></section>
<section><h2>Dead letters <span id="dead-total" class="muted"></span> <button id="requeue-all">requeue all</button></h2><table id="dead-letters"><thead><tr><th>time</th><th>destination</th><th>SOP Instance UID</th><th>code</th><th>status</th><th>reason</th><th></th></tr></thead><tbody></tbody></table></section>
<section><h2>Recent series</h2><table id="series"><thead><tr><th></th><th>last image</th><th>calling AE</th><th>modality</th><th>Series Description</th><th>images</th><th>regions</th><th>confidence</th><th>sent to</th><th>correct the region</th></tr></thead><tbody></tbody></table></section>
<section><h2>Since the start</h2><table id="counts"><thead><tr><th>modality</th><th>region</th><th>objects</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
(function () {
  'use strict';
  var regions = [];
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function cell(row, text, cls) { var td = el('td', text, cls); row.appendChild(td); return td; }
  function ago(ms) { if (ms === undefined || ms === null) return ''; var s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h'; }
  function time(ms) { return new Date(ms).toLocaleTimeString(); }
  function say(text) { document.getElementById('message').textContent = text; }
  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', '${REQUEST_HEADER}': '1' }, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; }); })
      .then(function (j) { refresh(); return j; }, function (e) { say('failed: ' + e.message); throw e; });
  }
  function button(label, onclick) { var b = el('button', label); b.type = 'button'; b.addEventListener('click', onclick); return b; }
  function fill(id, rows, render) { var tbody = document.querySelector('#' + id + ' tbody'); tbody.textContent = ''; rows.forEach(function (r) { var tr = el('tr'); render(tr, r); tbody.appendChild(tr); }); }
  function render(s) {
    regions = s.regions;
    document.getElementById('version').textContent = 'version ' + s.version;
    document.getElementById('model').textContent = s.model ? 'model ' + s.model + ' on ' + s.classifierProvider : 'classifier off';
    document.getElementById('ready').textContent = s.ready ? 'ready' : 'starting';
    fill('destinations', s.destinations, function (tr, d) {
      tr.dataset.destination = d.name;
      cell(tr, d.name + ' (' + d.type + ')');
      cell(tr, d.state, 'state-' + d.state);
      cell(tr, d.queued);
      cell(tr, ago(d.oldestReceivedAt));
      cell(tr, d.delivered); cell(tr, d.failedAttempts); cell(tr, d.deadLettered);
      cell(tr, d.lastError ? d.lastError.code + (d.lastError.status ? ' ' + d.lastError.status : '') + ': ' + d.lastError.message + ' (' + ago(d.lastError.at) + ' ago)' : '', 'wrap');
      var act = cell(tr, '');
      act.appendChild(d.state === 'paused'
        ? button('resume', function () { post('/api/destinations/' + encodeURIComponent(d.name) + '/resume').then(function () { say(d.name + ' resumed'); }); })
        : button('pause', function () { post('/api/destinations/' + encodeURIComponent(d.name) + '/pause').then(function () { say(d.name + ' paused: it keeps queueing and sends nothing'); }); }));
    });
    document.getElementById('dead-total').textContent = '(' + s.deadLettersTotal + ')';
    fill('dead-letters', s.deadLetters, function (tr, d) {
      tr.dataset.id = d.id;
      cell(tr, new Date(d.at).toLocaleString()); cell(tr, d.destination); cell(tr, d.sopInstanceUid); cell(tr, d.code); cell(tr, d.status || ''); cell(tr, d.reason, 'wrap');
      cell(tr, '').appendChild(button('requeue', function () { post('/api/dead-letters/requeue', { destination: d.destination, id: d.id }).then(function (j) { say(j.requeued + ' requeued'); }); }));
    });
    fill('series', s.series, function (tr, x) {
      tr.dataset.series = x.seriesInstanceUid;
      var t = cell(tr, '');
      if (x.hasThumbnail) { var img = el('img', null, 'thumb'); img.alt = 'middle slice as the classifier saw it'; img.src = '/api/series/' + encodeURIComponent(x.seriesInstanceUid) + '/thumbnail.png'; t.appendChild(img); }
      cell(tr, time(x.lastAt)); cell(tr, x.callingAeTitle); cell(tr, x.modality); cell(tr, x.seriesDescription, 'wrap'); cell(tr, x.images);
      var r = cell(tr, x.regions.join(', ') + (x.correctedRegion ? ' → ' + x.correctedRegion + ' (corrected)' : ''));
      if (x.headerDisagrees) { r.appendChild(el('div', 'header says ' + x.headerRegions.join(', '), 'flag')); }
      cell(tr, x.confidence === undefined || x.confidence === null ? '' : x.confidence.toFixed(2));
      cell(tr, x.destinations.join(', '));
      var c = cell(tr, '');
      var sel = el('select'); sel.setAttribute('aria-label', 'corrected region');
      regions.forEach(function (g) { var o = el('option', g); o.value = g; sel.appendChild(o); });
      if (regions.indexOf(x.correctedRegion || x.regions[0]) >= 0) sel.value = x.correctedRegion || x.regions[0];
      c.appendChild(sel);
      c.appendChild(button('correct', function () { post('/api/series/' + encodeURIComponent(x.seriesInstanceUid) + '/correction', { region: sel.value }).then(function (j) { say('correction recorded (' + j.rows + ' rows in corrections.csv)'); }); }));
    });
    fill('counts', s.counts, function (tr, c) { cell(tr, c.modality); cell(tr, c.region); cell(tr, c.objects); });
  }
  function refresh() {
    // a select an operator is using is not redrawn under them
    if (document.activeElement && document.activeElement.tagName === 'SELECT') return;
    fetch('/api/status').then(function (r) { return r.json(); }).then(render, function (e) { say('cannot reach bodyroute: ' + e.message); });
  }
  document.getElementById('requeue-all').addEventListener('click', function () { post('/api/dead-letters/requeue', {}).then(function (j) { say(j.requeued + ' requeued'); }); });
  refresh();
  setInterval(refresh, 2000);
})();
</script>
</body>
</html>
`;
}
