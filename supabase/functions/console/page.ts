/**
 * The console page. Static markup only: no inline script, no inline style, no data and
 * no secret. Everything dynamic comes from app.js over the JSON API with the signed-in
 * user's own token. URLs are relative, so the page works wherever the function is mounted
 * (/functions/v1/console/ locally and hosted).
 */

/** A confirm box with a required reason (app.js openConfirm drives it by its id prefix). */
const confirmBox = (id: string, recorded: string, buttonClass: string, buttonText: string) => `<div id="${id}-confirm" class="confirm" hidden>
      <p id="${id}-question"></p>
      <label for="${id}-reason">Reason (required, ${recorded})</label>
      <textarea id="${id}-reason" rows="2" maxlength="500"></textarea>
      <div class="row">
        <button type="button" id="${id}-confirm-button" class="${buttonClass}" disabled>${buttonText}</button>
        <button type="button" id="${id}-cancel" class="ghost">Cancel</button>
      </div>
    </div>`;

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Switchyard console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="vendor/uplot.css">
<link rel="stylesheet" href="app.css">
<script src="vendor/uplot.js" defer></script>
<script src="app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>Switchyard <span class="sub">control plane</span></h1>
  <div id="autonomy" class="badge" data-state="unknown">autonomy: unknown</div>
  <div class="who" id="who" hidden>
    <span id="who-name"></span> <span id="who-roles" class="muted"></span>
    <button type="button" id="signout" class="ghost">Sign out</button>
  </div>
</header>

<main>
<section id="signin" class="panel narrow">
  <h2>Sign in</h2>
  <p class="muted">Paste your Switchyard access token (the JWT your project's auth issued you).
  It is kept in this tab's session storage only and sent to this console's API and, for a
  single-use stream ticket, to the Live Feed (never in a URL).</p>
  <form id="signin-form" autocomplete="off">
    <label for="token">Access token</label>
    <textarea id="token" name="token" rows="4" spellcheck="false" required></textarea>
    <button type="submit" id="signin-button">Sign in</button>
  </form>
  <p id="signin-error" class="error" role="alert" hidden></p>
</section>

<div id="app" hidden>
<p id="status" class="status" role="status" aria-live="polite"></p>

<div id="overview">
  <p><a href="#/alerts" id="alerts-link">Alerts</a></p>
  <section id="switchboard" class="panel">
    <h2>Switchboard</h2>
    <div id="killswitch" class="killswitch" data-state="unknown">
      <div>
        <div class="ks-label">Kill switch <code>autonomy.emergencyStop</code></div>
        <div id="ks-state" class="ks-state">unknown</div>
      </div>
      <button type="button" id="ks-button" class="danger" disabled>Emergency stop</button>
    </div>
    ${confirmBox("ks", "recorded in the flag history and audit log", "danger", "Confirm")}
    <p id="ks-hint" class="muted" hidden></p>
    <table class="grid" id="flags-table">
      <thead><tr><th>Flag</th><th>Scope</th><th>Value</th><th>Reason</th><th>Updated</th></tr></thead>
      <tbody></tbody>
    </table>
    <details id="flag-editor">
      <summary>Change a flag</summary>
      <form id="flag-form" autocomplete="off">
        <label for="flag-key">Flag</label>
        <select id="flag-key" required></select>
        <label for="flag-scope">Scope</label>
        <input id="flag-scope" value="global" required>
        <label for="flag-value">Value</label>
        <input id="flag-value" required>
        <label for="flag-reason">Reason (required)</label>
        <input id="flag-reason" required minlength="3" maxlength="500">
        <button type="submit">Save flag</button>
      </form>
      <p id="flag-help" class="muted"></p>
    </details>
    <h3>Recent changes</h3>
    <ul id="flag-history" class="log"></ul>
  </section>

  <section id="feed" class="panel">
    <h2>Live Feed <span id="feed-status" class="dot" data-state="closed" title="stream state">closed</span></h2>
    <ol id="feed-list" class="feed"></ol>
  </section>

  <section id="slo" class="panel wide">
    <h2>SLOs per portal <span class="muted" id="slo-window"></span></h2>
    <div id="slo-tiles" class="tiles"></div>
  </section>

  <section id="outbox" class="panel">
    <h2>Outbox</h2>
    <div class="figures">
      <div><span class="fig" id="ob-depth">–</span><span class="cap">queue depth</span></div>
      <div><span class="fig" id="ob-oldest">–</span><span class="cap">oldest undelivered</span></div>
      <div><span class="fig" id="ob-lag">–</span><span class="cap">lag p95 (15 min)</span></div>
      <div><span class="fig" id="ob-dead">–</span><span class="cap">in DLQ</span></div>
    </div>
    <div id="ob-chart" class="chart"></div>
  </section>

  <section id="replication" class="panel">
    <h2>Standby <button type="button" id="replication-refresh" class="ghost small">Refresh</button></h2>
    <p id="replication-note" class="muted">Replication lag per slot; past <span id="repl-max">–</span> the autopilot raises <code>dr.lag</code>.</p>
    <table class="grid" id="replication-table">
      <thead><tr><th>Slot</th><th>State</th><th>Lag (bytes)</th><th>Lag (s)</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="quarantine" class="panel wide">
    <h2>Quarantine <button type="button" id="quarantine-refresh" class="ghost small">Refresh</button></h2>
    <p class="muted">Tenants, subscriptions and detectors that kept failing, stopped on their own until a human
    releases them (events: the dead letter queue below, <span id="q-dlq">–</span> dead).</p>
    <p id="quarantine-result" class="status" role="status"></p>
    <table class="grid" id="quarantine-table">
      <thead><tr><th>Since</th><th>Kind</th><th>Subject</th><th>Reason</th><th>Parked</th><th>State</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
    ${confirmBox("q", "recorded on the quarantine and in the audit log", "warn", "Release")}
  </section>

  <section id="dlq" class="panel wide">
    <h2>Dead letter queue <button type="button" id="dlq-refresh" class="ghost small">Refresh</button></h2>
    <p id="dlq-result" class="status" role="status"></p>
    <table class="grid" id="dlq-table">
      <thead><tr><th>Dead at</th><th>Event</th><th>Aggregate</th><th>Attempts</th><th>Last error</th><th>State</th><th>Trace</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
    <h3>Replay requests</h3>
    <table class="grid" id="replay-table">
      <thead><tr><th>Created</th><th>By</th><th>Kind</th><th>Batch</th><th>Status</th><th>Outcome</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</div>

<section id="alerts-view" class="panel wide" hidden>
  <p><a href="#/">&larr; Back to the overview</a></p>
  <h2>Alerts <button type="button" id="alerts-refresh" class="ghost small">Refresh</button></h2>
  <p id="alerts-note" class="muted" role="status"></p>
  <table class="grid" id="alerts-table">
    <thead><tr><th>Raised</th><th>Severity</th><th>Source</th><th>Summary</th><th>State</th><th>Trace</th></tr></thead>
    <tbody></tbody>
  </table>
</section>

<section id="trace-view" class="panel wide" hidden>
  <p><a href="#/" id="trace-back">&larr; Back to the overview</a></p>
  <h2>Trace <code id="trace-id"></code></h2>
  <p id="trace-note" class="muted"></p>
  <div id="trace-revert" hidden>
    <p id="trace-revert-note"></p>
    <button type="button" id="trace-revert-btn" class="danger"></button>
    <p id="trace-revert-result" role="status"></p>
  </div>
  <h3>Spans</h3>
  <div id="waterfall" class="waterfall"></div>
  <h3>Audit rows</h3>
  <table class="grid" id="trace-audit">
    <thead><tr><th>When</th><th>Action</th><th>Target</th><th>Who</th><th>Reason</th><th>Span</th></tr></thead>
    <tbody></tbody>
  </table>
  <h3>Outbox events</h3>
  <table class="grid" id="trace-outbox">
    <thead><tr><th>Created</th><th>Event</th><th>Aggregate</th><th>State</th><th>Attempts</th><th>Delivered</th></tr></thead>
    <tbody></tbody>
  </table>
  <h3>DLQ entries</h3>
  <table class="grid" id="trace-dlq">
    <thead><tr><th>Dead at</th><th>Event</th><th>State</th><th>Attempts</th><th>Last error</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
</div>
</main>
</body>
</html>
`;
