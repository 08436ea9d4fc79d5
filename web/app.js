/*
 * app.js — the nntrace dashboard: runs and tags from /api/runs, one panel
 * per tab (scalars, histograms, images, text, graph, nodes, heatmaps,
 * findings), and live updates from the server's event stream (/api/stream,
 * with a long-poll fallback): when the server reports a new version the
 * run list and the visible panel are refetched, so new runs, tags and
 * points appear without reloading.
 */
'use strict';

(function () {
  const NT = window.NT;
  const $ = sel => document.querySelector(sel);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };
  const enc = encodeURIComponent;

  const state = {
    runs: [],            // from /api/runs
    selected: new Set(), // run names shown
    known: new Set(),    // run names seen (new ones are selected by default)
    colors: new Map(),
    tab: 'scalars',
    version: 0,
    smoothing: 0.6,
    logY: false,
    showRaw: true,
    filter: null,
    charts: new Map(),   // tag -> {chart, zoom}
    updates: 0,
    graphRun: null,
  };
  window.__nt = state; // for the browser tests

  function showError(msg) {
    const box = $('#errors');
    box.hidden = false;
    box.textContent = msg;
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  /* A run's colour comes from the order in which the server found it
   * (its ordinal), so a run that appears later never recolours the others,
   * whatever its name sorts as. */
  function colorOf(run) {
    if (!state.colors.has(run)) {
      const r = state.runs.find(x => x.name === run);
      if (!r || !Number.isInteger(r.ordinal) || r.ordinal < 0) return '#999'; // not numbered yet: grey, not cached
      state.colors.set(run, NT.palette[r.ordinal % NT.palette.length]);
    }
    return state.colors.get(run);
  }

  function selectedRuns() { return state.runs.filter(r => state.selected.has(r.name)); }

  function tagMatches(tag) {
    if (!state.filter) return true;
    try { return new RegExp(state.filter, 'i').test(tag); } catch (e) { return tag.includes(state.filter); }
  }

  /* ---------------------------------------------------------------- runs */

  async function loadRuns() {
    const data = await getJSON('/api/runs');
    if (!data) return;
    state.runs = data.runs;
    state.skippedDirs = data.skipped_dirs || [];
    state.version = data.version;
    for (const r of state.runs) {
      if (!state.known.has(r.name)) { state.known.add(r.name); state.selected.add(r.name); }
      colorOf(r.name);
    }
    renderRuns();
  }

  function renderRuns() {
    const box = $('#runs');
    box.innerHTML = '';
    if (!state.runs.length) { box.append(el('p', { class: 'muted', text: 'no runs yet — waiting for event files' })); return; }
    for (const r of state.runs) {
      const cb = el('input', { type: 'checkbox' });
      cb.checked = state.selected.has(r.name);
      cb.addEventListener('change', () => {
        if (cb.checked) state.selected.add(r.name); else state.selected.delete(r.name);
        refresh(true);
      });
      const sw = el('i', { class: 'swatch' });
      sw.style.background = colorOf(r.name);
      const info = [];
      if (r.status === 'running') info.push('incomplete: running or stopped');
      if (r.status === 'failed') info.push('failed');
      if (r.status === 'no_runjson') info.push('incomplete: no run.json');
      if (r.truncated) info.push('being written');
      if (r.bad_records) info.push(`${r.bad_records} bad records`);
      if (r.skipped) info.push(`${r.skipped} too large, not kept`);
      const why = [r.dir, r.status_detail, r.problem].filter(Boolean).join('\n');
      const label = el('label', { class: 'run', title: why, 'data-run': r.name, 'data-status': r.status || 'complete' }, cb, sw,
        el('span', { text: r.name }), info.length ? el('small', { class: r.status && r.status !== 'complete' ? 'warn' : 'muted', text: ' (' + info.join(', ') + ')' }) : null);
      box.append(label);
    }
    const sk = state.skippedDirs || [];
    if (sk.length) {
      const list = el('ul', { class: 'skipped' });
      for (const d of sk) list.append(el('li', {}, el('code', { text: d.dir }), el('span', { class: 'muted', text: ' — ' + d.why })));
      box.append(el('details', { class: 'skipped-dirs' }, el('summary', { class: 'muted', text: `${sk.length} director${sk.length === 1 ? 'y' : 'ies'} skipped` }), list));
    }
  }

  /* ---------------------------------------------------------------- scalars */

  /* TensorBoard's debiased exponential moving average. */
  function smooth(ys, w) {
    if (w <= 0) return ys.slice();
    const out = new Array(ys.length);
    let last = 0, n = 0;
    for (let i = 0; i < ys.length; i++) {
      const v = ys[i];
      if (v === null || !Number.isFinite(v)) { out[i] = null; continue; }
      last = last * w + (1 - w) * v;
      n++;
      out[i] = last / (1 - Math.pow(w, n));
    }
    return out;
  }

  function groupOf(tag) { const i = tag.indexOf('/'); return i > 0 ? tag.slice(0, i) : tag; }

  /* Onsets from /api/overfit: the same analysis `nntrace report` runs. */
  async function overfitMarkers() {
    const marks = [];
    for (const r of selectedRuns()) {
      const o = await getJSON('/api/overfit?run=' + enc(r.name));
      for (const m of (o && o.onsets) || []) marks.push({ run: r.name, ...m });
    }
    return marks;
  }

  async function renderScalars(full) {
    const pane = $('#tab-scalars');
    const runs = selectedRuns();
    const tags = new Set();
    for (const r of runs) for (const t of r.tags.scalars) if (tagMatches(t)) tags.add(t);
    const sorted = Array.from(tags).sort();
    if (!sorted.length) {
      pane.innerHTML = '';
      state.charts.clear();
      pane.append(el('p', { class: 'muted empty', text: runs.length ? 'No scalar tags yet.' : 'No runs selected.' }));
      return;
    }
    if (full || pane.querySelector('.empty')) { pane.innerHTML = ''; state.charts.clear(); }
    // Group cards by the tag's first component, in sorted order.
    for (const tag of sorted) {
      if (state.charts.has(tag)) continue;
      const g = groupOf(tag);
      let group = pane.querySelector(`.group[data-group="${CSS.escape(g)}"]`);
      if (!group) {
        group = el('div', { class: 'group', 'data-group': g }, el('h2', { text: g }), el('div', { class: 'cards' }));
        const after = Array.from(pane.querySelectorAll('.group')).find(x => x.dataset.group > g);
        pane.insertBefore(group, after || null);
      }
      const body = el('div', { class: 'chart' });
      const card = el('div', { class: 'card', 'data-tag': tag }, el('h4', { text: tag }), body);
      const cards = group.querySelector('.cards');
      const next = Array.from(cards.children).find(x => x.dataset.tag > tag);
      cards.insertBefore(card, next || null);
      const entry = { zoom: null, card };
      entry.chart = new NT.LineChart(body, {
        onZoom: (min, max) => { entry.zoom = [min, max]; drawScalar(tag, entry, markersCache); },
        onReset: () => { entry.zoom = null; drawScalar(tag, entry, markersCache); },
      });
      state.charts.set(tag, entry);
    }
    for (const [tag, entry] of state.charts) {
      if (!tags.has(tag)) { entry.card.remove(); entry.chart.destroy(); state.charts.delete(tag); }
    }
    for (const g of pane.querySelectorAll('.group')) if (!g.querySelector('.card')) g.remove();
    markersCache = await overfitMarkers();
    await Promise.all(Array.from(state.charts).map(([tag, entry]) => drawScalar(tag, entry, markersCache)));
  }
  let markersCache = [];

  async function drawScalar(tag, entry, marks) {
    let url = '/api/scalars?tag=' + enc(tag) + '&points=' + Math.max(400, Math.min(4000, 2 * (entry.card.clientWidth || 600)));
    if (entry.zoom) url += '&min=' + entry.zoom[0] + '&max=' + entry.zoom[1];
    const data = await getJSON(url);
    if (!data) return;
    const shown = data.series.filter(s => state.selected.has(s.run));
    /* A tag logged once per run (an evaluation's result) is a value, not a chart. */
    if (shown.length && shown.every(s => s.total <= 1)) {
      entry.card.classList.add('single');
      entry.chart.el.innerHTML = '';
      delete entry.chart.el.dataset.drawn;
      entry.chart.plot && entry.chart.destroy();
      const t = el('table', { class: 'values' });
      for (const s of shown) {
        const sw = el('i', { class: 'swatch' });
        sw.style.background = colorOf(s.run);
        const v = s.values.length ? s.values[s.values.length - 1] : null;
        t.append(el('tr', {}, el('td', {}, sw, el('span', { text: ' ' + s.run })),
          el('td', { class: 'value', text: v === null ? (s.values.length ? 'NaN/Inf' : '—') : NT.fmt(v) }),
          el('td', { class: 'muted', text: s.steps.length ? 'step ' + s.steps[s.steps.length - 1] : '' })));
      }
      entry.chart.el.append(t);
      entry.card.dataset.single = '1';
      return;
    }
    if (entry.card.dataset.single) {
      delete entry.card.dataset.single;
      entry.card.classList.remove('single');
      entry.chart.el.innerHTML = '';
      entry.chart.key = '';
      entry.chart.canvas = null;
    }
    const series = [];
    let reduced = false;
    for (const s of data.series) {
      if (!state.selected.has(s.run)) continue;
      const color = colorOf(s.run);
      reduced = reduced || s.downsampled;
      if (state.smoothing > 0 && state.showRaw)
        series.push({ label: s.run + ' (raw)', color, x: s.steps, y: s.values, alpha: 0.3, width: 1 });
      series.push({ label: s.run, color, x: s.steps, y: smooth(s.values, state.smoothing), width: 1.8 });
    }
    const multi = data.series.filter(s => state.selected.has(s.run)).length > 1;
    const markers = marks.filter(m => (m.train === tag || m.val === tag) && state.selected.has(m.run))
      .map(m => ({ x: m.step, label: (multi ? m.run + ': ' : '') + 'overfitting @ ' + m.step, color: colorOf(m.run), run: m.run }));
    entry.card.dataset.markers = JSON.stringify(markers.map(m => m.label));
    entry.chart.setData(series, { logY: state.logY, markers, keepScale: !!entry.zoom });
    entry.card.classList.toggle('reduced', reduced);
    entry.card.title = reduced ? 'downsampled (min/max per bucket); zoom in for full resolution' : '';
  }

  /* ---------------------------------------------------------------- histograms */

  /* A render awaits the server between cards; a newer render (a run
   * appeared, the filter changed) may start meanwhile.  The generation
   * number lets the older one stop instead of filling the pane twice, and
   * a run's group is attached only once it has a card. */
  let histGeneration = 0;

  async function renderHistograms() {
    const gen = ++histGeneration;
    const pane = $('#tab-histograms');
    pane.innerHTML = '';
    let any = false;
    for (const r of selectedRuns()) {
      const tags = r.tags.histograms.filter(tagMatches);
      if (!tags.length) continue;
      const sw = el('i', { class: 'swatch' });
      sw.style.background = colorOf(r.name);
      const group = el('div', { class: 'group run-group', 'data-run': r.name }, el('h2', {}, sw, el('span', { text: ' ' + r.name })), el('div', { class: 'cards' }));
      for (const tag of tags) {
        any = true;
        const d = await getJSON(`/api/histograms?run=${enc(r.name)}&tag=${enc(tag)}&points=100`);
        if (gen !== histGeneration) return;
        if (!d) continue;
        if (!group.parentNode) pane.append(group);
        const dist = el('div', { class: 'canvas' }), hist = el('div', { class: 'canvas' });
        group.lastChild.append(el('div', { class: 'card wide' }, el('h4', { text: tag }),
          el('div', { class: 'pair' }, el('div', {}, el('small', { class: 'muted', text: 'distribution over steps' }), dist),
            el('div', {}, el('small', { class: 'muted', text: 'histograms (latest in front)' }), hist))));
        NT.drawDistribution(dist, d.histograms, colorOf(r.name), 420, 200);
        NT.drawHistograms(hist, d.histograms, colorOf(r.name), 420, 200);
      }
    }
    if (!any) pane.append(el('p', { class: 'muted', text: 'No histogram tags in the selected runs.' }));
  }

  /* ---------------------------------------------------------------- images, text */

  async function renderImages() {
    const pane = $('#tab-images');
    pane.innerHTML = '';
    let any = false;
    for (const r of selectedRuns()) {
      for (const tag of r.tags.images.filter(tagMatches)) {
        any = true;
        const d = await getJSON(`/api/images?run=${enc(r.name)}&tag=${enc(tag)}`);
        if (!d || !d.images.length) continue;
        const img = el('img', { alt: tag });
        const cap = el('small', { class: 'muted' });
        const slider = el('input', { type: 'range', min: 0, max: d.images.length - 1, value: d.images.length - 1 });
        const show = () => {
          const it = d.images[+slider.value];
          img.src = `/api/image?run=${enc(r.name)}&tag=${enc(tag)}&index=${it.index}&v=${state.version}`;
          cap.textContent = `step ${it.step} · ${it.width}×${it.height}`;
        };
        slider.addEventListener('input', show);
        show();
        pane.append(el('div', { class: 'card' }, el('h4', { text: `${tag} — ${r.name}` }), img, el('div', {}, slider, cap)));
      }
    }
    if (!any) pane.append(el('p', { class: 'muted', text: 'No image tags in the selected runs.' }));
  }

  async function renderText() {
    const pane = $('#tab-text');
    pane.innerHTML = '';
    let any = false;
    for (const r of selectedRuns()) {
      for (const tag of r.tags.texts.filter(tagMatches)) {
        any = true;
        const d = await getJSON(`/api/text?run=${enc(r.name)}&tag=${enc(tag)}`);
        if (!d) continue;
        const card = el('div', { class: 'card wide' }, el('h4', { text: `${tag} — ${r.name}` }));
        for (const t of d.texts.slice(-10).reverse()) {
          const body = el('div', { class: 'markdown' });
          body.innerHTML = NT.markdown(t.text); // escaped first: see NT.markdown
          card.append(el('div', { class: 'text-entry' }, el('small', { class: 'muted', text: 'step ' + t.step }), body));
        }
        if (d.omitted) card.append(el('p', { class: 'muted', text: `${d.omitted} older text(s) not shown (too large together)` }));
        pane.append(card);
      }
    }
    if (!any) pane.append(el('p', { class: 'muted', text: 'No text tags in the selected runs.' }));
  }

  /* ---------------------------------------------------------------- graph and nodes */

  const stripName = n => String(n || '').replace(/^\/+/, '');

  /* Stats per node name (first output), from stats.jsonl. */
  function statsByNode(stats) {
    const m = new Map();
    for (const s of (stats && stats.nodes) || []) {
      const k = stripName(s.node);
      if (!m.has(k)) m.set(k, s);
    }
    return m;
  }

  function absmax(s) {
    if (!s) return null;
    const a = s.min === null ? null : Math.abs(s.min), b = s.max === null ? null : Math.abs(s.max);
    if (a === null) return b;
    if (b === null) return a;
    return Math.max(a, b);
  }

  function runPicker(pane, wanted, onPick) {
    const runs = selectedRuns().filter(wanted);
    if (!runs.length) return null;
    if (!runs.find(r => r.name === state.graphRun)) state.graphRun = runs[0].name;
    const sel = el('select', {});
    for (const r of runs) {
      const o = el('option', { value: r.name, text: r.name });
      if (r.name === state.graphRun) o.selected = true;
      sel.append(o);
    }
    sel.addEventListener('change', () => { state.graphRun = sel.value; onPick(); });
    pane.append(el('div', { class: 'toolbar' }, el('label', { text: 'Run ' }, sel)));
    return state.runs.find(r => r.name === state.graphRun);
  }

  function nodeDetails(box, name, op, s, prof) {
    box.innerHTML = '';
    box.append(el('h4', { text: name }), el('div', { class: 'muted', text: op || '' }));
    if (prof) box.append(el('div', { text: `time: ${NT.fmtTime(prof.mean_us)} mean over ${prof.calls} call(s)` }));
    if (!s) { box.append(el('p', { class: 'muted', text: 'no statistics for this node (run with --trace stats)' })); return; }
    const t = el('table', { class: 'kv' });
    for (const k of ['output', 'dtype', 'shape', 'count', 'min', 'max', 'mean', 'std', 'nan', 'inf', 'zeros', 'zero_fraction', 'negatives']) {
      let v = s[k];
      if (Array.isArray(v)) v = '[' + v.join(', ') + ']';
      else if (typeof v === 'number') v = NT.fmt(v);
      t.append(el('tr', {}, el('th', { text: k }), el('td', { text: v === undefined ? '—' : String(v) })));
    }
    box.append(t);
    if (s.histogram && s.histogram.counts && s.histogram.counts.length) {
      const h = s.histogram, c = el('div', { class: 'canvas' });
      box.append(el('small', { class: 'muted', text: 'value histogram' }), c);
      const w = 300, hh = 120, ctx = NT.sizedCanvas(c, w, hh);
      const mx = Math.max(...h.counts), n = h.counts.length;
      ctx.fillStyle = '#1f77b4';
      h.counts.forEach((v, i) => {
        const bh = mx ? v / mx * (hh - 20) : 0;
        ctx.fillRect(i * w / n, hh - 16 - bh, Math.max(1, w / n - 1), bh);
      });
      ctx.fillStyle = '#555'; ctx.font = '10px sans-serif';
      ctx.fillText(NT.fmt(h.edges[0]), 0, hh - 3);
      ctx.fillText(NT.fmt(h.edges[h.edges.length - 1]), w - 50, hh - 3);
    }
  }

  /* Layered layout: a node's layer is the longest path from a graph input. */
  function layoutGraph(nodes) {
    const byName = new Map(nodes.map(n => [n.name, n]));
    const layer = new Map();
    const visiting = new Set();
    const depth = n => {
      if (layer.has(n.name)) return layer.get(n.name);
      if (visiting.has(n.name)) return 0; // a cycle in a hostile file
      visiting.add(n.name);
      let d = 0;
      for (const inp of n.inputs || []) {
        const src = byName.get(inp.replace(/^\^/, '').replace(/:\d+$/, ''));
        if (src) d = Math.max(d, depth(src) + 1);
      }
      visiting.delete(n.name);
      layer.set(n.name, d);
      return d;
    };
    // Iterative warm-up in input order avoids deep recursion on long chains.
    for (const n of nodes) depth(n);
    const rows = [];
    for (const n of nodes) { const d = layer.get(n.name); (rows[d] || (rows[d] = [])).push(n); }
    // Members of one body sit side by side in a row, so its cluster box stays tight.
    const key = n => bodyScopes(n.name).pop() || '';
    for (const r of rows) if (r) r.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return { rows: rows.filter(Boolean), byName };
  }

  /* Identity nodes with one input are folded away: their consumers read
   * the Identity's input instead (chains of them collapse to nothing). */
  function foldIdentities(nodes) {
    const alias = new Map();
    const clean = n => String(n).replace(/^\^/, '').replace(/:\d+$/, '');
    for (const n of nodes) if (n.op === 'Identity' && (n.inputs || []).length === 1) alias.set(n.name, clean(n.inputs[0]));
    const resolve = name => { let k = 0; while (alias.has(name) && k++ < 10000) name = alias.get(name); return name; };
    const kept = nodes.filter(n => !alias.has(n.name)).map(n => ({ ...n, inputs: (n.inputs || []).map(i => resolve(clean(i))) }));
    return { nodes: kept, folded: alias.size };
  }

  /* NaN origin: a node whose outputs hold NaN/Inf while none of the nodes
   * feeding it does; the others with NaN/Inf only propagate it. */
  function nanRoles(nodes, sm) {
    const bad = n => { const s = sm.get(n); return !!(s && (s.nan || s.inf)); };
    const roles = new Map();
    for (const n of nodes) {
      if (!bad(n.name)) continue;
      const fed = (n.inputs || []).some(bad);
      roles.set(n.name, fed ? 'propagates' : 'origin');
    }
    return roles;
  }

  /* Control-flow bodies: the GraphDef names a body node "owner.attr/name"
   * (nested bodies repeat the prefix), so the leading "/"-separated segments
   * holding a "." are its cluster scopes, outermost first. */
  function bodyScopes(name) {
    const seg = String(name).split('/'), out = [];
    for (let i = 0; i < seg.length - 1 && seg[i].includes('.'); i++) out.push(seg.slice(0, i + 1).join('/'));
    return out;
  }
  const scopeLabel = key => { const last = key.split('/').pop(), dot = last.lastIndexOf('.'); return last.slice(0, dot) + ' · ' + last.slice(dot + 1); };

  /* A folded cluster becomes one node named by its scope key; edges to and
   * from its members are redirected to that node. */
  function foldClusters(nodes, folded) {
    const outer = name => bodyScopes(name).find(k => folded.has(k));
    const out = [], seen = new Map();
    const mapIn = i => { const c = String(i).replace(/^\^/, '').replace(/:\d+$/, ''); return outer(c) || c; };
    for (const n of nodes) {
      const k = outer(n.name);
      if (!k) { out.push({ ...n, inputs: (n.inputs || []).map(mapIn) }); continue; }
      let c = seen.get(k);
      if (!c) { c = { name: k, op: 'folded body', cluster: k, members: 0, inputs: [] }; seen.set(k, c); out.push(c); }
      c.members++;
      for (const i of (n.inputs || []).map(mapIn)) if (i !== k && !c.inputs.includes(i)) c.inputs.push(i);
    }
    return out;
  }

  async function renderGraph() {
    const pane = $('#tab-graph');
    pane.innerHTML = '';
    const run = runPicker(pane, r => r.files.graph || r.files.stats || r.files.graph_svg, renderGraph);
    if (!run) { pane.append(el('p', { class: 'muted', text: 'No run with a graph (event-file GraphDef), stats.jsonl or graph.svg.' })); return; }
    const [g, stats, prof] = await Promise.all([
      run.files.graph ? getJSON('/api/graph?run=' + enc(run.name)) : null,
      run.files.stats ? getJSON('/api/stats?run=' + enc(run.name)) : null,
      run.files.profile ? getJSON('/api/profile?run=' + enc(run.name)) : null,
    ]);
    const sm = statsByNode(stats);
    const pm = new Map(((prof && prof.nodes) || []).map(p => [stripName(p.name), p]));
    let nodes, folded = 0;
    if (g && g.nodes.length) {
      ({ nodes, folded } = foldIdentities(g.nodes.filter(n => n.op !== 'Const')));
    } else {
      // No GraphDef: the traced nodes in execution order, as a chain.
      nodes = Array.from(sm.values()).map((s, i, a) => ({ name: stripName(s.node), op: s.op, inputs: i ? [stripName(a[i - 1].node)] : [] }));
    }
    const details = el('div', { class: 'details' }, el('p', { class: 'muted', text: 'Click a node for its statistics and histogram.' }));
    const view = el('div', { class: 'graph-view' });
    const toolbar = el('div', { class: 'toolbar graph-tools' });
    const legend = el('div', { class: 'graph-legend' });
    pane.append(toolbar, el('div', { class: 'graph-wrap' }, el('div', { class: 'graph-col' }, view, legend), details));
    if (run.files.graph_svg)
      pane.append(el('div', { class: 'card wide' }, el('h4', { text: 'graph.svg (nntrace graph)' }),
        el('img', { class: 'svg-graph', src: '/api/file?run=' + enc(run.name) + '&path=graph.svg', alt: 'graph.svg' })));
    if (!nodes.length) { view.append(el('p', { class: 'muted', text: 'empty graph' })); return; }
    const total = nodes.length;
    if (nodes.length > 3000) nodes = nodes.slice(0, 3000);
    const drawn = nodes.length;
    const foldedSet = state.graphFolded || (state.graphFolded = new Set());
    nodes = foldClusters(nodes, foldedSet);
    const nFolded = nodes.filter(n => n.cluster).length;
    const roles = nanRoles(nodes, sm);
    const { rows, byName } = layoutGraph(nodes);
    const NW = 170, NH = 36, GX = 16, GY = 30;
    /* Each scope (the outer graph and every body) owns a vertical band as
     * wide as its widest row; bands follow in scope-path order, so a body's
     * nested bodies sit right after it and its cluster box holds no stranger. */
    const scopeOf = n => bodyScopes(n.name).pop() || '';
    const cmpPath = (a, b) => {
      const p = a ? a.split('/') : [], q = b ? b.split('/') : [];
      for (let i = 0; i < Math.min(p.length, q.length); i++) if (p[i] !== q[i]) return p[i] < q[i] ? -1 : 1;
      return p.length - q.length;
    };
    const bandCols = new Map();
    for (const r of rows) {
      const c = new Map();
      for (const n of r) c.set(scopeOf(n), (c.get(scopeOf(n)) || 0) + 1);
      for (const [k, v] of c) bandCols.set(k, Math.max(bandCols.get(k) || 0, v));
    }
    const bandX = new Map();
    let bx = 0;
    for (const k of Array.from(bandCols.keys()).sort(cmpPath)) { bandX.set(k, bx); bx += bandCols.get(k) * (NW + GX) + (k || bandCols.size > 1 ? 2 * GX : 0); }
    const width = Math.max(bx, NW + GX) + GX;
    const height = rows.length * (NH + GY) + GY;
    const pos = new Map();
    rows.forEach((r, y) => {
      const used = new Map();
      for (const n of r) {
        const k = scopeOf(n), i = used.get(k) || 0;
        used.set(k, i + 1);
        pos.set(n.name, [GX + bandX.get(k) + i * (NW + GX) + GX / 2, GY / 2 + y * (NH + GY)]);
      }
    });
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'graph');
    svg.setAttribute('preserveAspectRatio', 'xMidYMin meet');
    const mags = Array.from(sm.values()).map(absmax).filter(v => v !== null && v > 0).map(Math.log10);
    const lo = mags.length ? Math.min(...mags) : 0, hi = mags.length ? Math.max(...mags) : 1;
    for (const n of nodes) {
      const [x, y] = pos.get(n.name);
      for (const inp of n.inputs || []) {
        const p = pos.get(inp.replace(/^\^/, '').replace(/:\d+$/, ''));
        if (!p) continue;
        const path = document.createElementNS(ns, 'path');
        const x1 = p[0] + NW / 2, y1 = p[1] + NH, x2 = x + NW / 2, y2 = y;
        path.setAttribute('d', `M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}`);
        path.setAttribute('class', 'edge');
        svg.append(path);
      }
    }
    /* Cluster boxes around each unfolded body, outer ones drawn first and
     * padded wider so nested boxes sit inside; a click on the title folds it. */
    const clusters = new Map();
    for (const n of nodes) for (const k of bodyScopes(n.name)) {
      const [x, y] = pos.get(n.name), b = clusters.get(k);
      if (!b) clusters.set(k, [x, y, x + NW, y + NH]);
      else clusters.set(k, [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x + NW), Math.max(b[3], y + NH)]);
    }
    const under = document.createDocumentFragment();
    const maxDepth = Math.max(0, ...Array.from(clusters.keys()).map(k => k.split('/').length));
    for (const [k, b] of Array.from(clusters).sort((p, q) => p[0].split('/').length - q[0].split('/').length)) {
      const pad = 4 + 6 * (maxDepth - k.split('/').length);
      const cg = document.createElementNS(ns, 'g');
      cg.setAttribute('class', 'cluster');
      cg.dataset.cluster = k;
      const r = document.createElementNS(ns, 'rect');
      r.setAttribute('x', b[0] - pad); r.setAttribute('y', b[1] - pad - 12);
      r.setAttribute('width', b[2] - b[0] + 2 * pad); r.setAttribute('height', b[3] - b[1] + 2 * pad + 12); r.setAttribute('rx', 6);
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', b[0] - pad + 5); t.setAttribute('y', b[1] - pad - 2); t.setAttribute('class', 'cluster-title');
      t.textContent = '▾ ' + scopeLabel(k);
      const tip = document.createElementNS(ns, 'title');
      tip.textContent = k + ' — click the title to fold this body';
      t.append(tip);
      t.addEventListener('click', e => { e.stopPropagation(); foldedSet.add(k); renderGraph(); });
      cg.append(r, t);
      under.append(cg);
    }
    svg.prepend(under); // beneath the edges and nodes
    const fit = (t, max) => t.length > max ? t.slice(0, max - 1) + '…' : t;
    for (const n of nodes) {
      const [x, y] = pos.get(n.name);
      const s = sm.get(n.name), p = pm.get(n.name);
      const gEl = document.createElementNS(ns, 'g');
      const role = roles.get(n.name);
      gEl.setAttribute('class', 'node' + (role === 'origin' ? ' nan-origin' : role ? ' nan-prop' : '') + (s && s.zero_fraction === 1 ? ' dead' : ''));
      gEl.setAttribute('transform', `translate(${x},${y})`);
      gEl.dataset.name = n.name;
      if (role) gEl.dataset.nan = role;
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('width', NW); rect.setAttribute('height', NH); rect.setAttribute('rx', 5);
      const a = absmax(s);
      const fill = a !== null && a > 0 ? NT.ramp(((Math.log10(a) - lo) / (hi - lo || 1)) * 0.8 + 0.2) : '#f4f4f4';
      rect.setAttribute('fill', fill);
      const ink = NT.textOn(fill);
      const t1 = document.createElementNS(ns, 'text');
      t1.setAttribute('x', 6); t1.setAttribute('y', 15); t1.setAttribute('class', 'op'); t1.setAttribute('fill', ink);
      const time = p ? ' · ' + NT.fmtTime(p.mean_us) : '';
      t1.textContent = fit((role === 'origin' ? '⚠ ' : '') + (n.op || '?'), 27 - time.length) + time;
      const t2 = document.createElementNS(ns, 'text');
      t2.setAttribute('x', 6); t2.setAttribute('y', 29); t2.setAttribute('class', 'name'); t2.setAttribute('fill', ink);
      t2.textContent = n.name.length > 28 ? '…' + n.name.slice(-27) : n.name;
      const title = document.createElementNS(ns, 'title');
      title.textContent = n.name + (role ? `\n${role === 'origin' ? 'NaN/Inf origin: first to produce non-finite values from finite inputs' : 'propagates NaN/Inf from its inputs'}` : '') +
        (a !== null ? `\nabsmax ${NT.fmt(a)}` : '') + (p ? `\ntime ${NT.fmtTime(p.mean_us)} mean` : '') + (n.shapes ? '\nshape ' + JSON.stringify(n.shapes) : '');
      gEl.append(rect, t1, t2, title);
      if (n.cluster) {
        gEl.classList.add('cluster-folded');
        gEl.dataset.cluster = n.cluster;
        t1.textContent = '▸ ' + fit(scopeLabel(n.cluster), 25);
        t2.textContent = `${n.members} node${n.members === 1 ? '' : 's'} folded`;
        title.textContent = n.cluster + ' — click to unfold';
        gEl.addEventListener('click', () => { foldedSet.delete(n.cluster); renderGraph(); });
        svg.append(gEl);
        continue;
      }
      gEl.addEventListener('click', () => {
        for (const q of svg.querySelectorAll('.node.sel')) q.classList.remove('sel');
        gEl.classList.add('sel');
        nodeDetails(details, n.name, n.op, s, p);
      });
      svg.append(gEl);
    }
    view.append(svg);
    /* Fit and zoom: the view box is the camera.  Wheel zooms about the
     * pointer, dragging pans, "Fit" shows the whole graph. */
    let vb = [0, 0, width, height];
    const apply = () => { svg.setAttribute('viewBox', vb.map(v => v.toFixed(1)).join(' ')); svg.dataset.zoom = (width / vb[2]).toFixed(3); };
    const fitAll = () => {
      const W = view.clientWidth || 800, H = Math.max(300, view.clientHeight || 600);
      const k = Math.max(width / W, height / H, 1 / 2.5); // never blow a small graph up past 2.5x
      vb = [(width - W * k) / 2, 0, W * k, H * k];
      apply();
    };
    const zoom = (f, cx, cy) => {
      const nw = Math.min(Math.max(vb[2] * f, 50), Math.max(width, height) * 4), k = nw / vb[2];
      vb = [cx - (cx - vb[0]) * k, cy - (cy - vb[1]) * k, nw, vb[3] * k];
      apply();
    };
    svg.addEventListener('wheel', e => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, vb[0] + (e.clientX - r.left) / r.width * vb[2], vb[1] + (e.clientY - r.top) / r.height * vb[3]);
    }, { passive: false });
    let drag = null;
    svg.addEventListener('mousedown', e => { drag = [e.clientX, e.clientY, vb[0], vb[1]]; });
    window.addEventListener('mouseup', () => { drag = null; });
    svg.addEventListener('mousemove', e => {
      if (!drag) return;
      const r = svg.getBoundingClientRect();
      vb[0] = drag[2] - (e.clientX - drag[0]) / r.width * vb[2];
      vb[1] = drag[3] - (e.clientY - drag[1]) / r.height * vb[3];
      apply();
    });
    const btn = (text, fn) => { const b = el('button', { type: 'button', text }); b.addEventListener('click', fn); return b; };
    toolbar.append(btn('Fit', fitAll), btn('+', () => zoom(1 / 1.3, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2)),
      btn('−', () => zoom(1.3, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2)), btn('1:1', () => { vb = [0, 0, view.clientWidth || 800, view.clientHeight || 600]; apply(); }),
      el('small', { class: 'muted', text: `${total} nodes` + (total > drawn ? ` (first ${drawn} drawn)` : '') +
        (nFolded ? ` · ${nFolded} bod${nFolded === 1 ? 'y' : 'ies'} folded` : '') +
        (folded ? ` · ${folded} Identity node${folded === 1 ? '' : 's'} folded` : '') + ' · wheel to zoom, drag to pan' }));
    fitAll();
    /* Legend: the fill scale and the marks. */
    const scale = el('canvas', { width: 160, height: 12, class: 'legend-ramp' });
    const sctx = scale.getContext('2d');
    for (let i = 0; i < 160; i++) { sctx.fillStyle = NT.ramp(i / 159 * 0.8 + 0.2); sctx.fillRect(i, 0, 1, 12); }
    const key = (cls, text) => el('span', { class: 'key' }, el('i', { class: 'key-box ' + cls }), el('span', { text }));
    legend.append(el('span', { class: 'key' }, el('span', { text: mags.length ? `|max| ${NT.fmt(Math.pow(10, lo))} ` : 'no statistics ' }), scale,
      el('span', { text: mags.length ? ` ${NT.fmt(Math.pow(10, hi))} (log)` : '' })),
      key('kb-origin', 'NaN/Inf origin'), key('kb-prop', 'propagates NaN/Inf'), key('kb-dead', 'dead (all zeros)'),
      key('kb-none', 'no statistics'), el('span', { class: 'muted', text: ' · times: mean per call' }));
    void byName;
  }

  const nodeCols = [
    ['node', 'node', 's'], ['op', 'op', 's'], ['shape', 'shape', 's'], ['time_ms', 'time (ms)', 'n'],
    ['min', 'min', 'n'], ['max', 'max', 'n'], ['absmax', 'absmax', 'n'], ['mean', 'mean', 'n'], ['std', 'std', 'n'],
    ['nan', 'NaN', 'n'], ['inf', 'Inf', 'n'], ['zero_fraction', 'zeros %', 'n'],
  ];
  let nodeSort = { key: 'time_ms', dir: -1 };

  async function renderNodes() {
    const pane = $('#tab-nodes');
    pane.innerHTML = '';
    const run = runPicker(pane, r => r.files.stats || r.files.profile, renderNodes);
    if (!run) { pane.append(el('p', { class: 'muted', text: 'No run with stats.jsonl or profile.json (nntrace run --trace stats|profile --run-dir DIR).' })); return; }
    const [stats, prof] = await Promise.all([
      run.files.stats ? getJSON('/api/stats?run=' + enc(run.name)) : null,
      run.files.profile ? getJSON('/api/profile?run=' + enc(run.name)) : null,
    ]);
    const pm = new Map(((prof && prof.nodes) || []).map(p => [stripName(p.name), p]));
    const rows = [];
    const seen = new Set();
    for (const s of (stats && stats.nodes) || []) {
      const name = stripName(s.node), p = pm.get(name);
      seen.add(name);
      rows.push({ node: s.node + (s.output && s.output !== s.node ? ` → ${s.output}` : ''), op: s.op, shape: s.shape ? '[' + s.shape.join(',') + ']' : '',
        time_ms: p ? p.mean_us / 1000 : null, min: s.min, max: s.max, absmax: absmax(s), mean: s.mean, std: s.std,
        nan: s.nan, inf: s.inf, zero_fraction: s.zero_fraction === null ? null : s.zero_fraction * 100 });
    }
    for (const [name, p] of pm) if (!seen.has(name))
      rows.push({ node: p.name, op: p.op, shape: '', time_ms: p.mean_us / 1000 });
    const filter = el('input', { type: 'search', placeholder: 'filter nodes / ops' });
    const table = el('table', { class: 'nodes' });
    const draw = () => {
      const f = filter.value.toLowerCase();
      const k = nodeSort.key, dir = nodeSort.dir;
      const shown = rows.filter(r => !f || r.node.toLowerCase().includes(f) || String(r.op).toLowerCase().includes(f))
        .sort((a, b) => {
          const x = a[k], y = b[k];
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          return (x < y ? -1 : 1) * dir;
        });
      table.innerHTML = '';
      const head = el('tr', {});
      for (const [key, label] of nodeCols) {
        const th = el('th', { text: label + (key === k ? (dir > 0 ? ' ▲' : ' ▼') : ''), 'data-key': key });
        th.addEventListener('click', () => { nodeSort = { key, dir: key === k ? -dir : (key === 'node' || key === 'op' ? 1 : -1) }; draw(); });
        head.append(th);
      }
      table.append(el('thead', {}, head));
      const body = el('tbody', {});
      for (const r of shown.slice(0, 5000)) {
        const tr = el('tr', { class: (r.nan || r.inf) ? 'bad' : (r.zero_fraction === 100 ? 'dead' : '') });
        for (const [key, , type] of nodeCols) tr.append(el('td', { class: type, text: type === 'n' ? NT.fmt(r[key]) : (r[key] || '') }));
        body.append(tr);
      }
      table.append(body);
    };
    filter.addEventListener('input', draw);
    pane.append(el('div', { class: 'toolbar' }, filter,
      el('small', { class: 'muted', text: ` ${rows.length} node outputs` + (prof ? ` · total ${NT.fmt(prof.total_us / 1000)} ms profiled` : '') })), table);
    draw();
  }

  /* ---------------------------------------------------------------- heatmaps */

  async function renderHeatmaps() {
    const pane = $('#tab-heatmaps');
    pane.innerHTML = '';
    let any = false;
    for (const r of selectedRuns()) {
      if (r.files.eval) {
        const ev = await getJSON('/api/eval?run=' + enc(r.name));
        if (ev && Array.isArray(ev.confusion) && ev.confusion.length) {
          any = true;
          const m = ev.confusion, n = m.length;
          const flat = [].concat(...m);
          const labels = Array.isArray(ev.classes) ? ev.classes : m.map((_, i) => i);
          const c = el('div', { class: 'canvas' });
          const card = el('div', { class: 'card wide' }, el('h4', { text: `confusion matrix — ${r.name}` }),
            el('small', { class: 'muted', text: `rows: true class, columns: predicted` + (ev.accuracy !== undefined ? ` · accuracy ${NT.fmt(ev.accuracy)}` : '') }), c);
          pane.append(card);
          NT.drawHeatmap(c, { rows: n, cols: m[0].length, data: flat, min: Math.min(...flat), max: Math.max(...flat) },
            { rowLabels: labels, colLabels: labels, width: 480, signed: false });
          if (Array.isArray(ev.per_class)) {
            const t = el('table', { class: 'nodes' }, el('tr', {}, ...['class', 'precision', 'recall', 'f1', 'support'].map(h => el('th', { text: h }))));
            ev.per_class.forEach((p, i) => t.append(el('tr', {}, el('td', { text: String(labels[i]) }),
              ...['precision', 'recall', 'f1', 'support'].map(k => el('td', { class: 'n', text: NT.fmt(p[k]) })))));
            card.append(t);
          }
        }
      }
      const arts = await getJSON('/api/artifacts?run=' + enc(r.name));
      for (const f of (arts && arts.files) || []) {
        if (f.kind === 'map') {
          const m = await getJSON(`/api/heatmap?run=${enc(r.name)}&path=${enc(f.path)}&max=128`);
          if (!m) continue;
          any = true;
          const c = el('div', { class: 'canvas' });
          pane.append(el('div', { class: 'card' }, el('h4', { text: `${f.path} — ${r.name}` }),
            el('small', { class: 'muted', text: `shape [${m.shape.join(', ')}]` }), c));
          NT.drawHeatmap(c, m, { width: 320 });
        } else if (f.kind === 'image' && /sensitiv|occlu|perturb|sweep|heat|saliency|map/i.test(f.path)) {
          any = true;
          pane.append(el('div', { class: 'card' }, el('h4', { text: `${f.path} — ${r.name}` }),
            el('img', { src: `/api/file?run=${enc(r.name)}&path=${enc(f.path)}`, alt: f.path })));
        }
      }
    }
    if (!any) pane.append(el('p', { class: 'muted', text: 'No confusion matrix (eval.json) or sensitivity maps (.npy from nntrace analyze) in the selected runs. Confusion-matrix images logged by a program are under Images.' }));
  }

  /* ---------------------------------------------------------------- findings */

  function findingsTable(list, cols) {
    const t = el('table', { class: 'nodes' }, el('tr', {}, ...cols.map(c => el('th', { text: c }))));
    for (const f of list) {
      const tr = el('tr', { class: f.severity === 'error' ? 'bad' : '' });
      for (const c of cols) tr.append(el('td', { text: f[c] === undefined || f[c] === null ? '' : String(f[c]) }));
      t.append(tr);
    }
    return t;
  }

  async function renderFindings() {
    const pane = $('#tab-findings');
    pane.innerHTML = '';
    for (const r of selectedRuns()) {
      const card = el('div', { class: 'card wide' }, el('h4', { text: r.name }));
      let n = 0;
      if (r.bad_records || r.truncated || r.problem)
        card.append(el('p', { class: 'warn', text: `event files: ${r.bad_records} bad record(s) skipped${r.truncated ? ', last record incomplete (being written?)' : ''}${r.problem ? ' — ' + r.problem : ''}` }));
      if (r.files.findings) {
        const d = await getJSON('/api/findings?run=' + enc(r.name));
        const list = (d && d.findings) || [];
        card.append(el('h5', { text: `doctor: ${list.length} finding(s)` }), findingsTable(list, ['severity', 'kind', 'node', 'op', 'output', 'detail']));
        n++;
      }
      const of = await getJSON('/api/overfit?run=' + enc(r.name));
      const curves = (of && of.findings) || [];
      if (curves.length) {
        card.append(el('h5', { text: `training curves: ${curves.length} finding(s) (the analysis of nntrace report)` }),
          findingsTable(curves, ['severity', 'kind', 'tag', 'step', 'detail']));
        n++;
      }
      if (r.files.analysis) {
        const d = await getJSON('/api/analysis?run=' + enc(r.name));
        if (d) { card.append(el('details', {}, el('summary', { text: 'analysis.json (nntrace analyze)' }), el('pre', { text: JSON.stringify(d, null, 2) }))); n++; }
      }
      if (r.files.run) {
        const d = await getJSON('/api/runinfo?run=' + enc(r.name));
        if (d) card.append(el('details', {}, el('summary', { text: 'run.json' }), el('pre', { text: JSON.stringify(d, null, 2) })));
      }
      if (!n) card.append(el('p', { class: 'muted', text: 'No findings (findings.json from nntrace doctor; curve findings appear when the run logs training and validation losses).' }));
      pane.append(card);
    }
  }

  /* ---------------------------------------------------------------- refresh, live */

  const renderers = {
    scalars: renderScalars, histograms: renderHistograms, images: renderImages, text: renderText,
    graph: renderGraph, nodes: renderNodes, heatmaps: renderHeatmaps, findings: renderFindings,
  };
  let busy = false, again = false, againFull = false;

  async function refresh(full) {
    if (busy) { again = true; againFull = againFull || !!full; return; }
    busy = true;
    try {
      await loadRuns();
      await renderers[state.tab](full);
      state.updates++;
      document.body.dataset.updates = String(state.updates);
      document.body.dataset.version = String(state.version);
    } catch (e) {
      showError(String(e && e.message || e));
    } finally {
      busy = false;
      if (again) { const f = againFull; again = againFull = false; setTimeout(() => refresh(f), 300); }
    }
  }

  /* Live updates are coalesced: at most one refresh a second, and one
   * every five seconds for the heavier panels built from whole files. */
  let pendingTimer = null, lastRefreshAt = 0;
  function onVersion(v) {
    if (v === state.version || pendingTimer) return;
    const slow = ['graph', 'nodes', 'heatmaps', 'findings'].includes(state.tab);
    const delay = Math.max(0, (slow ? 5000 : 1000) - (Date.now() - lastRefreshAt));
    pendingTimer = setTimeout(() => { pendingTimer = null; lastRefreshAt = Date.now(); refresh(false); }, delay);
  }

  function setLive(on, text) {
    const l = $('#live');
    l.className = 'live ' + (on ? 'on' : 'off');
    l.textContent = '● ' + text;
  }

  function connectLive() {
    if (window.EventSource) {
      const es = new EventSource('/api/stream');
      es.addEventListener('version', e => {
        setLive(true, 'live');
        try { onVersion(JSON.parse(e.data).version); } catch (err) { /* ignore a bad frame */ }
      });
      es.onerror = () => setLive(false, 'reconnecting');
      return;
    }
    longPoll();
  }

  async function longPoll() {
    for (;;) {
      try {
        const d = await getJSON('/api/poll?since=' + state.version + '&timeout=25');
        setLive(true, 'live (poll)');
        if (d) onVersion(d.version);
      } catch (e) {
        setLive(false, 'offline');
        await new Promise(r => setTimeout(r, 2000));
      }
    }
  }

  /* ---------------------------------------------------------------- wiring */

  function init() {
    $('#engine').textContent = window.uPlot ? 'charts: uPlot' : 'charts: built-in (uPlot not bundled)';
    for (const b of document.querySelectorAll('#tabs button')) {
      b.addEventListener('click', () => {
        for (const x of document.querySelectorAll('#tabs button')) x.classList.toggle('active', x === b);
        for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.id === 'tab-' + b.dataset.tab);
        state.tab = b.dataset.tab;
        $('#scalar-opts').hidden = state.tab !== 'scalars';
        refresh(true);
      });
    }
    const sm = $('#smoothing');
    sm.addEventListener('input', () => {
      state.smoothing = +sm.value;
      $('#smoothing-val').textContent = state.smoothing.toFixed(2);
      refresh(false);
    });
    $('#logscale').addEventListener('change', e => { state.logY = e.target.checked; refresh(false); });
    $('#showraw').addEventListener('change', e => { state.showRaw = e.target.checked; refresh(false); });
    let ft = null;
    $('#tagfilter').addEventListener('input', e => {
      clearTimeout(ft);
      ft = setTimeout(() => { state.filter = e.target.value || null; refresh(false); }, 250);
    });
    window.addEventListener('resize', () => { clearTimeout(ft); ft = setTimeout(() => refresh(true), 300); });
    refresh(true).then(connectLive);
  }

  window.addEventListener('error', e => showError('script error: ' + e.message));
  init();
})();
