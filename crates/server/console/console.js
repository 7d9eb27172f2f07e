// The loadlake console: pages that read the JSON API (/api/v1/…) of the server that serves
// them. No framework, no network beyond this server. With a token, the server's login page
// sets an HttpOnly cookie that every call carries (the scripts never see the token); a call
// refused for want of it sends the page to the login. Every call sends X-Loadlake-Console, the
// header the server wants beside the cookie on a change (its CSRF rule). When a page has shown
// its data it sets document.body.dataset.ready; an error it could not show otherwise goes to
// dataset.errors.
"use strict";

/** The headers of every call to the API: the console's own (see above). */
function consoleHeaders() {
  return { "X-Loadlake-Console": "1" };
}

/** To the login page, back here after it (the cookie is missing or no longer right). */
function toLogin() {
  location.href = "/login?" + new URLSearchParams({ next: location.pathname + location.search + location.hash });
}

/**
 * Fetches `path` of the JSON API with the token (a GET, or a POST of `body` as JSON);
 * resolves to the parsed JSON.
 */
async function api(path, body) {
  const init = body === undefined
    ? { headers: consoleHeaders() }
    : {
        method: "POST",
        headers: { ...consoleHeaders(), "Content-Type": "application/json" },
        body: JSON.stringify(body),
      };
  const response = await fetch(path, init);
  const answer = await response.json().catch(() => null);
  if (response.status === 401) {
    toLogin();
    throw new Error("this server needs its token: log in");
  }
  if (!response.ok) {
    throw new Error((answer && answer.message) || response.status + " " + response.statusText);
  }
  return answer;
}

/**
 * Sends a change (`method` DELETE, POST) to `path` of the JSON API with the token; resolves to
 * the parsed JSON answer, throws the server's message.
 */
async function mutate(method, path) {
  const response = await fetch(path, { method, headers: consoleHeaders() });
  const answer = await response.json().catch(() => null);
  if (response.status === 401) toLogin();
  if (!response.ok) {
    throw new Error((answer && answer.message) || method + " " + path + ": " + response.status);
  }
  return answer;
}

/**
 * Asks whether to delete `runId` (named `name`, `samples` samples) and, if so, deletes it
 * (`DELETE /api/v1/runs/{id}`, DeleteRun). Resolves to whether it was deleted.
 */
async function deleteRun(runId, name, samples) {
  const question =
    "Delete run " + runId + " (" + name + ", " + samples + " samples)?\n" +
    "Its samples leave the store; this cannot be undone.";
  if (!confirm(question)) return false;
  await mutate("DELETE", "/api/v1/runs/" + encodeURIComponent(runId));
  document.body.dataset.deleted = runId;
  return true;
}

function showError(error) {
  const p = document.getElementById("error");
  p.textContent = String(error.message || error);
  p.hidden = false;
  document.body.dataset.errors = p.textContent;
}

/** A table cell with `text`, marked with its field name (tests and scripts read these). */
function cell(field, text, numeric) {
  const td = document.createElement("td");
  td.dataset.field = field;
  td.textContent = text;
  if (numeric) td.className = "num";
  return td;
}

/** `x` with `digits` decimals, or "" for null/undefined. */
function fixed(x, digits) {
  return x === null || x === undefined ? "" : Number(x).toFixed(digits);
}

/** `x` rounded to at most three decimals, without trailing zeros, or "" for null/undefined. */
function thousandths(x) {
  return x === null || x === undefined ? "" : String(Math.round(x * 1000) / 1000);
}

/** Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC). */
function utc(ms) {
  return ms === null || ms === undefined ? "" : new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

// ------------------------------------------------------------------------------- runs page

/** The query string of the runs page's filters (as /api/v1/runs takes them). */
function filterQuery(nextToken) {
  const form = new FormData(document.getElementById("filters"));
  const query = new URLSearchParams();
  for (const [key, value] of form.entries()) {
    if (String(value).trim() !== "") query.append(key, String(value).trim());
  }
  query.set("max_results", "50");
  if (runsOrder.by !== "run" || runsOrder.ascending) {
    query.set("order_by", runsOrder.by);
    if (runsOrder.ascending) query.set("ascending", "true");
  }
  if (nextToken) query.set("next_token", nextToken);
  return query;
}

/** The runs table's order: a column `order_by` of /api/v1/runs takes, and its direction. */
const runsOrder = { by: "run", ascending: false };

/** The runs table's headers order it: a click orders by that column (largest first), a second
 * click on the same column reverses it. */
function setUpOrdering() {
  const headers = document.querySelectorAll("#runs th[data-order]");
  for (const th of headers) {
    th.classList.add("orderable");
    th.title = "order by " + th.textContent;
    th.onclick = () =>
      run(async () => {
        const by = th.dataset.order;
        runsOrder.ascending = runsOrder.by === by ? !runsOrder.ascending : false;
        runsOrder.by = by;
        for (const other of headers) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", runsOrder.ascending ? "ascending" : "descending");
        await showRuns(null);
      });
  }
}

/** The runs picked for a comparison, in the order they were ticked (at most two). */
const picked = [];

/** Ticks or unticks run `id`; a third tick drops the oldest one. */
function pick(id, on) {
  const at = picked.indexOf(id);
  if (at >= 0) picked.splice(at, 1);
  if (on) picked.push(id);
  while (picked.length > 2) {
    const dropped = picked.shift();
    const box = document.querySelector('#runs tr[data-run-id="' + CSS.escape(dropped) + '"] input.pick');
    if (box) box.checked = false;
  }
  const button = document.getElementById("compare-picked");
  button.disabled = picked.length !== 2;
  document.getElementById("pick-hint").textContent =
    picked.length === 2
      ? "baseline " + picked[0] + " → candidate " + picked[1]
      : "select two runs to compare them (the first is the baseline)";
  button.onclick = () => {
    location.href = "/compare?" + new URLSearchParams({ base: picked[0], target: picked[1] });
  };
}

function runRow(r) {
  const tr = document.createElement("tr");
  tr.dataset.runId = r.run_id;
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "pick";
  box.title = "compare this run";
  box.checked = picked.includes(r.run_id);
  box.onchange = () => pick(r.run_id, box.checked);
  const boxCell = document.createElement("td");
  boxCell.className = "pick";
  boxCell.appendChild(box);
  tr.appendChild(boxCell);
  const link = document.createElement("a");
  link.href = "/runs/" + encodeURIComponent(r.run_id);
  link.textContent = r.run_id;
  const id = cell("run_id", "");
  id.appendChild(link);
  tr.appendChild(id);
  // The name leads to the trend of the runs with this name.
  const name = cell("name", "");
  const trend = document.createElement("a");
  trend.href = "/trend?" + new URLSearchParams({ name: r.name });
  trend.textContent = r.name;
  trend.title = "trend of the runs named " + r.name;
  trend.className = "trend-link";
  name.appendChild(trend);
  tr.appendChild(name);
  const tags = Object.entries(r.tags || {}).sort().map(([k, v]) => k + "=" + v).join(" ");
  tr.appendChild(cell("tags", tags));
  const status = cell("status", r.status);
  status.classList.add("status-" + r.status);
  tr.appendChild(status);
  tr.appendChild(cell("samples", String(r.samples), true));
  tr.appendChild(cell("errors", String(r.errors), true));
  tr.appendChild(cell("error_pct", r.samples ? fixed((100 * r.errors) / r.samples, 2) : "", true));
  // Filled by showHeadlines once the page is drawn (a live run has none yet).
  tr.appendChild(cell("tp95", "", true));
  tr.appendChild(cell("start", utc(r.first_ts_ms)));
  const seconds = r.first_ts_ms != null && r.last_ts_ms != null ? (r.last_ts_ms - r.first_ts_ms) / 1000 : null;
  tr.appendChild(cell("duration_s", fixed(seconds, 1), true));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger small delete";
  remove.textContent = "Delete";
  remove.title = "delete this run";
  remove.onclick = () =>
    run(async () => {
      if (await deleteRun(r.run_id, r.name, r.samples)) {
        pick(r.run_id, false);
        await showRuns(null);
      }
    });
  const actions = document.createElement("td");
  actions.className = "actions";
  actions.appendChild(remove);
  tr.appendChild(actions);
  return tr;
}

/** The run the page uploaded last (its row is marked). */
let uploadedRun = null;

async function showRuns(nextToken) {
  const body = document.querySelector("#runs tbody");
  if (!nextToken) body.replaceChildren();
  const page = await api("/api/v1/runs?" + filterQuery(nextToken));
  for (const run of page.runs) {
    const tr = runRow(run);
    if (run.run_id === uploadedRun) tr.classList.add("new");
    body.appendChild(tr);
  }
  document.getElementById("summary").textContent =
    body.rows.length + " of " + page.total + " run(s)";
  const more = document.getElementById("more");
  more.hidden = !page.next_token;
  more.onclick = () => run(() => showRuns(page.next_token));
  document.body.dataset.ready = "runs";
  run(() => showHeadlines(page.runs));
}

/**
 * Fills the p95 cells of `runs` (the rows just drawn) from /api/v1/run-headlines: the whole
 * run's exact p95, from the runs' rollups (written the first time a run is asked for, so a
 * page seen before answers at once). Live runs are not asked for. Sets `data-headlines` on the
 * body when done.
 */
async function showHeadlines(runs) {
  const ids = runs.filter((r) => r.status === "complete" || r.status === "incomplete").map((r) => r.run_id);
  if (ids.length) {
    const answer = await api("/api/v1/run-headlines?" + new URLSearchParams({ run_ids: ids.join(",") }));
    for (const h of answer.runs) {
      const row = document.querySelector('#runs tr[data-run-id="' + CSS.escape(h.run_id) + '"]');
      const td = row && row.querySelector('td[data-field="tp95"]');
      if (td) td.textContent = thousandths(h.tp95);
    }
  }
  document.body.dataset.headlines = String(Number(document.body.dataset.headlines || 0) + 1);
}

/**
 * Sends `file` to `POST /api/v1/runs` (ImportFile's pipeline) with XMLHttpRequest, whose upload
 * progress fetch cannot report; `onProgress(loaded, total)` as the bytes go. Resolves to the
 * ImportFileResponse.
 */
function uploadFile(file, query, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/runs?" + query);
    for (const [name, value] of Object.entries(consoleHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch (e) {
        answer = null;
      }
      if (xhr.status === 401) toLogin();
      if (xhr.status >= 200 && xhr.status < 300 && answer) resolve(answer);
      else {
        const why = (answer && answer.message) || "upload: " + xhr.status + " " + xhr.statusText;
        // 409: these bytes were imported before; the zone's checkbox is the CLI's --force.
        reject(new Error(xhr.status === 409 ? why + " (tick “import again” to import it anyway)" : why));
      }
    };
    xhr.onerror = () => reject(new Error("upload: the connection failed"));
    xhr.send(file);
  });
}

/** Uploads `file` with the zone's options, shows its progress, then the new run in the list. */
async function upload(file) {
  const row = document.getElementById("upload-progress-row");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const input = document.getElementById("upload-file");
  delete document.body.dataset.uploaded;
  row.hidden = false;
  status.classList.remove("error");
  bar.max = Math.max(file.size, 1);
  bar.value = 0;
  status.textContent = "sending " + file.name + "…";
  const query = new URLSearchParams({ file_name: file.name });
  const name = document.getElementById("upload-name").value.trim();
  if (name) query.set("name", name);
  if (document.getElementById("upload-force").checked) query.set("force", "true");
  input.disabled = true;
  try {
    const answer = await uploadFile(file, query, (loaded, total) => {
      bar.max = Math.max(total, 1);
      bar.value = loaded;
      const pct = total ? Math.floor((100 * loaded) / total) : 100;
      status.textContent = loaded < total ? "sending " + file.name + ": " + pct + " %" : "importing " + file.name + "…";
    });
    bar.value = bar.max;
    status.textContent =
      "run " + answer.run_id + ": " + answer.samples + " samples, " + answer.errors + " errors" +
      (answer.rejected ? ", " + answer.rejected + " rows rejected" : "");
    uploadedRun = answer.run_id;
    await showRuns(null);
    document.body.dataset.uploaded = answer.run_id;
  } catch (e) {
    status.textContent = String(e.message || e);
    status.classList.add("error");
    document.body.dataset.uploadError = status.textContent;
  } finally {
    input.disabled = false;
    input.value = "";
  }
}

/** The runs page's upload zone: a file picked or dropped is uploaded. */
function setUpUpload() {
  const zone = document.getElementById("drop");
  const input = document.getElementById("upload-file");
  input.onchange = () => {
    if (input.files.length) run(() => upload(input.files[0]));
  };
  zone.ondragover = (event) => {
    event.preventDefault();
    zone.classList.add("over");
  };
  zone.ondragleave = () => zone.classList.remove("over");
  zone.ondrop = (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = event.dataTransfer.files;
    if (files.length) run(() => upload(files[0]));
  };
}

// -------------------------------------------------------------------------------- run page

function outlineCard(field, label, text) {
  const div = document.createElement("div");
  div.className = "card";
  div.dataset.field = field;
  const b = document.createElement("b");
  b.textContent = text;
  div.append(b, label);
  return div;
}

/** Draws the AW curve of `base` (the run, or `?case_id=…&detail_id=…` of one request): TPS on
 *  the left axis, mean / p90 / p99 response time on the right, one point per interval. */
async function showCurve(base, caseName, name) {
  const query = new URLSearchParams({ brokens_limit_count: "600", curve_only: "true" });
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
      axes: [{}, { label: "TPS" }, { scale: "rt", side: 1, label: "ms", grid: { show: false } }],
      series: [
        {},
        { label: "TPS", stroke: "#1d3557", width: 2 },
        { label: "avg ms", scale: "rt", stroke: "#2a9d8f" },
        { label: "p90 ms", scale: "rt", stroke: "#e9c46a" },
        { label: "p99 ms", scale: "rt", stroke: "#e76f51" },
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
  const report = await apiOnceCommitted(base + "/report?page_size=1000");
  const o = report.outline || {};
  document.getElementById("outline").replaceChildren(
    outlineCard("requests", "requests", String(o.requests)),
    outlineCard("tps", "TPS", fixed(o.tps, 3)),
    outlineCard("average_resp_time", "avg response ms", fixed(o.average_resp_time, 2)),
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

/** A result cell's text: "" for null, JSON for lists and structs, the value otherwise. */
function sqlText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The SQL page: runs the box's statement (POST /api/v1/sql) and shows its rows. */
async function runSql() {
  document.getElementById("error").hidden = true;
  delete document.body.dataset.ready;
  const sql = document.getElementById("sql").value;
  const answer = await api("/api/v1/sql", { sql });
  const head = document.createElement("tr");
  for (const c of answer.columns) {
    const th = document.createElement("th");
    th.textContent = c.name;
    th.title = c.type;
    head.append(th);
  }
  document.querySelector("#result thead").replaceChildren(head);
  document.querySelector("#result tbody").replaceChildren(
    ...answer.rows.map((row) => {
      const tr = document.createElement("tr");
      for (const c of answer.columns) {
        const v = row[c.name];
        tr.append(cell(c.name, sqlText(v), typeof v === "number"));
      }
      return tr;
    }),
  );
  document.getElementById("summary").textContent =
    answer.rows.length + " rows" + (answer.truncated ? " (the first ones: there are more)" : "");
  document.body.dataset.ready = "sql";
}

/** Shows the header's "Log out" when the server has a token (its /login then answers with
 *  the form rather than sending on). */
async function showLogout() {
  const form = document.querySelector("header form.logout");
  if (!form) return;
  const login = await fetch("/login", { redirect: "manual" }).catch(() => null);
  form.hidden = !(login && login.status === 200);
}

/** Runs `step`, showing what went wrong instead of failing silently. */
function run(step) {
  step().catch(showError);
}

showLogout();
if (document.body.dataset.page === "runs") {
  document.getElementById("filters").onsubmit = (event) => {
    event.preventDefault();
    run(() => showRuns(null));
  };
  setUpUpload();
  setUpOrdering();
  run(() => showRuns(null));
} else if (document.body.dataset.page === "run") {
  run(showRun);
} else if (document.body.dataset.page === "sql") {
  document.getElementById("query").onsubmit = (event) => {
    event.preventDefault();
    run(runSql);
  };
  // Asks for the token (if the server needs one) before a statement is typed, not after.
  run(async () => {
    await api("/api/v1/runs?max_results=1");
    document.body.dataset.ready = "sql-page";
  });
}
