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

/** The symbol of a time unit as the API names it (`us`; `ms` or absent: ms). */
function timeSymbol(timeUnit) {
  return timeUnit === "us" ? "µs" : "ms";
}

/** A headline card: the value in bold over its label (run page, compare and trend cards). */
function outlineCard(field, label, text) {
  const div = document.createElement("div");
  div.className = "card";
  div.dataset.field = field;
  const b = document.createElement("b");
  b.textContent = text;
  div.append(b, label);
  return div;
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
