// The console's pages across runs: /compare (GET /api/v1/compare, what `loadlake compare
// --format json` prints) and /trend (GET /api/v1/trend, what `loadlake trend --format json`
// prints). Uses console.js's helpers (api, cell, fixed, utc, outlineCard, timeSymbol, run). The page's URL holds its
// query, so a comparison or a trend is a link to share; the form changes the URL.
"use strict";

/** Fills `form`'s fields from `params` (the page URL's query string). */
function fillForm(form, params) {
  for (const element of form.elements) {
    if (element.name && params.has(element.name)) element.value = params.get(element.name);
  }
}

/** The non-empty fields of `form` as a query string. */
function formQuery(form) {
  const query = new URLSearchParams();
  for (const [key, value] of new FormData(form).entries()) {
    if (String(value).trim() !== "") query.set(key, String(value).trim());
  }
  return query;
}

/** A summary card (console.js's outline cards) with a class for its colour. */
function card(field, label, text, tone) {
  const div = outlineCard(field, label, text);
  if (tone) div.classList.add(tone);
  return div;
}

// ---------------------------------------------------------------------------- compare page

/** A metric's value as the page shows it (ms, TPS or percent: 2 decimals). */
function metricText(x) {
  return fixed(x, 2);
}

function compareRow(r) {
  const tr = document.createElement("tr");
  tr.dataset.level = r.level;
  tr.dataset.metric = r.metric;
  tr.dataset.verdict = r.verdict;
  tr.className = "verdict-" + r.verdict;
  tr.appendChild(cell("level", r.level));
  tr.appendChild(cell("case_name", r.caseName));
  tr.appendChild(cell("name", r.name));
  tr.appendChild(cell("metric", r.metric));
  tr.appendChild(cell("baseline", metricText(r.baseline), true));
  tr.appendChild(cell("candidate", metricText(r.candidate), true));
  const delta = r.delta === null ? "" : (r.delta > 0 ? "+" : "") + metricText(r.delta);
  tr.appendChild(cell("delta", delta, true));
  const pct = r.deltaPct === null ? "" : (r.deltaPct > 0 ? "+" : "") + fixed(r.deltaPct, 2);
  tr.appendChild(cell("delta_pct", pct, true));
  tr.appendChild(cell("samples", r.baselineSamples + " / " + r.candidateSamples, true));
  const verdict = cell("verdict", "");
  const badge = document.createElement("span");
  badge.className = "badge " + r.verdict;
  badge.textContent = r.verdict;
  verdict.appendChild(badge);
  tr.appendChild(verdict);
  return tr;
}

/** Shows only the rows of the chosen verdict ("" all, "changed" regressions and improvements). */
function filterVerdicts() {
  const chosen = new FormData(document.getElementById("verdicts")).get("verdict") || "";
  for (const tr of document.querySelectorAll("#compare tbody tr")) {
    const v = tr.dataset.verdict;
    tr.hidden = !(chosen === "" || v === chosen || (chosen === "changed" && (v === "regression" || v === "improvement")));
  }
}

function runLink(id, ref) {
  const a = document.getElementById(id);
  a.href = "/runs/" + encodeURIComponent(ref.runId);
  a.textContent = ref.name + " (" + ref.runId + ")";
}

async function showCompare() {
  const params = new URLSearchParams(location.search);
  const form = document.getElementById("compare-form");
  fillForm(form, params);
  form.onsubmit = (event) => {
    event.preventDefault();
    location.search = "?" + formQuery(form);
  };
  if (!params.get("base") || !params.get("target")) {
    // Nothing asked yet: the form is the page (one call now, so a lost login shows at once).
    await api("/api/v1/runs?max_results=1");
    document.getElementById("hint").textContent =
      "Give two run ids, or select two runs on the runs page and press Compare.";
    document.body.dataset.ready = "compare-form";
    return;
  }
  const c = await api("/api/v1/compare?" + params);
  document.title = "loadlake — compare " + c.baseline.name + " → " + c.candidate.name;
  document.getElementById("sides").hidden = false;
  runLink("base-link", c.baseline);
  runLink("target-link", c.candidate);
  const judged = c.rows.filter((r) => r.verdict !== "insufficient" && r.verdict !== "missing").length;
  document.getElementById("compare-cards").replaceChildren(
    card("regressions", "regressions", String(c.regressions), c.regressions ? "bad" : "good"),
    card("improvements", "improvements", String(c.improvements), c.improvements ? "good" : ""),
    card("rows", "metrics compared", String(c.rows.length)),
    card("judged", "judged", String(judged)),
    card("threshold", "threshold %", fixed(c.thresholdPct, 1)),
    card("min_samples", "min samples", String(c.minSamples)),
    card("time_unit", "response times in", timeSymbol(c.timeUnit)),
  );
  document.getElementById("hint").textContent =
    "A time or TPS change beyond " + fixed(c.thresholdPct, 1) + " % of the baseline, or a success-rate change beyond " +
    fixed(c.rateThresholdPoints, 1) + " points, is a regression or an improvement; fewer than " + c.minSamples +
    " samples on either side is insufficient; a row in one run only is missing.";
  document.querySelector("#compare tbody").replaceChildren(...c.rows.map(compareRow));
  const verdicts = document.getElementById("verdicts");
  verdicts.hidden = false;
  verdicts.onchange = filterVerdicts;
  filterVerdicts();
  document.body.dataset.ready = "compare";
}

// ------------------------------------------------------------------------------ trend page

/** What the trend page says a metric is, a response time in the answer's unit. */
function metricLabel(metric, timeUnit) {
  const option = document.querySelector('#trend-form select[name=metric] option[value="' + CSS.escape(metric) + '"]');
  return option ? option.textContent.replace("(ms)", "(" + timeSymbol(timeUnit) + ")") : metric;
}

/** The scope of a trend as the page names it. */
function scopeText(t) {
  if (t.request) return (t.case ? t.case + " / " : "") + t.request;
  if (t.case) return t.case;
  return "whole run";
}

/** Draws the trend: one point per run, oldest first, labelled by the run's start. */
function drawTrend(t) {
  const holder = document.getElementById("chart");
  holder.replaceChildren();
  const xs = t.points.map((_, i) => i);
  const ys = t.points.map((p) => (p.value === null ? null : p.value));
  const label = (i) => {
    const p = t.points[Math.round(i)];
    return p && Math.abs(i - Math.round(i)) < 1e-9 ? utc(p.startTime).slice(0, 16) || p.runId : "";
  };
  new uPlot(
    {
      width: Math.max(400, holder.clientWidth || 900),
      height: 280,
      scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
      axes: [
        { values: (u, splits) => splits.map(label), incrs: [1, 2, 5, 10, 20, 50] },
        { label: metricLabel(t.metric, t.timeUnit) },
      ],
      series: [
        { label: "run started", value: (u, i) => label(i) },
        { label: metricLabel(t.metric, t.timeUnit), stroke: "#1d3557", width: 2, points: { size: 8, fill: "#1d3557" }, spanGaps: true },
      ],
      legend: { show: true },
    },
    [xs, ys],
    holder,
  );
  document.body.dataset.chartPoints = String(ys.filter((y) => y !== null).length);
}

function trendRow(p, previous, timeUnit) {
  const tr = document.createElement("tr");
  tr.dataset.runId = p.runId;
  const link = document.createElement("a");
  link.href = "/runs/" + encodeURIComponent(p.runId);
  link.textContent = p.runId;
  const id = cell("run_id", "");
  id.appendChild(link);
  tr.appendChild(id);
  tr.appendChild(cell("name", p.name));
  tr.appendChild(cell("start", utc(p.startTime)));
  tr.appendChild(cell("samples", String(p.samples), true));
  tr.appendChild(cell("value", fixed(p.value, 2), true));
  const compare = document.createElement("td");
  if (previous) {
    const a = document.createElement("a");
    const query = new URLSearchParams({ base: previous.runId, target: p.runId });
    if (timeUnit === "us") query.set("resolution", "us");
    a.href = "/compare?" + query;
    a.textContent = "compare with previous";
    compare.appendChild(a);
  }
  tr.appendChild(compare);
  return tr;
}

async function showTrend() {
  const params = new URLSearchParams(location.search);
  const form = document.getElementById("trend-form");
  fillForm(form, params);
  form.onsubmit = (event) => {
    event.preventDefault();
    location.search = "?" + formQuery(form);
  };
  if (!params.get("name") && !params.get("tag")) {
    await api("/api/v1/runs?max_results=1");
    document.getElementById("trend-title").textContent = "Give a run name or a tag";
    document.body.dataset.ready = "trend-form";
    return;
  }
  if (!params.get("metric")) params.set("metric", form.elements.metric.value);
  const t = await api("/api/v1/trend?" + params);
  const what = params.get("name") || params.get("tag");
  document.title = "loadlake — trend of " + what;
  document.getElementById("trend-title").textContent =
    metricLabel(t.metric, t.timeUnit) + " of " + scopeText(t) + " — " + what + ", " + t.points.length + " run(s)";
  document.getElementById("value-head").textContent = metricLabel(t.metric, t.timeUnit);
  const values = t.points.map((p) => p.value).filter((v) => v !== null);
  const last = t.points.length ? t.points[t.points.length - 1] : null;
  document.getElementById("trend-cards").replaceChildren(
    card("runs", "runs", String(t.points.length)),
    card("latest", "latest", last ? fixed(last.value, 2) : ""),
    card("min", "lowest", values.length ? fixed(Math.min(...values), 2) : ""),
    card("max", "highest", values.length ? fixed(Math.max(...values), 2) : ""),
  );
  document.querySelector("#trend tbody").replaceChildren(
    ...t.points.map((p, i) => trendRow(p, i > 0 ? t.points[i - 1] : null, t.timeUnit)),
  );
  drawTrend(t);
  document.body.dataset.ready = "trend";
}

if (document.body.dataset.page === "compare") {
  run(showCompare);
} else if (document.body.dataset.page === "trend") {
  run(showTrend);
}
