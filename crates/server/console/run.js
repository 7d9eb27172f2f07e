// The console's run page (/runs/{run_id}): the run's curve, outline, details, error classes and
// their samples, response-time ranges, JMeter statistics, APDEX and SLA; a live run's status
// as it comes. Uses console.js's helpers (api, mutate, deleteRun, cell, fixed, thousandths, utc,
// outlineCard, timeSymbol, run).
"use strict";

/** The unit the page's response times are in: the page URL's `?resolution=us` asks the API for
 *  microseconds (where the run measured them; ms × 1000 elsewhere), else milliseconds. */
const RESOLUTION = new URLSearchParams(location.search).get("resolution") === "us" ? "us" : "ms";
const TIME_UNIT = timeSymbol(RESOLUTION);

/** `query` with the page's resolution when it is not the default. */
function inUnit(query) {
  if (RESOLUTION === "us") query.set("resolution", "us");
  return query;
}

/** The "times in ms / µs" switch: reloads the page in the other unit (the hash kept). */
function setUpUnitSwitch() {
  const form = document.getElementById("unit");
  form.elements.resolution.value = RESOLUTION === "us" ? "us" : "";
  form.onchange = () => {
    const query = new URLSearchParams(location.search);
    if (form.elements.resolution.value === "us") query.set("resolution", "us");
    else query.delete("resolution");
    const search = query.toString();
    location.search = search ? "?" + search : "";
  };
  for (const head of document.querySelectorAll("[data-unit-label]")) {
    head.textContent = head.dataset.unitLabel + " " + TIME_UNIT;
  }
}

/** Draws the AW curve of `base` (the run, or `?case_id=…&detail_id=…` of one request): TPS on
 *  the left axis, mean / p90 / p99 response time on the right, one point per interval. */
async function showCurve(base, caseName, name) {
  const query = inUnit(new URLSearchParams({ brokens_limit_count: "600", curve_only: "true" }));
  if (caseName) query.set("case_id", caseName);
  if (name) query.set("detail_id", name);
  const chart = await api(base + "/aw-chart?" + query);
  const points = (chart.broken_list || {}).points || [];
  const x = points.map((p) => p.t / 1000);
  const series = [x, points.map((p) => p.tps), points.map((p) => p.avg_rt), points.map((p) => p.p90), points.map((p) => p.p99)];
  const holder = document.getElementById("chart");
  holder.replaceChildren();
  document.getElementById("chart-title").textContent = name ? caseName + " / " + name : "whole run";
  new uPlot(
    {
      width: Math.max(400, holder.clientWidth || 900),
      height: 300,
      scales: { x: { time: true }, rt: {} },
      axes: [{}, { label: "TPS" }, { scale: "rt", side: 1, label: TIME_UNIT, grid: { show: false } }],
      series: [
        {},
        { label: "TPS", stroke: "#1d3557", width: 2 },
        { label: "avg " + TIME_UNIT, scale: "rt", stroke: "#2a9d8f" },
        { label: "p90 " + TIME_UNIT, scale: "rt", stroke: "#e9c46a" },
        { label: "p99 " + TIME_UNIT, scale: "rt", stroke: "#e76f51" },
      ],
    },
    series,
    holder,
  );
  document.body.dataset.chartPoints = String(points.length);
  document.body.dataset.chartRequests = String(points.reduce((n, p) => n + p.requests, 0));
  document.body.dataset.chartTitle = document.getElementById("chart-title").textContent;
}

function detailRow(d, base) {
  const tr = document.createElement("tr");
  tr.dataset.level = d.level;
  if (d.level !== "case") {
    tr.onclick = () =>
      run(async () => {
        for (const row of document.querySelectorAll("#details tr.selected")) row.classList.remove("selected");
        tr.classList.add("selected");
        history.replaceState(null, "", "#" + new URLSearchParams({ case: d.case_name, name: d.name }));
        await showCurve(base, d.case_name, d.name);
      });
  }
  tr.appendChild(cell("level", d.level));
  tr.appendChild(cell("case_name", d.case_name));
  tr.appendChild(cell("name", d.name));
  tr.appendChild(cell("requests", String(d.requests), true));
  tr.appendChild(cell("error_count", String(d.error_count), true));
  tr.appendChild(cell("average_resp_time", fixed(d.average_resp_time, 2), true));
  for (const p of ["tp50", "tp90", "tp99", "tp9999"]) tr.appendChild(cell(p, fixed(d[p], 2), true));
  tr.appendChild(cell("tps", fixed(d.tps, 3), true));
  return tr;
}

/** RunStatus.State by number (loadlake.proto). */
const STATES = ["UNSPECIFIED", "CREATED", "PREPARING", "READY", "RUNNING", "STOPPING", "STOPPED", "FAILED"];
const FINAL_STATES = new Set(["STOPPED", "FAILED"]);

/** Calls `onEvent(json)` for each server-sent event of `path` until the stream ends (fetch
 *  rather than EventSource, which cannot tell an error answer from a dropped connection). */
async function followEvents(path, onEvent) {
  const response = await fetch(path, { headers: consoleHeaders() });
  if (!response.ok) throw new Error("live status: " + response.status + " " + response.statusText);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (!data) continue;
      if (lines.some((l) => l.startsWith("event: error"))) throw new Error(data);
      onEvent(JSON.parse(data));
    }
  }
}

/** Shows one RunningData message in the live panel. */
function showLive(data) {
  const state = STATES[(data.status || {}).state] || "UNSPECIFIED";
  document.getElementById("live-state").textContent = state;
  const all = data.all_sample_stat || {};
  document.getElementById("live-cards").replaceChildren(
    outlineCard("concurrency", "users", String(data.concurrency)),
    outlineCard("count", "samples", String(all.count || 0)),
    outlineCard("fail_count", "errors", String(all.fail_count || 0)),
    outlineCard("tps", "TPS (last second)", fixed(all.tps, 1)),
    outlineCard("rt_avg", "avg response ms", fixed(all.rt_avg, 1)),
  );
  document.getElementById("live-stage").textContent = data.stage || "";
  document.body.dataset.liveState = state;
  document.body.dataset.liveCount = String(all.count || 0);
  return state;
}

/** A live run: its running data as it comes, a Stop button; the report once it has ended. */
async function watchLive(base) {
  document.getElementById("live").hidden = false;
  const stop = document.getElementById("stop");
  stop.onclick = () =>
    run(async () => {
      stop.disabled = true;
      try {
        await mutate("POST", base + "/stop");
      } catch (e) {
        stop.disabled = false;
        throw e;
      }
    });
  document.body.dataset.ready = "live";
  let last = "UNSPECIFIED";
  await followEvents(base + "/live", (data) => {
    last = showLive(data);
  });
  if (!FINAL_STATES.has(last)) throw new Error("the live status ended in state " + last);
  stop.hidden = true;
}

/** `api(path)`, asked again while the run is being committed (404 for a moment after it ends). */
async function apiOnceCommitted(path) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api(path);
    } catch (e) {
      if (attempt >= 20 || !/not found|no run|404/i.test(String(e.message))) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function showRun() {
  const runId = decodeURIComponent(location.pathname.split("/").pop());
  const base = "/api/v1/runs/" + encodeURIComponent(runId);
  setUpUnitSwitch();
  const status = await api(base + "/status");
  const state = STATES[status.state] || "UNSPECIFIED";
  if (state !== "UNSPECIFIED" && !FINAL_STATES.has(state)) await watchLive(base);
  const info = await apiOnceCommitted(base);
  document.title = "loadlake — " + info.name;
  const remove = document.getElementById("delete-run");
  remove.hidden = false;
  remove.onclick = () =>
    run(async () => {
      if (await deleteRun(info.run_id, info.name, info.samples)) location.href = "/";
    });
  document.getElementById("title").textContent = info.name + " (" + info.run_id + ")";
  // The curve first, then the report: each is a scan of the run's samples, and on a large run
  // the chart is what shows first that way (benches/README.md, "Web console"). A shared link
  // to a request's curve (#case=…&name=…) opens on it; one to an error class's samples
  // (#error_class=…) on them.
  const chosen = new URLSearchParams(location.hash.slice(1));
  await showCurve(base, chosen.get("case"), chosen.get("name"));
  const report = await apiOnceCommitted(base + "/report?" + inUnit(new URLSearchParams({ page_size: "1000" })));
  document.body.dataset.timeUnit = report.time_unit || "ms";
  const o = report.outline || {};
  document.getElementById("outline").replaceChildren(
    outlineCard("requests", "requests", String(o.requests)),
    outlineCard("tps", "TPS", fixed(o.tps, 3)),
    outlineCard("average_resp_time", "avg response " + TIME_UNIT, fixed(o.average_resp_time, 2)),
    outlineCard("success_rate", "success %", fixed(o.success_rate, 2)),
    outlineCard("max_users", "max users", o.max_users == null ? "" : String(o.max_users)),
    outlineCard("duration", "duration s", fixed(o.duration, 1)),
  );
  const body = document.querySelector("#details tbody");
  body.replaceChildren(...report.details.map((d) => detailRow(d, base)));
  showErrorClasses(base, report.error_classes || [], o.requests);
  showRanges(report.resp_time_range || []);
  if (chosen.get("error_class")) await showSamples(base, chosen.get("error_class"), null);
  const [tables, sla] = await Promise.all([api(base + "/jmeter"), api(base + "/sla")]);
  showJmeterTables(tables);
  showSla(sla.outcome);
  document.body.dataset.ready = "run";
}

/** A table row of `cells`: [field, text, numeric] each. */
function rowOf(cells) {
  const tr = document.createElement("tr");
  for (const [field, text, numeric] of cells) tr.appendChild(cell(field, text, numeric));
  return tr;
}

/** The report's response-time ranges: samples and share of each. */
function showRanges(ranges) {
  document.querySelector("#ranges tbody").replaceChildren(
    ...ranges.map((r) =>
      rowOf([
        ["range", r.range],
        ["count", String(r.count), true],
        ["percent", fixed(r.percent, 2), true],
      ]),
    ),
  );
}

/** JMeter's Statistics (Total last) and APDEX tables, as the HTML report shows them. */
function showJmeterTables(tables) {
  const [p1, p2, p3] = tables.percentiles;
  document.getElementById("pct1").textContent = p1 + "th pct";
  document.getElementById("pct2").textContent = p2 + "th pct";
  document.getElementById("pct3").textContent = p3 + "th pct";
  const time = (v) => fixed(v, 2);
  document.querySelector("#jmeter-statistics tbody").replaceChildren(
    ...tables.statistics.map((r) => {
      const tr = rowOf([
        ["transaction", r.transaction],
        ["sampleCount", String(r.sampleCount), true],
        ["errorCount", String(r.errorCount), true],
        ["errorPct", fixed(r.errorPct, 2), true],
        ["meanResTime", time(r.meanResTime), true],
        ["minResTime", time(r.minResTime), true],
        ["maxResTime", time(r.maxResTime), true],
        ["medianResTime", time(r.medianResTime), true],
        ["pct1ResTime", time(r.pct1ResTime), true],
        ["pct2ResTime", time(r.pct2ResTime), true],
        ["pct3ResTime", time(r.pct3ResTime), true],
        ["throughput", fixed(r.throughput, 2), true],
        ["receivedKBytesPerSec", fixed(r.receivedKBytesPerSec, 2), true],
        ["sentKBytesPerSec", fixed(r.sentKBytesPerSec, 2), true],
      ]);
      if (r.transaction === "Total") tr.classList.add("total");
      return tr;
    }),
  );
  document.querySelector("#apdex tbody").replaceChildren(
    ...tables.apdex.map((r) =>
      rowOf([
        ["label", r.label],
        ["apdex", fixed(r.apdex, 3), true],
        ["satisfiedThreshold", String(r.satisfiedThreshold), true],
        ["toleratedThreshold", String(r.toleratedThreshold), true],
        ["samples", String(r.samples), true],
      ]),
    ),
  );
}

/** The SLA outcome of the server's rule file (`serve --sla`); hidden without one. */
function showSla(outcome) {
  const section = document.getElementById("sla-section");
  section.hidden = !outcome;
  if (!outcome) return;
  const verdict = document.getElementById("sla-verdict");
  verdict.textContent = outcome.passed ? "passed" : "failed";
  verdict.className = outcome.passed ? "status-complete" : "status-failed";
  document.querySelector("#sla tbody").replaceChildren(
    ...outcome.results.map((r) => {
      const scope = r.request ? (r.case ? r.case + " / " : "") + r.request : r.case || "run";
      const tr = rowOf([
        ["name", r.name],
        ["scope", scope],
        ["metric", r.metric],
        ["min", r.min == null ? "" : String(r.min), true],
        ["max", r.max == null ? "" : String(r.max), true],
        ["actual", thousandths(r.actual), true],
        ["unit", r.unit],
        ["samples", String(r.samples), true],
        ["passed", r.passed ? "pass" : "FAIL"],
      ]);
      tr.title = r.message;
      if (!r.passed) tr.classList.add("failed");
      return tr;
    }),
  );
}

/** Samples per page of the error-class drill-down. */
const SAMPLES_PAGE = 25;

/** The run's error classes; a failing class's row opens its samples. */
function showErrorClasses(base, classes, requests) {
  const total = classes.reduce((n, c) => n + c.samples, 0) || requests || 0;
  document.querySelector("#error-classes tbody").replaceChildren(
    ...classes.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.errorClass = c.error_class;
      const name = cell("error_class", c.error_class === "success" ? c.error_class : "");
      if (c.error_class !== "success") {
        const a = document.createElement("a");
        a.href = "#" + new URLSearchParams({ error_class: c.error_class });
        a.textContent = c.error_class;
        a.onclick = (event) => {
          event.preventDefault();
          history.replaceState(null, "", a.href);
          run(() => showSamples(base, c.error_class, null));
        };
        name.appendChild(a);
      }
      tr.append(name, cell("samples", String(c.samples), true), cell("percent", total ? fixed((100 * c.samples) / total, 2) : "", true));
      return tr;
    }),
  );
}

function sampleRow(s) {
  const tr = document.createElement("tr");
  tr.dataset.row = String(s.row);
  tr.append(
    cell("row", String(s.row), true),
    cell("start", utc(s.ts_ms)),
    cell("case_name", s.case_name || ""),
    cell("label", s.label),
    cell("thread", s.thread || ""),
    cell("elapsed_ms", s.elapsed_ms == null ? "" : String(s.elapsed_ms), true),
    cell("response_code", s.response_code || ""),
    cell("response_message", s.response_message || ""),
    cell("failure_message", s.failure_message || ""),
  );
  return tr;
}

/** Shows the samples of `errorClass`: the first page (token null), or the page after `token`. */
async function showSamples(base, errorClass, token) {
  delete document.body.dataset.samplesReady;
  const query = new URLSearchParams({ error_class: errorClass, page_size: String(SAMPLES_PAGE) });
  if (token) query.set("page_token", token);
  const page = await api(base + "/samples?" + query);
  const body = document.querySelector("#samples tbody");
  if (!token) body.replaceChildren();
  body.append(...page.samples.map(sampleRow));
  document.getElementById("samples-panel").hidden = false;
  document.getElementById("samples-class").textContent = errorClass;
  document.getElementById("samples-count").textContent = "(" + body.rows.length + (page.next_page_token ? " so far" : "") + ")";
  const more = document.getElementById("more-samples");
  more.hidden = !page.next_page_token;
  more.onclick = () => run(() => showSamples(base, errorClass, page.next_page_token));
  for (const tr of document.querySelectorAll("#error-classes tr.selected")) tr.classList.remove("selected");
  const chosen = document.querySelector('#error-classes tr[data-error-class="' + CSS.escape(errorClass) + '"]');
  if (chosen) chosen.classList.add("selected");
  document.body.dataset.samplesReady = errorClass + ":" + body.rows.length;
}

if (document.body.dataset.page === "run") {
  run(showRun);
}
