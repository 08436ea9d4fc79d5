// graph.js — the viewer of `nntrace graph -o FILE.html`, inlined into the page
// with the SVG that Graphviz laid out and the node metadata (a JSON script
// element, id "nt-data", keyed by the SVG node titles "n<k>").  Pan by dragging,
// zoom with the wheel, search by name or op (Enter jumps to the next match),
// click a node for its attributes, shapes and run statistics, click an If/Loop
// body's frame to fold it.  No network.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('nt-data').textContent);
  const view = document.getElementById('view');
  const svg = view.querySelector('svg');
  const panel = document.getElementById('panel');
  const search = document.getElementById('search');
  const count = document.getElementById('count');
  if (!svg) return;

  svg.removeAttribute('width');
  svg.removeAttribute('height');
  const base = svg.viewBox.baseVal;
  const full = { x: base.x, y: base.y, w: base.width, h: base.height };
  let vb = Object.assign({}, full);
  function apply() { svg.setAttribute('viewBox', vb.x + ' ' + vb.y + ' ' + vb.w + ' ' + vb.h); }

  // Element ids of the metadata -> SVG groups (Graphviz puts the DOT node name in <title>).
  const groups = new Map();
  for (const g of svg.querySelectorAll('g.node')) {
    const t = g.querySelector('title');
    if (t && data.nodes[t.textContent]) {
      groups.set(t.textContent, g);
      g.setAttribute('data-nt', t.textContent);
    }
  }

  // Screen point -> viewBox coordinates.
  function toSvg(cx, cy) {
    const p = svg.createSVGPoint();
    p.x = cx; p.y = cy;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  function unitsPerPixel() {
    const r = svg.getBoundingClientRect();
    return Math.max(vb.w / Math.max(r.width, 1), vb.h / Math.max(r.height, 1));
  }

  // A tall graph fits its width at the top (a 1,000-node chain fitted whole is unreadable).
  function fit() {
    const r = svg.getBoundingClientRect();
    const aspect = r.height / Math.max(r.width, 1);
    if (full.h / full.w > 4 * aspect) {
      const h = Math.min(full.h, Math.max(full.w * aspect, 1600));
      vb = { x: full.x + full.w / 2 - h / aspect / 2, y: full.y, w: h / aspect, h: h };
    } else {
      vb = Object.assign({}, full);
    }
    apply();
  }

  let drag = null;
  view.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y, s: unitsPerPixel(), moved: false };
    view.setPointerCapture(e.pointerId);
  });
  view.addEventListener('pointermove', function (e) {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; view.classList.add('dragging'); }
    if (!drag.moved) return;
    vb.x = drag.vx - dx * drag.s;
    vb.y = drag.vy - dy * drag.s;
    apply();
  });
  view.addEventListener('pointerup', function (e) {
    const d = drag;
    drag = null;
    view.classList.remove('dragging');
    if (d && !d.moved) clickAt(e.clientX, e.clientY);
  });
  view.addEventListener('wheel', function (e) {
    e.preventDefault();
    const f = Math.exp((e.deltaMode === 1 ? e.deltaY * 20 : e.deltaY) * 0.0015);
    const p = toSvg(e.clientX, e.clientY);
    const w = Math.min(Math.max(vb.w * f, 20), full.w * 4);
    const k = w / vb.w;
    vb = { x: p.x - (p.x - vb.x) * k, y: p.y - (p.y - vb.y) * k, w: w, h: vb.h * k };
    apply();
  }, { passive: false });

  function centerOn(g) {
    const r = g.getBoundingClientRect();
    const p = toSvg(r.left + r.width / 2, r.top + r.height / 2);
    if (vb.w > 1200) { const k = 900 / vb.w; vb.w *= k; vb.h *= k; }
    vb.x = p.x - vb.w / 2;
    vb.y = p.y - vb.h / 2;
    apply();
  }

  // ---- side panel
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function table(rows) {
    const t = el('table');
    for (const [k, v, cls] of rows) {
      const tr = el('tr');
      tr.appendChild(el('td', null, k));
      tr.appendChild(el('td', cls || null, v));
      t.appendChild(tr);
    }
    return t;
  }
  function num(x) {
    if (x === null || x === undefined) return '-';
    return typeof x === 'number' ? (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toPrecision(5)) : String(x);
  }
  function show(id) {
    const d = data.nodes[id];
    if (!d) return;
    for (const g of svg.querySelectorAll('g.node.selected')) g.classList.remove('selected');
    const g = groups.get(id);
    if (g) g.classList.add('selected');
    panel.textContent = '';
    panel.appendChild(el('h2', null, d.name));
    panel.appendChild(el('div', 'op', d.op + (d.domain ? ' (' + d.domain + ')' : '') + (d.graph ? ' in ' + d.graph : '')));
    if (d.type) panel.appendChild(table([['type', d.type]]));
    if (d.params) panel.appendChild(table([['parameters', num(d.params)]]));
    if (d.run) {
      const r = d.run, rows = [];
      if (r.min !== undefined) {
        rows.push(['range', '[' + num(r.min) + ', ' + num(r.max) + ']']);
        rows.push(['elements', num(r.count)]);
        rows.push(['NaN / Inf', num(r.nan) + ' / ' + num(r.inf), (r.nan || r.inf) ? 'bad' : null]);
        rows.push(['zero fraction', (100 * r.zero_fraction).toFixed(2) + ' %', r.zero_fraction === 1 ? 'bad' : null]);
        if (r.constant) rows.push(['constant', 'yes', 'bad']);
      }
      if (r.time_ms !== undefined) rows.push(['time', num(r.time_ms) + ' ms']);
      if (r.diff_max_abs !== undefined) {
        rows.push(['diff max abs', num(r.diff_max_abs), r.diff_ok ? null : 'bad']);
        rows.push(['diff cosine', num(r.diff_cosine)]);
        rows.push(['diff', r.diff_ok ? 'within tolerance' : 'DIVERGES', r.diff_ok ? null : 'bad']);
      }
      panel.appendChild(el('h3', null, 'run'));
      panel.appendChild(table(rows));
    }
    for (const side of ['inputs', 'outputs']) {
      if (!d[side] || !d[side].length) continue;
      panel.appendChild(el('h3', null, side));
      panel.appendChild(table(d[side].map(v => [(v.name || '(omitted)') + (v.weight ? ' (weight)' : ''), v.type || '?'])));
    }
    const attrs = Object.entries(d.attrs || {});
    if (attrs.length) {
      panel.appendChild(el('h3', null, 'attributes'));
      panel.appendChild(table(attrs));
    }
  }
  // ---- If/Loop/Scan bodies (Graphviz clusters): a click on a body's frame
  // or label folds it (its nodes and their edges hidden, the frame shaded
  // and its label marked) and a second click opens it again.  Graphviz does
  // not nest node groups inside cluster groups, so membership is by
  // geometry: a node inside the cluster's frame belongs to it (and to
  // every cluster around it).
  const clusters = [];
  for (const c of svg.querySelectorAll('g.cluster')) {
    const frame = c.querySelector('polygon, path');
    if (!frame) continue;
    const b = frame.getBBox();
    const members = [];
    for (const [id, g] of groups) {
      const r = g.getBBox();
      if (r.x >= b.x && r.y >= b.y && r.x + r.width <= b.x + b.width && r.y + r.height <= b.y + b.height) members.push(id);
    }
    const label = c.querySelector('text');
    clusters.push({ g: c, members: members, label: label, text: label ? label.textContent : '', folded: false });
  }
  const edges = [];
  for (const e of svg.querySelectorAll('g.edge')) {
    const t = e.querySelector('title');
    const m = t && /^(\S+?)->(\S+)$/.exec(t.textContent);
    if (m) edges.push({ g: e, a: m[1], b: m[2] });
  }
  function applyFolds() {
    const hidden = new Set();
    for (const c of clusters) if (c.folded) for (const id of c.members) hidden.add(id);
    for (const [id, g] of groups) g.style.display = hidden.has(id) ? 'none' : '';
    for (const e of edges) e.g.style.display = hidden.has(e.a) || hidden.has(e.b) ? 'none' : '';
    for (const c of clusters) {
      c.g.classList.toggle('folded', c.folded);
      if (c.label) c.label.textContent = (c.folded ? '[+] ' : '') + c.text + (c.folded ? ' (' + c.members.length + ' nodes)' : '');
    }
  }
  function toggleCluster(i) {
    const c = clusters[i];
    if (!c) return false;
    c.folded = !c.folded;
    applyFolds();
    return c.folded;
  }

  function clickAt(cx, cy) {
    let e = document.elementFromPoint(cx, cy);
    while (e && e !== svg && !(e.getAttribute && e.getAttribute('data-nt')) &&
           !(e.classList && e.classList.contains('cluster'))) e = e.parentNode;
    if (!e || e === svg) return;
    if (e.classList.contains('cluster')) toggleCluster(clusters.findIndex(c => c.g === e));
    else show(e.getAttribute('data-nt'));
  }

  // ---- search
  let matches = [], at = -1;
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    for (const g of groups.values()) g.classList.remove('match');
    matches = [];
    at = -1;
    if (!q) {
      svg.classList.remove('searching');
      count.textContent = '';
      return;
    }
    for (const [id, g] of groups) {
      const d = data.nodes[id];
      if (d.name.toLowerCase().includes(q) || d.op.toLowerCase().includes(q)) {
        g.classList.add('match');
        matches.push(id);
      }
    }
    svg.classList.add('searching');
    count.textContent = matches.length + (matches.length === 1 ? ' match' : ' matches');
  }
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && matches.length) {
      at = (at + 1) % matches.length;
      centerOn(groups.get(matches[at]));
      show(matches[at]);
      count.textContent = (at + 1) + ' / ' + matches.length;
    } else if (e.key === 'Escape') {
      search.value = '';
      runSearch();
    }
  });
  document.getElementById('fit').addEventListener('click', fit);
  window.nntraceGraph = {
    data: data, show: show,
    search: function (q) { search.value = q; runSearch(); return matches.slice(); },
    clusters: function () { return clusters.map(c => ({ label: c.text, members: c.members.length, folded: c.folded })); },
    toggleCluster: toggleCluster,
    hiddenNodes: function () { return [...groups.values()].filter(g => g.style.display === 'none').length; },
  };
  fit();
  // #search=TEXT and #node=NAME open the page searched or with a node shown,
  // #fold=all with every body folded
  // (links from elsewhere, and the tests).
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('search')) { search.value = hash.get('search'); runSearch(); }
  if (hash.get('fold') === 'all') clusters.forEach((c, i) => toggleCluster(i));
  if (hash.get('node')) {
    for (const [id, d] of Object.entries(data.nodes)) if (d.name === hash.get('node')) { show(id); centerOn(groups.get(id)); break; }
  }
})();
