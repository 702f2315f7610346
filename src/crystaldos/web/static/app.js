// crystaldos web page: plain JavaScript on the JSON API of crystaldos.web.app.
"use strict";

let units = {"cm^-1": 1.0};
let current = null;  // the last single-structure result
const $ = (id) => document.getElementById(id);

function showError(box, message) {
  box.textContent = message;
  box.hidden = !message;
}

async function api(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = {error: `server answered ${response.status}`}; }
  if (!response.ok) { throw new Error(body.error || `server answered ${response.status}`); }
  return body;
}

function fmt(value) {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "number") return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(3) : (+value.toFixed(4)).toString();
  return String(value);
}

// -- tabs ------------------------------------------------------------------------------------
for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tab")) {
      t.classList.toggle("active", t === tab);
      $(t.dataset.panel).hidden = t !== tab;
    }
  });
}

// -- one structure ---------------------------------------------------------------------------
function elementColor(symbol) {
  let h = 0;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h}, 65%, 50%)`;
}

function drawStructure(s) {
  const facts = [["formula", `${s.formula} (cell ${s.cell_formula})`], ["atoms", s.n_atoms],
    ["a, b, c (Å)", s.lengths_A.map(fmt).join(", ")],
    ["α, β, γ (°)", s.angles_deg.map(fmt).join(", ")], ["volume (Å³)", fmt(s.volume_A3)]];
  $("structure").innerHTML = facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("");
  const [a, b, c] = s.lattice;
  const corner = (i, j, k) => [0, 1, 2].map((d) => i * a[d] + j * b[d] + k * c[d]);
  const edges = {x: [], y: [], z: []};
  for (const [p, q] of [[[0,0,0],[1,0,0]],[[0,0,0],[0,1,0]],[[0,0,0],[0,0,1]],[[1,0,0],[1,1,0]],
      [[1,0,0],[1,0,1]],[[0,1,0],[1,1,0]],[[0,1,0],[0,1,1]],[[0,0,1],[1,0,1]],[[0,0,1],[0,1,1]],
      [[1,1,0],[1,1,1]],[[1,0,1],[1,1,1]],[[0,1,1],[1,1,1]]]) {
    const u = corner(...p), v = corner(...q);
    edges.x.push(u[0], v[0], null); edges.y.push(u[1], v[1], null); edges.z.push(u[2], v[2], null);
  }
  const traces = [{type: "scatter3d", mode: "lines", ...edges, line: {color: "#888"},
                   hoverinfo: "skip", showlegend: false}];
  for (const el of [...new Set(s.species)]) {
    const at = s.positions.filter((_, i) => s.species[i] === el);
    traces.push({type: "scatter3d", mode: "markers", name: el, x: at.map((p) => p[0]),
                 y: at.map((p) => p[1]), z: at.map((p) => p[2]),
                 marker: {size: 8, color: elementColor(el)}});
  }
  Plotly.newPlot("view3d", traces, {margin: {l: 0, r: 0, t: 0, b: 0},
    scene: {aspectmode: "data", xaxis: {title: {text: "x (Å)"}}, yaxis: {title: {text: "y (Å)"}},
           zaxis: {title: {text: "z (Å)"}}}},
    {displaylogo: false});
}

function drawSpectra(kind, element, unit) {
  const models = current.models.filter((m) => m.kind === kind && !m.error);
  const factor = kind === "phonon" ? units[unit] : 1.0;
  const traces = [];
  models.forEach((m, k) => {
    const x = m.x.map((v) => v * factor);
    if (m.dos_std) {  // an ensemble: a one-sigma band under its mean
      const upper = m.dos.map((y, i) => y + m.dos_std[i]);
      const lower = m.dos.map((y, i) => Math.max(0, y - m.dos_std[i]));
      traces.push({x: x, y: lower, mode: "lines", line: {width: 0}, showlegend: false,
                   hoverinfo: "skip", legendgroup: m.name});
      traces.push({x: x, y: upper, mode: "lines", line: {width: 0}, fill: "tonexty",
                   fillcolor: "rgba(100,100,100,0.2)", name: `${m.name} ±1σ`, hoverinfo: "skip",
                   legendgroup: m.name, uncertainty: true});
    }
    traces.push({x: x, y: m.dos, name: `${m.name} (${m.normalization})`, mode: "lines",
                 legendgroup: m.name,
                 hovertemplate: `%{x:.4g} ${kind === "phonon" ? unit : "eV"}: %{y:.4g}<extra>${m.name}</extra>`});
  });
  const xTitle = kind === "phonon" ? `frequency (${unit})` : "E − E_F (eV)";
  let xaxis = {title: {text: xTitle}};
  if (kind === "phonon" && traces.length) {  // wide grids: show where the spectra are
    let lo = Infinity, hi = -Infinity;
    for (const t of traces) {
      const top = Math.max(...t.y);
      t.x.forEach((x, i) => { if (t.y[i] > 0.01 * top) { lo = Math.min(lo, x); hi = Math.max(hi, x); } });
    }
    if (hi > lo) { const pad = 0.08 * (hi - lo); xaxis.range = [Math.min(lo, 0) - pad, hi + pad]; }
  }
  Plotly.newPlot(element, traces, {margin: {t: 10}, xaxis: xaxis,
    yaxis: {title: {text: kind === "phonon" ? "DOS (max = 1)" : "DOS (model's normalization)"}}, legend: {orientation: "h", y: -0.3}}, {displaylogo: false});
}

function drawProperties() {
  const models = current.models.filter((m) => !m.error);
  // one row per property, one column per model of that kind
  const blocks = [];
  for (const kind of ["phonon", "electronic"]) {
    const ms = models.filter((m) => m.kind === kind);
    if (!ms.length) continue;
    const head = `<tr><th>${kind} property</th>` + ms.map((m) => `<th>${m.name}</th>`).join("") + "<th>unit</th></tr>";
    const body = Object.entries(ms[0].properties).map(([col, p]) =>
      `<tr><td>${p.label}</td>` + ms.map((m) => {
        const q = m.properties[col];
        const interval = q.interval95 ? ` (95 %: ${fmt(q.interval95[0])}–${fmt(q.interval95[1])})` : "";
        return `<td>${fmt(q.value)}${q.std !== null && q.std !== undefined ? " ± " + fmt(q.std) : ""}${interval}</td>`;
      }).join("") + `<td>${p.unit}</td></tr>`);
    blocks.push(head + body.join(""));
  }
  $("properties").innerHTML = blocks.join("");
  const thermal = models.filter((m) => m.curves);
  const traces = [];
  for (const m of thermal) {
    traces.push({x: m.curves.T, y: m.curves.cv, name: `Cv ${m.name}`, mode: "lines"});
    traces.push({x: m.curves.T, y: m.curves.s, name: `S ${m.name}`, mode: "lines", yaxis: "y2",
                 line: {dash: "dot"}});
  }
  Plotly.newPlot("thermal-plot", traces, {margin: {t: 10}, xaxis: {title: {text: "T (K)"}},
    yaxis: {title: {text: "Cv, J/(mol K) per formula unit (solid)"}},
    yaxis2: {title: {text: "S, J/(mol K) per formula unit (dotted)"}, overlaying: "y", side: "right"},
    legend: {orientation: "h", y: -0.3}}, {displaylogo: false});
  const notes = [];
  for (const m of current.models) {
    if (m.error) notes.push(`${m.name}: no prediction (${m.error})`);
    if (m.note) notes.push(`${m.name}: ${m.note}`);
    if (m.caveat) notes.push(`${m.name}: ${m.caveat}`);
  }
  $("notes").innerHTML = notes.map((n) => `<li>${n.replace(/</g, "&lt;")}</li>`).join("");
}

function showResult(result) {
  current = result;
  $("result").hidden = false;
  $("title").textContent = `${result.structure.formula} — ${result.file}`;
  drawStructure(result.structure);
  drawSpectra("phonon", "phonon-plot", $("unit").value);
  drawSpectra("electronic", "electronic-plot", "eV");
  drawProperties();
  for (const [id, name] of [["download-spectra", "spectra.csv"], ["download-properties", "properties.csv"],
                            ["download-json", "result.json"]]) {
    $(id).href = `/api/results/${result.id}/${name}`;
  }
}

$("unit").addEventListener("change", () => { if (current) drawSpectra("phonon", "phonon-plot", $("unit").value); });

$("one-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError($("error"), "");
  $("busy").hidden = false;
  $("predict").disabled = true;
  try {
    const result = await api("/api/structure", {method: "POST", body: new FormData($("one-form"))});
    showResult(result);
  } catch (err) {
    showError($("error"), err.message);
  } finally {
    $("busy").hidden = true;
    $("predict").disabled = false;
  }
});

// -- many structures -------------------------------------------------------------------------
async function showJob(id) {
  const job = await api(`/api/jobs/${id}`);
  const box = $("job-results");
  if (!job.results) { box.innerHTML = ""; return; }
  const r = job.results;
  const head = r.columns.map((c) => `<th>${c}</th>`).join("");
  const body = r.rows.map((row) => "<tr>" + r.columns.map((c) => `<td>${fmt(row[c])}</td>`).join("") + "</tr>").join("");
  const failed = r.failures.map((f) => `<li>${f.input}: ${f.reason.replace(/</g, "&lt;")}</li>`).join("");
  box.innerHTML = `<h3>Top ${r.rows.length} by ${r.by}</h3><table class="facts" id="ranked"><tr>${head}</tr>${body}</table>`
    + `<p><a href="/jobs/${id}/report" target="_blank" id="report-link">full report</a></p>`
    + (failed ? `<h4>Failures</h4><ul>${failed}</ul>` : "");
}

async function refreshJobs() {
  let list = [];
  try { list = await api("/api/jobs"); } catch (err) { return; }
  const rows = list.map((j) => {
    const total = j.total || 0;
    const bar = total ? `<progress value="${j.done}" max="${total}"></progress> ${j.done}/${total}` : `${j.done}`;
    const state = j.error ? `${j.state}: ${j.error.replace(/</g, "&lt;")}` : j.state;
    const show = j.state === "done" ? `<button data-job="${j.id}" class="show-job">results</button>` : "";
    return `<tr id="job-${j.id}"><td>${j.id.slice(0, 8)}</td><td>${j.upload}</td><td>${j.model}</td>` +
           `<td class="state">${state}</td><td>${bar}</td><td>${show}</td></tr>`;
  });
  $("jobs").querySelector("tbody").innerHTML = rows.join("");
  for (const b of document.querySelectorAll(".show-job")) {
    b.addEventListener("click", () => showJob(b.dataset.job));
  }
  if (list.some((j) => j.state === "queued" || j.state === "running")) setTimeout(refreshJobs, 1000);
}

$("batch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError($("batch-error"), "");
  try {
    const job = await api("/api/jobs", {method: "POST", body: new FormData($("batch-form"))});
    await refreshJobs();
    const poll = async () => {
      const state = await api(`/api/jobs/${job.id}`);
      if (state.state === "done") { await refreshJobs(); await showJob(job.id); }
      else if (state.state === "failed") { await refreshJobs(); }
      else setTimeout(poll, 1000);
    };
    poll();
  } catch (err) {
    showError($("batch-error"), err.message);
  }
});

// -- start -----------------------------------------------------------------------------------
(async () => {
  const info = await api("/api/models");
  units = info.units;
  for (const name of info.examples) $("example").add(new Option(name, name));
  for (const m of info.models) $("batch-model").add(new Option(`${m.name} (${m.kind})`, m.name));
  refreshJobs();
})();
