// mine2magnet web app: a thin front end over the JSON API (/api, documented at /docs).
'use strict';

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
};

async function api(path, options = {}) {
  const response = await fetch(path, {
    headers: {'Content-Type': 'application/json'},
    ...options,
  });
  if (response.status === 204) return null;
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || body.detail || `HTTP ${response.status}`);
  return body;
}

// ---------------------------------------------------------------------------------------------- tabs
function showTab(name) {
  document.querySelectorAll('nav button').forEach((b) => b.classList.toggle('active', b.dataset.tab === name));
  document.querySelectorAll('.tab').forEach((s) => s.classList.toggle('active', s.id === name));
}
document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));

// ---------------------------------------------------------------------------------------------- briefing
let briefingShown = null;
function showBriefing(runs) {
  const job = runs.jobs.find((j) => j.status === 'complete');
  const stored = runs.stored.find((r) => r.report);
  const latest = job ? {src: job.report, label: `${job.scenario} (run ${job.run_id})`}
    : stored ? {src: stored.report, label: `${stored.label} (run ${stored.run_id})`} : null;
  if (!latest) {
    $('#briefing-note').textContent = 'No run yet: choose a scenario in "Scenarios & variants" and run it.';
    return;
  }
  if (briefingShown === latest.src) return;
  briefingShown = latest.src;
  $('#briefing-note').textContent = `Briefing of the latest run: ${latest.label}.`;
  $('#briefing-frame').src = latest.src;
}

// ---------------------------------------------------------------------------------------------- scenarios
let current = null;

async function loadScenarioList(select) {
  const data = await api('/api/scenarios');
  const box = $('#scenario-select');
  box.replaceChildren(...data.scenarios.map((s) => el('option', {value: s.name, text: `${s.name} (${s.kind})`})));
  box.value = select || (data.scenarios.find((s) => s.name === 'malaysia-base') || data.scenarios[0]).name;
  $('#override-list').replaceChildren(el('strong', {text: 'Switch on: '}), ...data.overrides.map((o) =>
    el('label', {title: o.description}, el('input', {type: 'checkbox', name: 'apply', value: o.name}), o.name)));
  await loadScenario(box.value);
}

async function loadScenario(name) {
  $('#variant-base').textContent = '';  // set again once loaded: the form is not ready before
  current = await api(`/api/scenarios/${encodeURIComponent(name)}`);
  $('#scenario-desc').textContent = current.description;
  $('#variant-base').textContent = current.name;
  document.querySelectorAll('input[name=apply]').forEach((c) => { c.checked = false; });
  $('#policy-list').replaceChildren(el('strong', {text: 'Keep policies: '}), ...current.policies.map((p) =>
    el('label', {title: p.kind}, el('input', {type: 'checkbox', name: 'policy', value: p.name, checked: ''}), p.name)));
  $('#facility-list').replaceChildren(el('strong', {text: 'Keep facilities: '}), ...current.facilities.map((f) =>
    el('label', {title: f.kind}, el('input', {type: 'checkbox', name: 'facility', value: f.name, checked: ''}), f.name)));
  $('#catalogue-list').replaceChildren(el('strong', {text: 'Add from the catalogue: '}), ...current.catalogue.map((c) =>
    el('label', {title: `${c.kind}, from "${c.override}": ${c.description}; links: ${c.trade_links.length}`},
      el('input', {type: 'checkbox', name: 'catalogue', value: c.name}), c.name)));
  showUnreachable(current.unreachable);
  renderAssumptions();
  $('#variant-yaml').textContent = current.yaml || '';
}

function showUnreachable(list) {
  $('#unreachable').textContent = (list && list.length)
    ? 'Never fed: ' + list.map((u) => u.message).join('; ') : '';
}

function renderAssumptions() {
  const filter = $('#assumption-filter').value.toLowerCase();
  const rows = current.assumptions.filter((a) => a.editable && (!filter || a.key.toLowerCase().includes(filter)));
  $('#assumptions tbody').replaceChildren(...rows.map((a) => {
    const input = el('input', {type: 'number', step: 'any', value: a.value, 'data-key': a.key, 'data-original': a.value});
    const range = a.range_low === null || a.range_low === undefined ? '' : `${a.range_low} – ${a.range_high}`;
    const source = a.source_url ? el('a', {href: a.source_url, target: '_blank', rel: 'noopener', text: a.source_title || a.source_id})
      : document.createTextNode(a.source_title || a.data_key || '');
    return el('tr', {}, el('td', {text: a.key}), el('td', {}, input), el('td', {text: a.unit || ''}),
      el('td', {text: range}), el('td', {text: a.kind}), el('td', {}, source));
  }));
}
$('#assumption-filter').addEventListener('input', renderAssumptions);
$('#scenario-select').addEventListener('change', (e) => loadScenario(e.target.value).catch(showError('#variant-status')));

$('#variant-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const checked = (name) => [...document.querySelectorAll(`input[name=${name}]`)];
  const edits = [...document.querySelectorAll('#assumptions input[data-key]')]
    .filter((i) => i.value !== '' && Number(i.value) !== Number(i.dataset.original))
    .map((i) => ({key: i.dataset.key, value: Number(i.value)}));
  const request = {
    name: $('#variant-name').value.trim(),
    base: current.name,
    description: $('#variant-description').value.trim(),
    apply: checked('apply').filter((c) => c.checked).map((c) => c.value),
    edits,
    add_facilities: checked('catalogue').filter((c) => c.checked).map((c) => c.value),
    remove_facilities: checked('facility').filter((c) => !c.checked).map((c) => c.value),
    remove_policies: checked('policy').filter((c) => !c.checked).map((c) => c.value),
  };
  $('#variant-status').textContent = 'checking…';
  try {
    const saved = await api('/api/variants', {method: 'POST', body: JSON.stringify(request)});
    await loadScenarioList(saved.name);
    showUnreachable(saved.unreachable);
    $('#variant-yaml').textContent = saved.yaml;
    $('#variant-status').textContent = `saved: ${saved.file} — the same from the command line: ${saved.command}`;
  } catch (err) {
    $('#variant-status').textContent = `refused: ${err.message}`;
  }
});

$('#run-selected').addEventListener('click', async () => {
  try {
    await api('/api/runs', {method: 'POST', body: JSON.stringify({scenario: $('#scenario-select').value})});
    showTab('runs');
    refreshRuns();
  } catch (err) {
    $('#variant-status').textContent = `refused: ${err.message}`;
  }
});

function showError(selector) {
  return (err) => { $(selector).textContent = err.message; };
}

// ---------------------------------------------------------------------------------------------- runs
let polling = null;
const ticked = [];

async function refreshRuns() {
  const runs = await api('/api/runs');
  $('#jobs tbody').replaceChildren(...runs.jobs.map((j) => el('tr', {'data-status': j.status},
    el('td', {text: j.run_id || j.id}), el('td', {text: j.scenario}), el('td', {class: j.status, text: j.status}),
    el('td', {text: j.status === 'failed' ? j.error : j.progress}),
    el('td', {}, j.report ? el('a', {href: j.report, target: '_blank', rel: 'noopener', text: 'report'}) : ''))));
  $('#stored tbody').replaceChildren(...runs.stored.map((r) => {
    const box = el('input', {type: 'checkbox', value: r.run_id});
    box.checked = ticked.includes(r.run_id);
    box.addEventListener('change', () => {
      const at = ticked.indexOf(r.run_id);
      if (box.checked && at < 0) ticked.push(r.run_id);
      if (!box.checked && at >= 0) ticked.splice(at, 1);
      $('#compare-runs').value = ticked.join(',');
    });
    return el('tr', {}, el('td', {}, r.status === 'complete' ? box : ''), el('td', {text: r.run_id}),
      el('td', {text: r.label}), el('td', {text: r.status}), el('td', {text: r.started_utc}),
      el('td', {}, r.report ? el('a', {href: r.report, target: '_blank', rel: 'noopener', text: 'report'}) : ''));
  }));
  showBriefing(runs);
  const busy = runs.jobs.some((j) => j.status === 'queued' || j.status === 'running');
  if (busy && !polling) polling = setInterval(() => refreshRuns().catch(() => {}), 1000);
  if (!busy && polling) { clearInterval(polling); polling = null; }
  return runs;
}

// ---------------------------------------------------------------------------------------------- compare
const number = (x) => x.toLocaleString('en-US', {maximumSignificantDigits: 4});  // 277,900,000; 0.9898

async function compare() {
  const runs = $('#compare-runs').value.replace(/\s+/g, '');
  const year = $('#compare-year').value;
  const query = `runs=${encodeURIComponent(runs)}${year ? `&year=${year}` : ''}`;
  $('#compare-error').textContent = '';
  $('#compare-table').removeAttribute('data-runs');
  $('#compare-table tbody').replaceChildren();
  try {
    const table = await api(`/api/compare?${query}`);
    const columns = table.rows.length ? Object.keys(table.rows[0]) : [];
    $('#compare-table thead').replaceChildren(el('tr', {}, ...columns.map((c) => el('th', {text: c}))));
    $('#compare-table tbody').replaceChildren(...table.rows.map((r) => el('tr', {}, ...columns.map((c) =>
      el('td', {text: typeof r[c] === 'number' ? number(r[c]) : (r[c] ?? '–')})))));
    $('#compare-table').dataset.runs = runs;
    $('#compare-csv').href = `/api/compare?${query}&format=csv`;
    $('#compare-xlsx').href = `/api/compare?${query}&format=xlsx`;
    $('#compare-report').href = `/compare/report.html?runs=${encodeURIComponent(runs)}`;
    $('#compare-frames').replaceChildren(...table.run_ids.map((id) =>
      el('iframe', {src: `/stored/${id}/report.html`, title: `report of run ${id}`})));
  } catch (err) {
    $('#compare-error').textContent = err.message;
  }
}
$('#compare-go').addEventListener('click', compare);

// ---------------------------------------------------------------------------------------------- cascade
let plotlyLoading = null;
function plotly() {  // plotly.js (4.8 MB) is loaded on first use, not with the home page
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = el('script', {src: '/vendor/plotly.min.js'});
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error('could not load plotly.js'));
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

function designSpec() {
  const components = list($('#cc-components').value);
  const numbers = (text) => list(text).map(Number);
  const beta = numbers($('#cc-beta').value);
  const feed = numbers($('#cc-feed').value);
  if (beta.length !== components.length || feed.length !== components.length) {
    throw new Error('give one separation factor and one feed flow per component');
  }
  const zip = (values) => Object.fromEntries(components.map((c, i) => [c, values[i]]));
  return {
    components,
    model: {type: 'loaded-separation-factor', separation_factors: zip(beta)},
    feed: {phase: 'aqueous', flow: zip(feed)},
    cut: $('#cc-cut').value.trim(),
    targets: {raffinate: {purity: Number($('#cc-raff').value)}, extract: {purity: Number($('#cc-ext').value)}},
  };
}

async function runCascade(spec, mode) {
  $('#cascade-error').textContent = '';
  $('#cascade-summary').textContent = `${mode}…`;
  try {
    const answer = await api('/api/cascade', {method: 'POST', body: JSON.stringify({spec, mode})});
    const r = answer.result;
    const picked = mode === 'design'
      ? {stages: r.stages, feed_stage: r.feed_stage, organic: r.organic, scrub: r.scrub,
        performance: r.performance}
      : mode === 'dynamics' ? {time_to_steady_state: r.time_to_steady_state, times: (r.times || []).length + ' points'}
        : {outlets: r.outlets, converged: r.converged, mass_balance: r.mass_balance_residual ?? r.mass_balance};
    $('#cascade-summary').textContent = JSON.stringify(picked, null, 2);
    if (answer.figure) {
      const Plotly = await plotly();
      await Plotly.react('cascade-plot', answer.figure.data, answer.figure.layout, {responsive: true});
    }
  } catch (err) {
    $('#cascade-summary').textContent = '';
    $('#cascade-error').textContent = err.message;
  }
}

$('#cascade-form').addEventListener('submit', (event) => {
  event.preventDefault();
  try { runCascade(designSpec(), 'design'); } catch (err) { $('#cascade-error').textContent = err.message; }
});
const specOf = () => { try { return JSON.parse($('#cc-spec').value); } catch (err) { $('#cascade-error').textContent = `not JSON: ${err.message}`; return null; } };
for (const mode of ['simulate', 'design', 'dynamics']) {
  $(`#cc-${mode}`).addEventListener('click', () => { const spec = specOf(); if (spec) runCascade(spec, mode); });
}
$('#cc-spec').value = JSON.stringify(designSpec(), null, 2);

// ---------------------------------------------------------------------------------------------- start
loadScenarioList().catch(showError('#variant-status'));
refreshRuns().catch(showError('#briefing-note'));
