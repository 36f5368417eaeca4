/** The dashboard page and its script, served as they are (plain HTML and ES5, no build step). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Recoup · Aging dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  form { margin-bottom: 16px; display: flex; gap: 8px; }
  input { flex: 0 1 420px; padding: 6px 8px; font: inherit; }
  table { border-collapse: collapse; margin: 12px 0; }
  th, td { padding: 6px 10px; border-bottom: 1px solid #dde1e8; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  tr.total td { font-weight: 600; border-top: 2px solid #1d2330; }
  .metrics { display: flex; gap: 24px; margin: 12px 0; }
  .metric b { display: block; font-size: 22px; }
  #status { color: #687083; }
  #status.live { color: #12805c; }
  #status.error { color: #b42318; }
</style>
</head>
<body>
<h1>Aging</h1>
<form id="key-form">
  <input id="api-key" type="password" autocomplete="off" placeholder="API key (rk_…)" aria-label="API key">
  <button type="submit">Connect</button>
</form>
<div id="status">Not connected</div>
<div class="metrics">
  <div class="metric">DSO (standard)<b id="dso-standard">–</b></div>
  <div class="metric">DSO (countback)<b id="dso-countback">–</b></div>
  <div class="metric">CEI (90 days)<b id="cei">–</b></div>
  <div class="metric">% current<b id="pct-current">–</b></div>
</div>
<table id="grid"><thead></thead><tbody></tbody></table>
<div id="as-of"></div>
<script id="dashboard-config" type="application/json">{"endpoint": __ENDPOINT__}</script>
<script src="/dashboard/graphql-ws.min.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_SCRIPT = `/* Aging dashboard: plain browser script, no build step. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('dashboard-config').textContent);
  var httpUrl = new URL(cfg.endpoint, location.href);
  var wsUrl = new URL(httpUrl.href);
  wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  var STORAGE = 'recoup.apiKey';
  var SUBSCRIPTION =
    'subscription { agingChanged(groupBy: [ENTITY]) { reasons report { asOf buckets { index label } ' +
    'rows { key currency group { entityCode entityName } cells { bucket amount { amount } } total { amount } } ' +
    'totals { key currency cells { bucket amount { amount } } total { amount } } } } }';
  var client = null;
  var key = null;

  function $(id) { return document.getElementById(id); }
  function status(text, cls) { var s = $('status'); s.textContent = text; s.className = cls || ''; }
  function text(id, v) { $(id).textContent = v === null || v === undefined ? '–' : String(v); }
  function cell(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }

  function render(report) {
    var head = $('grid').tHead, body = $('grid').tBodies[0];
    head.textContent = ''; body.textContent = '';
    var hr = document.createElement('tr');
    hr.appendChild(cell('th', 'Entity'));
    hr.appendChild(cell('th', 'Currency'));
    report.buckets.forEach(function (b) { hr.appendChild(cell('th', b.label)); });
    hr.appendChild(cell('th', 'Total'));
    head.appendChild(hr);
    function line(label, row, cls) {
      var tr = document.createElement('tr');
      if (cls) tr.className = cls;
      tr.setAttribute('data-currency', row.currency);
      tr.appendChild(cell('td', label));
      tr.appendChild(cell('td', row.currency));
      row.cells.forEach(function (c) { var td = cell('td', c.amount.amount); td.setAttribute('data-bucket', String(c.bucket)); tr.appendChild(td); });
      var t = cell('td', row.total.amount); t.className = 'row-total'; tr.appendChild(t);
      body.appendChild(tr);
    }
    report.rows.forEach(function (r) { line(r.group.entityCode + ' · ' + r.group.entityName, r, 'row'); });
    report.totals.forEach(function (r) { line('Total', r, 'total'); });
    text('as-of', 'As of ' + report.asOf);
  }

  function minusDays(iso, n) {
    var d = new Date(iso + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() - n);
    return d.toISOString().slice(0, 10);
  }

  function refreshMetrics(asOf) {
    var query = 'query($from: Date!) { dso { standard countback percentCurrent } cei(from: $from) { cei } }';
    return fetch(httpUrl.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
      body: JSON.stringify({ query: query, variables: { from: minusDays(asOf, 90) } })
    }).then(function (res) { return res.json(); }).then(function (body) {
      if (!body.data) return;
      text('dso-standard', body.data.dso.standard);
      text('dso-countback', body.data.dso.countback);
      text('pct-current', body.data.dso.percentCurrent);
      text('cei', body.data.cei.cei);
    }).catch(function () { /* the grid stays live; metrics retry on the next event */ });
  }

  function connect() {
    if (client) client.dispose();
    status('Connecting…');
    client = graphqlWs.createClient({
      url: wsUrl.href,
      connectionParams: { Authorization: 'Bearer ' + key },
      retryAttempts: 5,
      shouldRetry: function (e) { return !(e && e.code === 4403); }
    });
    client.subscribe({ query: SUBSCRIPTION }, {
      next: function (msg) {
        if (msg.errors && msg.errors.length) { status(msg.errors[0].message, 'error'); return; }
        var change = msg.data.agingChanged;
        render(change.report);
        status('Live · last update ' + new Date().toLocaleTimeString() + ' (' + change.reasons.join(', ') + ')', 'live');
        refreshMetrics(change.report.asOf);
      },
      error: function (err) {
        status(err && err.code === 4403 ? 'That API key was refused' : 'Disconnected', 'error');
      },
      complete: function () { status('Disconnected', 'error'); }
    });
  }

  $('key-form').addEventListener('submit', function (e) {
    e.preventDefault();
    key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(STORAGE, key);
    connect();
  });
  key = sessionStorage.getItem(STORAGE);
  if (key) { $('api-key').value = key; connect(); }
})();
`;
