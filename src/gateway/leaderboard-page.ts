/**
 * The tiny live leaderboard page, `GET /logbook/leaderboard/{symbol}?metric=…` (and the Leaderboard query's other
 * parameters: limit, ascending, experiment_ids, filter): one HTML document with an inline script, no build step and
 * no framework. The script opens an EventSource on WatchLeaderboard's HTTP binding (`/mlflow/leaderboard/{symbol}/
 * watch`, Server-Sent Events) and keeps the table by run id: the `snapshot` event replaces it, each `leaderboard`
 * event applies the entries that changed. The browser reconnects by itself (and gets a fresh board); under
 * authentication it sends the credentials it already has for this origin.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RawRoute } from "./gateway.js";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2125; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  #state { font-size: .85rem; color: #666; margin-bottom: 1rem; }
  #state.live::before { content: "● "; color: #2a9d4b; }
  #state.down::before { content: "● "; color: #c0392b; }
  table { border-collapse: collapse; min-width: 32rem; }
  th, td { text-align: left; padding: .35rem .75rem; border-bottom: 1px solid #e3e6e8; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.changed td { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background: #fff3b0; } to { background: transparent; } }
  #empty { color: #666; }
</style>
</head>
<body>
<h1 id="title">Leaderboard</h1>
<div id="state">connecting…</div>
<table>
  <thead><tr><th>Rank</th><th>Run</th><th id="metric-head">Value</th><th>Experiment</th><th>Models</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p id="empty" hidden>No run of this symbol has this metric yet.</p>
<script>
"use strict";
(function () {
  const symbol = decodeURIComponent(location.pathname.split("/").pop());
  const query = new URLSearchParams(location.search);
  const metric = query.get("metric") || "";
  document.getElementById("title").textContent = "Leaderboard · " + symbol + " · " + metric;
  document.getElementById("metric-head").textContent = metric;
  document.title = symbol + " · " + metric + " · Logbook";
  const state = document.getElementById("state");
  const rows = document.getElementById("rows");
  const entries = new Map();
  let changed = new Set();

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function number(v) {
    return typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v === undefined ? "" : v);
  }
  function render() {
    const sorted = [...entries.values()].sort((a, b) => a.rank - b.rank);
    rows.replaceChildren();
    for (const e of sorted) {
      const tr = document.createElement("tr");
      tr.dataset.runId = e.run_id;
      if (changed.has(e.run_id)) tr.className = "changed";
      cell(tr, String(e.rank), "num");
      cell(tr, e.run_name || e.run_id);
      cell(tr, number(e.value), "num");
      cell(tr, e.experiment_id || "");
      cell(tr, (e.model_versions || []).map((v) => v.name + " v" + v.version).join(", "));
      rows.appendChild(tr);
    }
    document.getElementById("empty").hidden = sorted.length > 0;
    changed = new Set();
  }
  function live(text, ok) {
    state.textContent = text;
    state.className = ok ? "live" : "down";
  }

  const url = "/mlflow/leaderboard/" + encodeURIComponent(symbol) + "/watch" + location.search;
  const source = new EventSource(url);
  source.addEventListener("open", () => live("live", true));
  source.addEventListener("snapshot", (event) => {
    const update = JSON.parse(event.data);
    entries.clear();
    for (const e of update.snapshot.entries || []) entries.set(e.run_id, e);
    render();
    live("live · updated " + new Date().toLocaleTimeString(), true);
  });
  source.addEventListener("leaderboard", (event) => {
    const update = JSON.parse(event.data);
    for (const c of update.leaderboard.changes || []) {
      if (c.kind === "LEFT") entries.delete(c.run_id);
      else if (c.entry) {
        entries.set(c.run_id, c.entry);
        changed.add(c.run_id);
      }
    }
    render();
    live("live · updated " + new Date().toLocaleTimeString() + (update.coalesced ? " (caught up)" : ""), true);
  });
  source.addEventListener("error", (event) => {
    if (event.data) {
      const body = JSON.parse(event.data);
      live("error: " + (body.message || body.error_code), false);
      source.close();
    } else {
      live("disconnected; reconnecting…", false);
    }
  });
})();
</script>
</body>
</html>
`;

/** The page's own Content-Security-Policy: its inline script and style, and requests to this origin only. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";

export const LEADERBOARD_PAGE_ROUTE: RawRoute = {
  method: ["GET", "HEAD"],
  url: "/logbook/leaderboard/:symbol",
  handler: async (request: FastifyRequest, reply: FastifyReply) => {
    const metric = new URLSearchParams((request.raw.url ?? "").split("?")[1] ?? "").get("metric");
    if (!metric) {
      return reply
        .code(400)
        .type("text/plain; charset=utf-8")
        .send("Missing value for required parameter 'metric': /logbook/leaderboard/<symbol>?metric=<metric key>\n");
    }
    return reply.code(200).type("text/html; charset=utf-8").header("content-security-policy", CSP).header("cache-control", "no-cache").send(PAGE);
  },
};
