/* loadlake report pages: the small amount of script every page shares.
 *
 *  1. An error recorder: every uncaught error or unhandled promise rejection is kept in
 *     document.body.dataset.errors (a JSON array) so a headless test can read it.
 *  2. Sortable tables: click a header of a <table class="sortable"> to sort its rows
 *     (numbers numerically, text naturally; empty cells always last).
 *  3. Row filters: <div class="filters" data-table="ID"> buttons with data-value show only the
 *     rows of table ID whose data-verdict matches ("" shows all).
 *  4. Charts (uPlot): the page's <script id="loadlake-data" type="application/json"> holds
 *     {curve, timeUnit} on a run page or {trend, axisLabel} on a trend page. Every
 *     <figure data-chart="NAME"> gets a chart, kept as the figure's `uplot` property; each y axis
 *     is labelled with its quantity and unit ("response time (µs)"), so a chart says its unit
 *     itself, not only its caption. document.body.dataset.chartsReady is set to the number of
 *     charts once they are all drawn ("0" when there is nothing to draw).
 *
 * No framework, no network: this file is inlined in the page by the Rust side.
 */
(function () {
  "use strict";

  /* ---------------------------------------------------------------- 1. errors */

  var errors = [];

  function record(message) {
    errors.push(String(message));
    if (document.body) document.body.dataset.errors = JSON.stringify(errors);
  }

  window.onerror = function (message, source, line, column, error) {
    record((error && error.stack) || (message + " at " + source + ":" + line + ":" + column));
  };
  window.addEventListener("unhandledrejection", function (event) {
    var r = event.reason;
    record("unhandled rejection: " + ((r && (r.stack || r.message)) || r));
  });

  /* ---------------------------------------------------------------- 2. sorting */

  var NUMBER = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?%?$/;

  // The sort key of a cell: its data-sort attribute if it has one, else its text.
  function cellKey(cell) {
    if (!cell) return { empty: true };
    var text = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (text === "") return { empty: true };
    return NUMBER.test(text) ? { num: parseFloat(text) } : { text: text };
  }

  function compareKeys(a, b) {
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    if (a.num !== undefined) return -1; // numbers before text
    if (b.num !== undefined) return 1;
    return a.text.localeCompare(b.text, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(table, column, th) {
    var descending = th.getAttribute("aria-sort") === "ascending";
    var headers = table.tHead.rows[0].cells;
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");

    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, index) {
      return { row: row, index: index, key: cellKey(row.cells[column]) };
    });
    rows.sort(function (a, b) {
      if (a.key.empty || b.key.empty) {
        if (a.key.empty && b.key.empty) return a.index - b.index;
        return a.key.empty ? 1 : -1; // empty cells last, whichever the direction
      }
      var c = compareKeys(a.key, b.key);
      if (descending) c = -c;
      return c !== 0 ? c : a.index - b.index; // stable
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) { fragment.appendChild(r.row); });
    body.appendChild(fragment);
  }

  function initSortable(table) {
    if (!table.tHead || !table.tBodies.length) return;
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      th.title = "Sort";
      th.addEventListener("click", function () { sortTable(table, column, th); });
    });
  }

  /* ---------------------------------------------------------------- 3. filters */

  function initFilters(box) {
    var table = document.getElementById(box.getAttribute("data-table"));
    if (!table) return;
    var buttons = box.querySelectorAll("button[data-value]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        var value = button.getAttribute("data-value");
        Array.prototype.forEach.call(buttons, function (b) { b.classList.toggle("active", b === button); });
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          row.hidden = value !== "" && row.getAttribute("data-verdict") !== value;
        });
      });
    });
  }

  /* ---------------------------------------------------------------- 4. charts */

  var SYNC_KEY = "loadlake";
  var HEIGHT = 240;

  // A number for a legend: up to 2 decimals, no trailing zeros.
  function fmt(v) {
    return v == null ? "\u2014" : String(Math.round(v * 100) / 100);
  }

  // Bytes with a binary unit, for the bytes chart's axis and legend.
  function fmtBytes(v) {
    if (v == null) return "\u2014";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return fmt(v) + " " + units[i];
  }

  // Time-axis tick labels in UTC, as precise as the visible span needs: "04:15:30.500",
  // "04:15:30", "04:15", "11-22 04:15" or "2026-11-22".
  function timeTicks(u, splits) {
    var span = u.scales.x.max - u.scales.x.min;
    return splits.map(function (s) {
      var iso = new Date(s * 1000).toISOString(); // 2026-11-22T04:15:30.000Z
      if (span > 4 * 86400) return iso.slice(0, 10);
      if (span > 86400) return iso.slice(5, 10) + " " + iso.slice(11, 16);
      if (span > 1800) return iso.slice(11, 16);
      return span > 10 ? iso.slice(11, 19) : iso.slice(11, 23);
    });
  }

  // The y scales start at 0 (every plotted quantity is a count, a rate or a time) and survive
  // series that are all null or all zero.
  function yRange(u, min, max) {
    if (max == null || !isFinite(max)) return [0, 1];
    if (max <= 0) max = 1;
    return uPlot.rangeNum(Math.min(0, min), max, 0.1, true);
  }

  // The x range; a single point is centred in `pad` seconds each side (uPlot alone would put it
  // on the left edge of a 1000-day range).
  function xRange(pad) {
    return function (u, min, max) {
      var xs = u.data[0];
      if (xs && xs.length === 1) return [xs[0] - pad, xs[0] + pad];
      if (min == null || max == null) return [0, 1];
      return min === max ? [min - pad, max + pad] : [min, max];
    };
  }

  // The chart specs of a run page: figure data-chart name -> series [column, label, colour]
  // and the y axis' label (`{unit}`: the page's time unit, ms or µs).
  var CURVE_CHARTS = {
    tps: { series: [["tps", "TPS", "#2f80ed"]], fill: true, yLabel: "requests / s" },
    rt: {
      series: [["avgRt", "avg", "#243b53"], ["p50", "p50", "#27ae60"], ["p90", "p90", "#d4a017"],
               ["p95", "p95", "#f2994a"], ["p99", "p99", "#eb5757"]],
      yLabel: "response time ({unit})"
    },
    vusers: { series: [["vusers", "virtual users", "#9b51e0"]], fill: true, yLabel: "virtual users" },
    bytes: { series: [["recBytes", "received", "#2d9cdb"], ["sentBytes", "sent", "#f2994a"]], format: fmtBytes,
             yLabel: "bytes / interval" },
    codes: {
      series: [["success", "success", "#27ae60"], ["error", "error", "#eb5757"], ["timeout", "timeout", "#f2994a"],
               ["refusedFailed", "refused", "#9b51e0"], ["parsedFailed", "parse failed", "#56ccf2"],
               ["checkPointFailed", "assertion failed", "#d4a017"], ["othersFailed", "others", "#828282"]],
      yLabel: "responses / interval"
    }
  };

  // The symbol of a JSON report's timeUnit ("us" or "ms"; ms when absent).
  function unitSymbol(timeUnit) {
    return timeUnit === "us" ? "\u00b5s" : "ms";
  }

  // Builds one uPlot chart in `figure` from x (seconds) and [label, colour, values] series.
  function makeChart(figure, xs, series, spec, hooks) {
    var plot = figure.querySelector(".plot") || figure;
    var format = spec.format || fmt;
    var opts = {
      width: Math.max(plot.clientWidth, 300),
      height: HEIGHT,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      cursor: { sync: { key: SYNC_KEY, scales: ["x", null] }, drag: { x: true, y: false } },
      scales: { x: { time: true, range: xRange(spec.pad || 1) }, y: { range: yRange } },
      axes: [
        { space: 90, grid: { stroke: "#eef2f6" }, values: timeTicks },
        { size: 84, grid: { stroke: "#eef2f6" }, label: spec.yLabel, labelSize: 20,
          values: function (u, vals) { return vals.map(format); } }
      ],
      series: [{ label: "time (UTC)", value: spec.xValue || "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" }].concat(series.map(function (s) {
        return {
          label: s[0],
          stroke: s[1],
          width: 1.5,
          fill: spec.fill ? s[1] + "22" : undefined,
          points: spec.points ? { show: true, size: 6 } : undefined,
          value: function (u, v) { return format(v); }
        };
      })),
      hooks: hooks
    };
    var data = [xs].concat(series.map(function (s) { return s[2]; }));
    var chart = new uPlot(opts, data, plot);
    figure.uplot = chart; // what a headless test reads the axes' labels and ticks from
    return chart;
  }

  // Makes every chart of `specs` ({figure, series, spec}) and reports chartsReady when all drew.
  function drawAll(specs, xs) {
    var charts = [], drawn = 0, syncing = false;
    var hooks = {
      draw: [function (u) {
        if (u._loadlakeDrawn) return;
        u._loadlakeDrawn = true;
        if (++drawn === specs.length) document.body.dataset.chartsReady = String(drawn);
      }],
      // Zooming one chart zooms the others to the same time range.
      setScale: [function (u, key) {
        if (key !== "x" || syncing) return;
        syncing = true;
        charts.forEach(function (c) {
          if (c !== u && (c.scales.x.min !== u.scales.x.min || c.scales.x.max !== u.scales.x.max)) {
            c.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
          }
        });
        syncing = false;
      }]
    };
    specs.forEach(function (s) { charts.push(makeChart(s.figure, xs, s.series, s.spec, hooks)); });

    // Follow the window's width (at most once per frame).
    var pending = false;
    window.addEventListener("resize", function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        charts.forEach(function (c, i) {
          var plot = specs[i].figure.querySelector(".plot");
          c.setSize({ width: Math.max(plot.clientWidth, 300), height: HEIGHT });
        });
      });
    });
  }

  function noData(figures, text) {
    figures.forEach(function (f) {
      var plot = f.querySelector(".plot") || f;
      plot.innerHTML = "";
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = text;
      plot.appendChild(p);
    });
    document.body.dataset.chartsReady = "0";
  }

  // A run page: data.curve = {intervalMs, columns: {t: [ms...], tps: [...], ...}}; response
  // times in `timeUnit` ("ms" or "us").
  function curveCharts(curve, timeUnit, figures) {
    var columns = (curve && curve.columns) || {};
    var t = columns.t || [];
    if (!t.length) return noData(figures, "No data points in this run.");
    var xs = t.map(function (ms) { return ms / 1000; });
    // A column of the wrong length (or a missing one) is drawn as a gap, not an error.
    var column = function (key) {
      var c = columns[key];
      return c && c.length === t.length ? c : t.map(function () { return null; });
    };
    // A lone point gets at least a minute around it.
    var pad = Math.max((curve.intervalMs || 1000) / 1000, 30);
    var specs = figures.filter(function (f) { return CURVE_CHARTS[f.dataset.chart]; }).map(function (f) {
      var spec = CURVE_CHARTS[f.dataset.chart];
      return {
        figure: f,
        spec: { fill: spec.fill, format: spec.format, pad: pad,
                yLabel: spec.yLabel.replace("{unit}", unitSymbol(timeUnit)) },
        series: spec.series.map(function (s) { return [s[1], s[2], column(s[0])]; })
      };
    });
    drawAll(specs, xs);
  }

  // A trend page: data.trend = {metric, points: [{runId, name, startTime (ms), value, samples}]};
  // `axisLabel`: the metric and its unit ("tp95 (µs)").
  function trendChart(trend, axisLabel, figures) {
    var points = (trend.points || []).filter(function (p) { return p.startTime != null; });
    if (!points.length) return noData(figures, "No runs to draw.");
    points = points.slice().sort(function (a, b) { return a.startTime - b.startTime; });
    var xs = points.map(function (p) { return p.startTime / 1000; });
    var values = points.map(function (p) { return p.value; });
    drawAll([{
      figure: figures[0],
      spec: {
        points: true,
        pad: 3600,
        yLabel: axisLabel || trend.metric,
        // The legend names the run under the cursor.
        xValue: function (u, v, series, i) {
          var p = points[i];
          return p ? new Date(p.startTime).toISOString().slice(0, 19).replace("T", " ") + " \u00b7 " + p.name + " (" + p.runId + ")" : "\u2014";
        }
      },
      series: [[trend.metric || "value", "#2f80ed", values]]
    }], xs);
  }

  function initCharts() {
    var block = document.getElementById("loadlake-data");
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-chart]"));
    var data = block ? JSON.parse(block.textContent) : {};
    if (data.curve && figures.length) return curveCharts(data.curve, data.timeUnit, figures);
    if (data.trend && figures.length) return trendChart(data.trend, data.axisLabel, figures);
    document.body.dataset.chartsReady = "0";
  }

  /* ---------------------------------------------------------------- start */

  document.addEventListener("DOMContentLoaded", function () {
    document.body.dataset.errors = JSON.stringify(errors);
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), initSortable);
    Array.prototype.forEach.call(document.querySelectorAll(".filters[data-table]"), initFilters);
    try {
      initCharts();
    } catch (e) {
      record((e && e.stack) || e);
      document.body.dataset.chartsReady = "failed";
    }
  });
})();
