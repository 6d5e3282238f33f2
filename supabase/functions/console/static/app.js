// Switchyard console (browser script). Plain JS, no framework, no inline anything (CSP).
// The only credential it ever holds is the signed-in user's own access token, kept in
// sessionStorage (this tab only) and sent to this console's API and the Live Feed.
// Nothing here polls: panels load at sign-in, on the operator's actions, and when Live Feed
// events arrive (the feed itself is Server-Sent Events).
"use strict";

(() => {
  const TOKEN_KEY = "switchyard.console.token";
  const FEED_MAX = 200;
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let me = null;
  let feedSource = null;
  let lastFeedId = 0;
  let pendingRefresh = null;
  let switchboardState = null;
  const charts = new Map();

  // ---------------------------------------------------------------- helpers

  /** Builds an element; children are nodes or text (never parsed as HTML). */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const fmtTime = (v) => (v ? new Date(v).toLocaleTimeString() : "–");
  const fmtDateTime = (v) => (v ? new Date(v).toLocaleString() : "–");
  const pct = (v, digits = 2) => (v === null || v === undefined ? "–" : `${(Number(v) * 100).toFixed(digits)}%`);
  const ms = (v) => {
    if (v === null || v === undefined) return "–";
    const n = Number(v);
    return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
  };
  const short = (id) => (id ? String(id).slice(0, 8) : "–");
  const traceHref = (id) => `#/trace/${encodeURIComponent(id)}`;

  /** A panel's one-line result of the operator's last action. */
  function showResult(id, text, kind) {
    const p = $(id);
    p.textContent = text;
    p.dataset.kind = kind;
  }

  function setStatus(text, kind) {
    const s = $("status");
    s.textContent = text || "";
    s.dataset.kind = kind || "info";
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(path, body) {
    const init = {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}` },
      cache: "no-store",
      credentials: "omit",
    };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`api/${path}`, init);
    let data = null;
    try {
      data = await res.json();
    } catch { /* not JSON */ }
    if (res.status === 401 && me) {
      signOut(`Signed out: ${(data && (data.detail || data.title)) || "the token is no longer valid"}`);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  function describe(err) {
    if (err instanceof ApiError) {
      const code = err.problem && err.problem.code ? ` (${err.problem.code})` : "";
      return `${err.message}${code}`;
    }
    return err && err.message ? err.message : String(err);
  }

  /** A panel's body when the caller's role may not read it, or it failed. */
  function panelProblem(panelId, err) {
    const panel = $(panelId);
    let note = panel.querySelector(".panel-problem");
    if (!note) {
      note = h("p", { class: "panel-problem error" });
      panel.querySelector("h2").after(note);
    }
    note.textContent = err instanceof ApiError && err.status === 403
      ? `Your role cannot see this: ${describe(err)}`
      : `Could not load: ${describe(err)}`;
  }
  function panelOk(panelId) {
    const note = $(panelId).querySelector(".panel-problem");
    if (note) note.remove();
  }
  /** A panel's data from the API, or null with the panel's problem note shown instead. */
  async function panelApi(panelId, path = panelId) {
    try {
      const data = await api(path);
      panelOk(panelId);
      return data;
    } catch (e) {
      panelProblem(panelId, e);
      return null;
    }
  }

  // ---------------------------------------------------------------- sign-in

  async function signIn(raw) {
    const candidate = raw.trim().replace(/^Bearer\s+/i, "");
    if (!candidate) return;
    const err = $("signin-error");
    err.hidden = true;
    token = candidate;
    try {
      const data = await api("me");
      me = data.principal;
    } catch (e) {
      token = null;
      me = null;
      sessionStorage.removeItem(TOKEN_KEY);
      err.textContent = `Sign-in refused: ${describe(e)}`;
      err.hidden = false;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    start();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    me = null;
    if (feedSource) feedSource.close();
    feedSource = null;
    lastFeedId = 0;
    if (pendingRefresh) clearTimeout(pendingRefresh);
    pendingRefresh = null;
    for (const c of charts.values()) c.destroy();
    charts.clear();
    for (const id of ["feed-list", "slo-tiles", "flag-history", "waterfall"]) $(id).replaceChildren();
    for (const t of document.querySelectorAll("table.grid tbody")) t.replaceChildren();
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    setBadge(null);
    const err = $("signin-error");
    err.textContent = message || "";
    err.hidden = !message;
  }

  function start() {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = me.name;
    $("who-roles").textContent = me.roles.length ? `(${me.roles.join(", ")})` : "(no roles)";
    route();
    openFeed();
    refreshAll();
  }

  // ---------------------------------------------------------------- routing

  function route() {
    const m = /^#\/trace\/([^/]+)$/.exec(location.hash);
    // #/alerts: where an alert without a trace links (autopilot/alerts.ts)
    const alertsView = /^#\/alerts\/?$/.test(location.hash);
    $("overview").hidden = !!m || alertsView;
    $("trace-view").hidden = !m;
    $("alerts-view").hidden = !alertsView;
    if (m && me) loadTrace(decodeURIComponent(m[1]));
    if (alertsView && me) loadAlerts();
  }

  async function loadAlerts() {
    const note = $("alerts-note");
    let data;
    try {
      data = await api("alerts");
    } catch (e) {
      note.textContent = e.message || String(e);
      return;
    }
    const body = $("alerts-table").querySelector("tbody");
    body.replaceChildren(...data.alerts.map((a) => h("tr", { dataset: { id: a.id, severity: a.severity } },
      h("td", {}, fmtDateTime(a.created_at)),
      h("td", {}, a.severity),
      h("td", {}, a.source),
      h("td", {}, a.summary),
      h("td", {}, a.resolved_at ? `resolved ${fmtDateTime(a.resolved_at)}` : "open"),
      h("td", {}, a.trace_id ? h("a", { href: traceHref(a.trace_id) }, short(a.trace_id)) : "–"),
    )));
    note.textContent = data.alerts.length ? `${data.alerts.filter((a) => !a.resolved_at).length} open` : "No alerts.";
  }

  // ---------------------------------------------------------------- switchboard

  function setBadge(sb) {
    const badge = $("autonomy");
    if (!sb) {
      badge.dataset.state = "unknown";
      badge.textContent = "autonomy: unknown";
      return;
    }
    badge.dataset.state = sb.emergency_stop ? "halted" : "running";
    badge.textContent = sb.emergency_stop ? "autonomy: HALTED" : `autonomy: running (${sb.mode})`;
  }

  async function loadSwitchboard() {
    const sb = await panelApi("switchboard");
    if (!sb) return;
    switchboardState = sb;
    setBadge(sb);
    const ks = $("killswitch");
    ks.dataset.state = sb.emergency_stop ? "halted" : "running";
    $("ks-state").textContent = sb.emergency_stop
      ? "HALTED: machine principals may not write"
      : `running: mode ${sb.mode}, agents ${sb.agents_enabled ? "on" : "off"}`;
    const btn = $("ks-button");
    btn.textContent = sb.emergency_stop ? "Resume autonomy" : "Emergency stop";
    btn.className = sb.emergency_stop ? "resume" : "danger";
    btn.disabled = !sb.can_stop;
    $("ks-hint").hidden = sb.can_stop;
    $("ks-hint").textContent = sb.can_stop ? "" : "Flipping the kill switch needs flags.emergency_stop.write (super_admin).";

    const tbody = $("flags-table").querySelector("tbody");
    tbody.replaceChildren(...sb.rows.map((r) =>
      h("tr", { dataset: { key: r.key, scope: r.scope }, class: r.key === "autonomy.emergencyStop" ? "kill-row" : "" },
        h("td", {}, h("code", { text: r.key })),
        h("td", { text: r.scope }),
        h("td", { class: "value", text: JSON.stringify(r.value) }),
        h("td", { text: r.reason || "" }),
        h("td", { class: "muted", text: `${fmtDateTime(r.updated_at)} ${r.updated_by ? `by ${r.updated_by}` : ""}` }))
    ));

    const select = $("flag-key");
    const current = select.value;
    const editable = sb.definitions.filter((d) => d.writable && d.key !== "autonomy.emergencyStop");
    select.replaceChildren(...editable.map((d) => h("option", { value: d.key, text: d.key })));
    if (editable.some((d) => d.key === current)) select.value = current;
    $("flag-editor").hidden = editable.length === 0;
    describeFlag();

    $("flag-history").replaceChildren(...sb.history.map((c) =>
      h("li", {},
        h("span", { class: "muted", text: fmtDateTime(c.changed_at) }), " ",
        h("code", { text: `${c.key}@${c.scope}` }), ` ${c.op}: ${c.old_value ?? "∅"} → ${c.new_value ?? "∅"} by ${c.changed_by}`,
        c.reason ? h("em", { text: ` — ${c.reason}` }) : null,
        c.trace_id ? [" ", h("a", { href: traceHref(c.trace_id), class: "trace-link", text: "trace" })] : null)
    ));
  }

  function describeFlag() {
    const sb = switchboardState;
    const key = $("flag-key").value;
    const d = sb && sb.definitions.find((x) => x.key === key);
    $("flag-help").textContent = d
      ? `${d.description}. Type ${d.value_type}${d.allowed_values ? ` (${d.allowed_values.join(" | ")})` : ""}; scopes: ${d.allowed_scopes.join(", ")}; default ${d.default_value}.`
      : "";
  }

  // A confirm box (page.ts confirmBox): its question, an empty reason, the button enabled
  // once the reason has 3 characters.
  function openConfirm(prefix, question) {
    $(`${prefix}-question`).textContent = question;
    $(`${prefix}-reason`).value = "";
    $(`${prefix}-confirm-button`).disabled = true;
    $(`${prefix}-confirm`).hidden = false;
    $(`${prefix}-reason`).focus();
  }

  let ksEngage = true;
  function askKillSwitch() {
    if (!switchboardState) return;
    ksEngage = !switchboardState.emergency_stop;
    $("ks-confirm-button").textContent = ksEngage ? "Confirm emergency stop" : "Confirm resume";
    $("ks-confirm-button").className = ksEngage ? "danger" : "resume";
    $("ks-button").disabled = true;
    openConfirm("ks", ksEngage
      ? "Stop autonomy now? Every write by a machine principal (agents, autopilot, dlq, n8n, ci) is refused from the next statement on, until a human resumes."
      : "Resume autonomous operation? Machine principals may write again.");
  }

  function cancelKillSwitch() {
    $("ks-confirm").hidden = true;
    $("ks-reason").value = "";
    $("ks-button").disabled = !(switchboardState && switchboardState.can_stop);
  }

  async function confirmKillSwitch() {
    const reason = $("ks-reason").value.trim();
    if (reason.length < 3) return;
    $("ks-confirm-button").disabled = true;
    try {
      const r = await api("kill-switch", { engage: ksEngage, reason });
      setStatus(r.emergency_stop ? "Emergency stop engaged: autonomy is halted." : "Autonomy resumed.", r.emergency_stop ? "bad" : "good");
      $("ks-confirm").hidden = true;
    } catch (e) {
      setStatus(`Kill switch refused: ${describe(e)}`, "bad");
      $("ks-confirm-button").disabled = false;
      return;
    }
    await loadSwitchboard();
  }

  async function saveFlag(ev) {
    ev.preventDefault();
    const body = {
      key: $("flag-key").value,
      scope: $("flag-scope").value.trim() || "global",
      value: $("flag-value").value.trim(),
      reason: $("flag-reason").value.trim(),
    };
    try {
      const r = await api("flags", body);
      setStatus(`Saved ${r.flag.key}@${r.flag.scope} = ${JSON.stringify(r.flag.value)}`, "good");
      $("flag-value").value = "";
      $("flag-reason").value = "";
    } catch (e) {
      setStatus(`Flag not saved: ${describe(e)}`, "bad");
    }
    await loadSwitchboard();
  }

  // ---------------------------------------------------------------- Live Feed

  function feedRow(row) {
    const d = row.detail || {};
    const extra = d.status ? ` ${d.status}` : d.code ? ` ${d.code}` : "";
    return h("li", { dataset: { id: row.id, trace: row.trace_id || "", phase: row.phase }, class: `phase-${row.phase} ${row.ok === false ? "not-ok" : ""}` },
      h("span", { class: "muted", text: fmtTime(row.created_at) }), " ",
      h("strong", { text: `${row.portal}.${row.action}` }), " ",
      h("span", { class: "phase", text: row.phase }),
      row.ok === null || row.ok === undefined ? null : h("span", { class: row.ok ? "ok" : "bad", text: row.ok ? " ok" : " failed" }),
      extra ? h("span", { class: "muted", text: extra }) : null,
      row.principal ? h("span", { class: "muted", text: ` by ${row.principal}` }) : null, " ",
      row.trace_id ? h("a", { href: traceHref(row.trace_id), class: "trace-link", text: short(row.trace_id) }) : null);
  }

  function addFeedRow(row) {
    const id = Number(row.id);
    if (id && $("feed-list").querySelector(`li[data-id="${id}"]`)) return;
    lastFeedId = Math.max(lastFeedId, id || 0);
    const list = $("feed-list");
    list.prepend(feedRow(row));
    while (list.childElementCount > FEED_MAX) list.lastElementChild.remove();
  }

  function setFeedState(state) {
    const s = $("feed-status");
    s.dataset.state = state;
    s.textContent = state;
  }

  async function openFeed() {
    if (feedSource) feedSource.close();
    try {
      const recent = await api("feed?limit=30");
      for (const row of recent.rows) addFeedRow(row);
    } catch (e) {
      panelProblem("feed", e);
      return;
    }
    // The JWT never goes into a URL: it buys a single-use, 60 s stream ticket (POST), and
    // the EventSource carries only that. A stream ends when the token expires; a closed
    // stream is reopened with a new ticket while the session lasts.
    let ticket;
    try {
      const res = await fetch(new URL("../live-feed/ticket", location.href), {
        method: "POST", headers: { authorization: `Bearer ${token}` }, cache: "no-store", credentials: "omit",
      });
      if (!res.ok) throw new Error(`live feed ticket refused (HTTP ${res.status})`);
      ticket = (await res.json()).ticket;
    } catch (e) {
      panelProblem("feed", e);
      setFeedState("closed");
      return;
    }
    const url = new URL("../live-feed", location.href);
    url.searchParams.set("ticket", ticket);
    if (lastFeedId) url.searchParams.set("last_event_id", String(lastFeedId));
    const es = new EventSource(url.toString());
    feedSource = es;
    setFeedState("connecting");
    const reopen = () => {
      es.close();
      setFeedState("closed");
      setTimeout(() => { if (me && feedSource === es) void openFeed(); }, 2000);
    };
    es.addEventListener("open", () => setFeedState("open"));
    es.addEventListener("expired", reopen);
    es.addEventListener("reconnect", reopen); // the platform's wall-clock limit: resume by last_event_id
    // A spent ticket cannot reconnect by itself: a new one is fetched instead.
    es.addEventListener("error", () => (es.readyState === EventSource.CLOSED ? reopen() : setFeedState("reconnecting")));
    for (const phase of ["start", "prove", "finish"]) {
      es.addEventListener(phase, (ev) => {
        let row;
        try {
          row = JSON.parse(ev.data);
        } catch {
          return;
        }
        addFeedRow(row);
        if (phase === "finish") scheduleRefresh();
      });
    }
  }

  /**
   * Live panels follow the feed: a finished action changes metrics, the outbox and maybe
   * the DLQ. Coalesced, and a little after the event so the function's metrics (flushed
   * every second) are in. Triggered by events only; nothing here runs on an interval.
   */
  function scheduleRefresh() {
    if (pendingRefresh) return;
    pendingRefresh = setTimeout(() => {
      pendingRefresh = null;
      if (!me) return;
      loadSlo();
      loadOutbox();
      loadQuarantine();
      loadDlq();
    }, 1500);
  }

  // ---------------------------------------------------------------- charts

  function chart(key, container, opts, data) {
    const old = charts.get(key);
    if (old) old.destroy();
    if (typeof uPlot !== "function") return;
    const width = Math.max(240, container.clientWidth || 320);
    const c = new uPlot({ width, height: 150, legend: { live: false }, cursor: { drag: { x: false, y: false } }, ...opts }, data, container);
    charts.set(key, c);
  }

  // ---------------------------------------------------------------- SLO tiles

  function cls(ok) {
    return ok === null ? "na" : ok ? "good" : "bad";
  }

  async function loadSlo() {
    const s = await panelApi("slo", "slo?minutes=60");
    if (!s) return;
    $("slo-window").textContent = `last ${s.window_minutes} min · targets: uptime ≥ ${pct(s.slo.uptime)}, success ≥ ${pct(s.slo.success, 0)}, p95 ≤ ${ms(s.slo.portal_p95_ms)} (portals)`;
    const tiles = $("slo-tiles");
    for (const c of [...charts.keys()].filter((k) => k.startsWith("slo:"))) {
      charts.get(c).destroy();
      charts.delete(c);
    }
    if (s.tiles.length === 0) {
      tiles.replaceChildren(h("p", { class: "muted", text: "No requests recorded in this window." }));
      return;
    }
    tiles.replaceChildren();
    for (const t of s.tiles) {
      const chartBox = h("div", { class: "chart" });
      const burnOk = t.burn === null ? null : t.burn <= 1;
      tiles.append(h("div", { class: "tile", dataset: { portal: t.portal } },
        h("h3", { text: t.portal }),
        h("div", { class: "figures" },
          h("div", { class: cls(t.uptime === null ? null : t.uptime >= s.slo.uptime) }, h("span", { class: "fig", text: pct(t.uptime) }), h("span", { class: "cap", text: "uptime" })),
          h("div", { class: cls(t.success === null ? null : t.success >= s.slo.success) }, h("span", { class: "fig", text: pct(t.success) }), h("span", { class: "cap", text: "success" })),
          h("div", { class: cls(t.p95_ms === null ? null : t.p95_ms <= s.slo.portal_p95_ms) }, h("span", { class: "fig", text: t.p95_ms === null ? "> 10 s" : `≤ ${ms(t.p95_ms)}` }), h("span", { class: "cap", text: "p95" })),
          h("div", { class: cls(burnOk) }, h("span", { class: "fig", text: t.burn === null ? "–" : `${t.burn}×` }), h("span", { class: "cap", text: `budget burn (5m: ${t.burn_5m === null ? "–" : `${t.burn_5m}×`})` }))),
        h("p", { class: "muted", text: `${t.requests} requests, ${t.errors} errors, avg ${ms(t.avg_ms)}` }),
        chartBox));
      chart(`slo:${t.portal}`, chartBox, {
        series: [
          {},
          { label: "requests/min", stroke: "#3b82f6", width: 1.5, scale: "n" },
          { label: "5xx/min", stroke: "#dc2626", width: 1.5, scale: "n" },
          { label: "p95 ms", stroke: "#d97706", width: 1.5, scale: "ms", spanGaps: false },
        ],
        axes: [{ space: 90 }, { scale: "n" }, { scale: "ms", side: 1, grid: { show: false } }],
        scales: { x: { time: true } },
      }, [t.series.t, t.series.requests, t.series.errors, t.series.p95]);
    }
  }

  // ---------------------------------------------------------------- outbox

  async function loadOutbox() {
    const o = await panelApi("outbox");
    if (!o) return;
    $("ob-depth").textContent = String(o.depth);
    $("ob-depth").title = `pending ${o.by_state.pending}, delivering ${o.by_state.delivering}, failed ${o.by_state.failed}`;
    $("ob-oldest").textContent = ms(o.oldest_undelivered_ms);
    $("ob-lag").textContent = ms(o.lag_p95_ms);
    $("ob-lag").parentElement.className = cls(o.lag_p95_ms === null ? null : o.lag_p95_ms <= o.slo.lag_p95_ms);
    $("ob-dead").textContent = o.dlq_parked ? `${o.dlq_dead} (+${o.dlq_parked} parked: receiver gone)` : String(o.dlq_dead);
    chart("outbox", $("ob-chart"), {
      series: [
        {},
        { label: "published/min", stroke: "#3b82f6", width: 1.5, scale: "n" },
        { label: "delivered/min", stroke: "#16a34a", width: 1.5, scale: "n" },
        { label: "lag p95 ms", stroke: "#d97706", width: 1.5, scale: "ms" },
      ],
      axes: [{ space: 90 }, { scale: "n" }, { scale: "ms", side: 1, grid: { show: false } }],
      scales: { x: { time: true } },
    }, [o.series.t, o.series.published, o.series.delivered, o.series.lag_p95_ms]);
  }

  // ---------------------------------------------------------------- standby

  async function loadReplication() {
    const r = await panelApi("replication");
    if (!r) return;
    $("repl-max").textContent = r.max_lag_bytes === null ? "the dr.standby.* thresholds"
      : `${r.max_lag_bytes} bytes or ${r.max_lag_seconds} s`;
    const body = $("replication-table").querySelector("tbody");
    body.replaceChildren(...(r.slots.length ? r.slots.map((s) => h("tr", { class: cls(s.within) },
      h("td", { text: s.slot }),
      h("td", { text: s.sync_state ? `${s.state} (${s.sync_state})` : s.state }),
      h("td", { text: String(s.lag_bytes) }),
      h("td", { text: String(s.lag_seconds) })))
      : [h("tr", {}, h("td", { colspan: "4", class: "muted", text: "No standby: no replication slot on this database." }))]));
  }

  // ---------------------------------------------------------------- DLQ

  async function loadDlq() {
    const d = await panelApi("dlq");
    if (!d) return;
    $("dlq-table").querySelector("tbody").replaceChildren(...d.entries.map((e) =>
      h("tr", { dataset: { id: e.id, trace: e.trace_id || "", state: e.state } },
        h("td", { text: fmtDateTime(e.dead_at) }),
        h("td", {}, h("code", { text: e.event_type || "–" })),
        h("td", { text: `${e.aggregate_type || ""}:${e.aggregate_id || ""}` }),
        h("td", { text: String(e.attempts) }),
        h("td", { class: "error-text", text: e.last_error || "" }),
        h("td", { text: e.state }),
        h("td", {}, e.trace_id ? h("a", { href: traceHref(e.trace_id), class: "trace-link", text: short(e.trace_id) }) : "–"),
        h("td", { class: "actions" },
          (e.state === "dead" || e.state === "parked") && d.can_request
            ? [
              h("button", { type: "button", class: "small", dataset: { action: "dry-run", id: e.id }, text: "Dry run" }),
              h("button", { type: "button", class: "small warn", dataset: { action: "replay", id: e.id }, text: "Replay" }),
            ]
            : null))
    ));
    $("replay-table").querySelector("tbody").replaceChildren(...d.requests.map((r) =>
      h("tr", { dataset: { id: r.id, status: r.status } },
        h("td", { text: fmtDateTime(r.created_at) }),
        h("td", { text: r.requested_by_name }),
        h("td", { text: r.dry_run ? "dry run" : "replay" }),
        h("td", { text: `${r.batch_size} (${r.payload_bytes} B)` }),
        h("td", { text: r.status }),
        h("td", { class: "muted", text: r.outcome ? JSON.stringify(r.outcome) : "" }),
        h("td", { class: "actions" },
          r.status === "pending_approval" && d.can_approve && !r.mine
            ? [
              h("button", { type: "button", class: "small", dataset: { action: "approve", id: r.id }, text: "Approve" }),
              h("button", { type: "button", class: "small ghost", dataset: { action: "reject", id: r.id }, text: "Reject" }),
            ]
            : r.status === "pending_approval" && r.mine ? h("span", { class: "muted", text: "awaiting another approver" }) : null))
    ));
  }

  const dlqResult = (text, kind) => showResult("dlq-result", text, kind);

  async function dlqAction(ev) {
    const btn = ev.target.closest("button[data-action]");
    if (!btn) return;
    const { action, id } = btn.dataset;
    try {
      if (action === "dry-run") {
        const r = await api("dlq/dry-run", { ids: [id] });
        const o = r.request.outcome || {};
        dlqResult(`Dry run: would replay ${o.would_replay} event(s), ${o.payload_bytes} bytes; caps ${JSON.stringify(r.request.caps)}`, "good");
      } else if (action === "replay") {
        // Two steps: the first click arms the button, the second replays.
        if (btn.dataset.armed !== "yes") {
          btn.dataset.armed = "yes";
          btn.textContent = "Confirm replay";
          return;
        }
        const r = await api("dlq/replay", { ids: [id] });
        dlqResult(r.request.status === "executed"
          ? `Replayed: ${JSON.stringify(r.request.outcome)}`
          : `Replay ${r.request.status}${r.request.status === "pending_approval" ? " (STEP-DOWN: a human must approve)" : ""}`, "good");
      } else if (action === "approve" || action === "reject") {
        const r = await api("dlq/decide", { request_id: id, approve: action === "approve" });
        dlqResult(`Replay ${r.request.status}${r.request.outcome ? `: ${JSON.stringify(r.request.outcome)}` : ""}`, "good");
      }
    } catch (e) {
      dlqResult(`${action} refused: ${describe(e)}`, "bad");
    }
    await loadDlq();
  }

  // ---------------------------------------------------------------- quarantine

  let releasing = null;

  async function loadQuarantine() {
    const d = await panelApi("quarantine");
    if (!d) return;
    $("q-dlq").textContent = String(d.events_in_dlq);
    $("quarantine-table").querySelector("tbody").replaceChildren(...d.quarantines.map((q) =>
      h("tr", { dataset: { id: q.id, kind: q.kind, state: q.released_at ? "released" : "open" } },
        h("td", { text: fmtDateTime(q.quarantined_at) }),
        h("td", { text: q.kind }),
        h("td", {}, h("code", { text: q.subscription ? `${q.subscription} (${short(q.subject)})` : q.kind === "tenant" ? short(q.subject) : q.subject })),
        h("td", { class: "error-text", text: q.reason }),
        h("td", { text: q.parked === null ? "–" : String(q.parked) }),
        h("td", { text: q.released_at ? `released ${fmtDateTime(q.released_at)} by ${q.released_by_name}: ${q.release_reason}` : `open (by ${q.quarantined_by})` }),
        h("td", { class: "actions" },
          !q.released_at && d.can_release
            ? h("button", { type: "button", class: "small warn", dataset: { action: "release", id: q.id, label: `${q.kind} ${q.subscription || q.subject}` }, text: "Release" })
            : null))
    ));
  }

  function askRelease(ev) {
    const btn = ev.target.closest("button[data-action=release]");
    if (!btn) return;
    releasing = btn.dataset.id;
    openConfirm("q", `Release the quarantine of ${btn.dataset.label}? It goes back to work at once.`);
  }

  async function confirmRelease() {
    const reason = $("q-reason").value.trim();
    try {
      const r = await api("quarantine/release", { quarantine_id: releasing, reason });
      const q = r.quarantine;
      showResult("quarantine-result", `Released ${q.kind} ${q.subject}${q.kind === "subscription" ? `: ${q.requeued} parked event(s) re-queued` : ""}`, "good");
    } catch (e) {
      showResult("quarantine-result", `Release refused: ${describe(e)}`, "bad");
    }
    $("q-confirm").hidden = true;
    releasing = null;
    await loadQuarantine();
  }

  // ---------------------------------------------------------------- trace view

  async function loadTrace(id) {
    $("trace-id").textContent = id;
    $("trace-note").textContent = "loading…";
    const wf = $("waterfall");
    wf.replaceChildren();
    for (const t of ["trace-audit", "trace-outbox", "trace-dlq"]) $(t).querySelector("tbody").replaceChildren();
    let t;
    try {
      t = await api(`trace/${encodeURIComponent(id)}`);
    } catch (e) {
      $("trace-note").textContent = `Could not load the trace: ${describe(e)}`;
      return;
    }
    $("trace-note").textContent = `${t.spans.length} span(s), ${t.audit.length} audit row(s), ${t.outbox.length} outbox event(s), ${t.dlq.length} DLQ entr${t.dlq.length === 1 ? "y" : "ies"}` +
      (t.hidden.length ? ` · your role cannot read: ${t.hidden.join(", ")}` : "");
    renderRevert(id, t.reversible);
    renderWaterfall(wf, t.spans);
    $("trace-audit").querySelector("tbody").replaceChildren(...t.audit.map((a) =>
      h("tr", {},
        h("td", { text: fmtDateTime(a.occurred_at) }),
        h("td", {}, h("code", { text: a.action })),
        h("td", { text: `${a.target_type || ""} ${a.target_id || ""}` }),
        h("td", { text: `${a.principal_name || "–"} (${a.principal_kind || "db"})` }),
        h("td", { text: a.reason || "" }),
        h("td", {}, h("code", { text: a.span_id || "" })))
    ));
    $("trace-outbox").querySelector("tbody").replaceChildren(...t.outbox.map((e) =>
      h("tr", {},
        h("td", { text: fmtDateTime(e.created_at) }),
        h("td", {}, h("code", { text: e.event_type })),
        h("td", { text: `${e.aggregate_type}:${e.aggregate_id}` }),
        h("td", { text: e.state }),
        h("td", { text: String(e.attempts) }),
        h("td", { text: fmtDateTime(e.delivered_at) }))
    ));
    $("trace-dlq").querySelector("tbody").replaceChildren(...t.dlq.map((e) =>
      h("tr", {},
        h("td", { text: fmtDateTime(e.dead_at) }),
        h("td", {}, h("code", { text: e.event_type || "" })),
        h("td", { text: e.state }),
        h("td", { text: String(e.attempts) }),
        h("td", { class: "error-text", text: e.last_error || "" }))
    ));
  }

  /** Revert (two steps: press, confirm) or Clear revert for a reversible action of this trace. */
  function renderRevert(id, run) {
    const box = $("trace-revert");
    const btn = $("trace-revert-btn");
    $("trace-revert-result").textContent = "";
    box.hidden = !run;
    if (!run) return;
    const cleared = !!run.cleared_at;
    const reverted = !!run.reverted_at && !cleared;
    $("trace-revert-note").textContent = reverted
      ? `${run.portal}/${run.action} was reverted ${fmtDateTime(run.reverted_at)}; the agents hold this work until it is cleared.`
      : `${run.portal}/${run.action} is reversible${run.reverted_at ? " (reverted before, cleared)" : ""}.`;
    btn.hidden = !!run.reverted_at && cleared;
    btn.textContent = reverted ? "Clear revert" : "Revert";
    delete btn.dataset.armed;
    btn.onclick = async () => {
      if (btn.dataset.armed !== "yes") {
        btn.dataset.armed = "yes";
        btn.textContent = reverted ? "Confirm clear" : "Confirm revert";
        return;
      }
      let msg;
      try {
        const r = await api("revert", { trace_id: id, clear: reverted });
        msg = reverted ? "Cleared: the agents may take it up again." : `Reverted (trace ${short(r.trace_id)}).`;
      } catch (e) {
        msg = `Refused: ${describe(e)}`;
      }
      await loadTrace(id);
      $("trace-revert-result").textContent = msg;
    };
  }

  /** Spans as a waterfall: tree order, indented by depth, bars placed on the trace's timeline. */
  function renderWaterfall(container, spans) {
    if (spans.length === 0) {
      container.append(h("p", { class: "muted", text: "No spans for this trace (or none your role may read)." }));
      return;
    }
    const start = (s) => new Date(s.start_time).getTime();
    const t0 = Math.min(...spans.map(start));
    const t1 = Math.max(...spans.map((s) => start(s) + Number(s.duration_ms)));
    const total = Math.max(t1 - t0, 1);
    const ids = new Set(spans.map((s) => s.span_id));
    const children = new Map();
    for (const s of spans) {
      const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : "";
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(s);
    }
    const ordered = [];
    const walk = (parent, depth) => {
      for (const s of (children.get(parent) || []).sort((a, b) => start(a) - start(b))) {
        ordered.push([s, depth]);
        walk(s.span_id, depth + 1);
      }
    };
    walk("", 0);
    container.append(h("div", { class: "wf-scale" }, h("span", { text: "0 ms" }), h("span", { text: ms(total) })));
    for (const [s, depth] of ordered) {
      const label = h("div", { class: "wf-label", title: JSON.stringify(s.attributes) }, h("span", { text: s.name }), h("span", { class: "muted", text: s.portal ? ` ${s.portal}` : "" }));
      label.style.paddingLeft = `${depth * 16 + 4}px`;
      const bar = h("div", { class: `wf-bar status-${s.status}` });
      bar.style.left = `${((start(s) - t0) / total) * 100}%`;
      bar.style.width = `${Math.max((Number(s.duration_ms) / total) * 100, 0.4)}%`;
      container.append(h("div", { class: "wf-row", dataset: { span: s.span_id, name: s.name } },
        label,
        h("div", { class: "wf-track" }, bar),
        h("div", { class: "wf-dur", text: `${Number(s.duration_ms).toFixed(1)} ms` })));
    }
  }

  // ---------------------------------------------------------------- wiring

  function refreshAll() {
    loadSwitchboard();
    loadSlo();
    loadOutbox();
    loadReplication();
    loadQuarantine();
    loadDlq();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      signIn($("token").value);
    });
    $("signout").addEventListener("click", () => signOut("Signed out."));
    $("ks-button").addEventListener("click", askKillSwitch);
    $("ks-cancel").addEventListener("click", cancelKillSwitch);
    $("ks-confirm-button").addEventListener("click", confirmKillSwitch);
    $("flag-form").addEventListener("submit", saveFlag);
    $("flag-key").addEventListener("change", describeFlag);
    $("dlq-table").addEventListener("click", dlqAction);
    $("replay-table").addEventListener("click", dlqAction);
    $("dlq-refresh").addEventListener("click", () => {
      loadDlq();
      loadOutbox();
    });
    $("alerts-refresh").addEventListener("click", loadAlerts);
    $("replication-refresh").addEventListener("click", loadReplication);
    $("quarantine-refresh").addEventListener("click", loadQuarantine);
    $("quarantine-table").addEventListener("click", askRelease);
    $("q-cancel").addEventListener("click", () => {
      $("q-confirm").hidden = true;
      releasing = null;
    });
    $("q-confirm-button").addEventListener("click", confirmRelease);
    for (const prefix of ["ks", "q"]) {
      $(`${prefix}-reason`).addEventListener("input", () => {
        $(`${prefix}-confirm-button`).disabled = $(`${prefix}-reason`).value.trim().length < 3;
      });
    }
    globalThis.addEventListener("hashchange", route);
    if (token) signIn(token);
  });
})();
