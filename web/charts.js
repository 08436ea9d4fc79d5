/*
 * charts.js — drawing for the nntrace dashboard.
 *
 * LineChart draws several series over steps with uPlot when the build
 * embedded it (web/vendor/, installed from npm by scripts/web_vendor.sh),
 * and with a small canvas renderer of our own otherwise, so the dashboard
 * works (without zoom) even when the libraries could not be installed.
 * Also: histogram "distribution" bands and offset histograms over steps,
 * and heatmaps (confusion matrices, sensitivity maps), all on canvas.
 */
'use strict';

const NT = window.NT || (window.NT = {});
NT.palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf'];

NT.fmt = function (v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(5)).toString();
};

function hexAlpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}
NT.hexAlpha = hexAlpha;

/*
 * Vertical marker lines with labels that never print over each other:
 * markers sorted by x, each label put on the first row whose last label
 * ends left of it (rows of `lineH` pixels from `top`).  A label that would
 * run past `right` is drawn to the left of its line.  Shared by the uPlot
 * hook and the fallback renderer.
 */
NT.drawMarkers = function (ctx, markers, xOf, top, bottom, left, right, scale) {
  const font = Math.round(11 * scale);
  const lineH = Math.round(14 * scale);
  ctx.save();
  ctx.font = `${font}px sans-serif`;
  const rowsEnd = [];
  const sorted = markers.map(m => ({ m, x: Math.round(xOf(m.x)) })).filter(e => e.x >= left && e.x <= right)
    .sort((a, b) => a.x - b.x);
  for (const { m, x } of sorted) {
    ctx.strokeStyle = m.color || '#d62728';
    ctx.setLineDash([5 * scale, 4 * scale]);
    ctx.lineWidth = 1.5 * scale;
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
    const w = ctx.measureText(m.label).width + 6 * scale;
    const lx = x + 4 * scale + w > right ? x - 4 * scale - w : x + 4 * scale;
    let row = 0;
    while (row < rowsEnd.length && rowsEnd[row] > lx) row++;
    rowsEnd[row] = lx + w;
    const ly = top + (row + 1) * lineH;
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(lx - 2 * scale, ly - lineH + 3 * scale, w, lineH);
    ctx.fillStyle = m.color || '#d62728';
    ctx.fillText(m.label, lx, ly);
  }
  ctx.restore();
  return rowsEnd.length;
};

/* Merges series [{x:[], y:[]}] onto one ascending x axis (uPlot's layout). */
function alignSeries(series) {
  const xs = new Set();
  for (const s of series) for (const x of s.x) xs.add(x);
  const x = Array.from(xs).sort((a, b) => a - b);
  const pos = new Map(x.map((v, i) => [v, i]));
  const ys = series.map(s => {
    const y = new Array(x.length).fill(null);
    for (let i = 0; i < s.x.length; i++) y[pos.get(s.x[i])] = s.y[i];
    return y;
  });
  return [x, ...ys];
}

/*
 * A line chart.  opts: {height, onZoom(min, max) | null, onReset()}.
 * setData(series, {logY, markers}) with series [{label, color, x, y, width, alpha}]
 * and markers [{x, label, color}] (vertical dashed lines).
 */
class LineChart {
  constructor(el, opts) {
    this.el = el;
    this.opts = opts || {};
    this.height = this.opts.height || 220;
    this.plot = null;
    this.key = '';
    this.markers = [];
    this.drawn = 0;
  }

  setData(series, cfg) {
    cfg = cfg || {};
    this.markers = cfg.markers || [];
    if (window.uPlot) this._uplot(series, cfg);
    else this._canvas(series, cfg);
    this.drawn++;
    this.el.dataset.drawn = String(this.drawn);
    this.el.dataset.points = String(series.reduce((n, s) => n + s.x.length, 0));
  }

  width() { return Math.max(200, this.el.clientWidth || 400); }

  _uplot(series, cfg) {
    const data = alignSeries(series);
    const key = series.map(s => s.label + s.color + (s.width || 1)).join('|') + (cfg.logY ? 'L' : '');
    if (this.plot && key === this.key) {
      this.plot.setData(data, !cfg.keepScale);
      return;
    }
    if (this.plot) this.plot.destroy();
    this.el.innerHTML = '';
    this.key = key;
    const self = this;
    const opts = {
      width: this.width(),
      height: this.height,
      scales: { x: { time: false }, y: { distr: cfg.logY ? 3 : 1 } },
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: 'step' }].concat(series.map(s => ({
        label: s.label,
        stroke: s.alpha ? hexAlpha(s.color, s.alpha) : s.color,
        width: s.width || 1.5,
        spanGaps: true,
        points: { show: s.x.length <= 60, size: 4 },
        value: (u, v) => NT.fmt(v),
      }))),
      axes: [{}, { values: (u, vals) => vals.map(NT.fmt), size: 60 }],
      hooks: {
        draw: [u => self._drawMarkers(u)],
        setSelect: [u => {
          if (u.select.width < 3) return;
          const min = u.posToVal(u.select.left, 'x'), max = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0 }, false);
          if (self.opts.onZoom) self.opts.onZoom(Math.floor(min), Math.ceil(max));
          else u.setScale('x', { min, max });
        }],
      },
    };
    this.plot = new window.uPlot(opts, data, this.el);
    this.plot.over.addEventListener('dblclick', () => { if (self.opts.onReset) self.opts.onReset(); });
  }

  _drawMarkers(u) {
    const b = u.bbox;
    this.el.dataset.markerRows = String(NT.drawMarkers(u.ctx, this.markers, v => u.valToPos(v, 'x', true),
      b.top, b.top + b.height, b.left, b.left + b.width, devicePixelRatio));
  }

  /* The fallback: axes, lines, markers and a legend on one canvas. */
  _canvas(series, cfg) {
    if (!this.canvas) {
      this.el.innerHTML = '';
      this.canvas = document.createElement('canvas');
      this.canvas.className = 'fallback-chart';
      this.el.appendChild(this.canvas);
      this.legend = document.createElement('div');
      this.legend.className = 'legend';
      this.el.appendChild(this.legend);
    }
    const w = this.width(), h = this.height, dpr = window.devicePixelRatio || 1;
    const c = this.canvas;
    c.width = w * dpr; c.height = h * dpr;
    c.style.width = w + 'px'; c.style.height = h + 'px';
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const tf = v => (cfg.logY ? (v > 0 ? Math.log10(v) : null) : v);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) {
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i] === null ? null : tf(s.y[i]);
        if (y === null || !Number.isFinite(y)) continue;
        x0 = Math.min(x0, s.x[i]); x1 = Math.max(x1, s.x[i]);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    const L = 60, R = 10, T = 10, B = 24;
    ctx.strokeStyle = '#999'; ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
    ctx.strokeRect(L, T, w - L - R, h - T - B);
    if (!Number.isFinite(x0)) { ctx.fillText('no data', L + 10, T + 20); this.legend.textContent = ''; return; }
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
    const px = x => L + (x - x0) / (x1 - x0) * (w - L - R);
    const py = y => T + (1 - (y - y0) / (y1 - y0)) * (h - T - B);
    for (let k = 0; k <= 4; k++) {
      const yv = y0 + (y1 - y0) * k / 4, xv = x0 + (x1 - x0) * k / 4;
      ctx.fillText(NT.fmt(cfg.logY ? Math.pow(10, yv) : yv), 2, py(yv) + 4);
      ctx.fillText(String(Math.round(xv)), px(xv) - 10, h - 6);
    }
    for (const s of series) {
      ctx.strokeStyle = s.alpha ? hexAlpha(s.color, s.alpha) : s.color;
      ctx.lineWidth = s.width || 1.5;
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i] === null ? null : tf(s.y[i]);
        if (y === null || !Number.isFinite(y)) { pen = false; continue; }
        if (pen) ctx.lineTo(px(s.x[i]), py(y)); else ctx.moveTo(px(s.x[i]), py(y));
        pen = true;
      }
      ctx.stroke();
      if (s.x.length <= 60) { // few points: mark them, a lone point has no line
        ctx.fillStyle = ctx.strokeStyle;
        for (let i = 0; i < s.x.length; i++) {
          const y = s.y[i] === null ? null : tf(s.y[i]);
          if (y === null || !Number.isFinite(y)) continue;
          ctx.beginPath(); ctx.arc(px(s.x[i]), py(y), 2.5, 0, 2 * Math.PI); ctx.fill();
        }
      }
    }
    this.el.dataset.markerRows = String(NT.drawMarkers(ctx, this.markers.filter(m => m.x >= x0 && m.x <= x1), px,
      T, h - B, px(x0), px(x1), 1));
    this.legend.innerHTML = '';
    for (const s of series) {
      if (s.alpha) continue;
      const span = document.createElement('span');
      span.innerHTML = '<i></i>';
      span.firstChild.style.background = s.color;
      span.appendChild(document.createTextNode(s.label));
      this.legend.appendChild(span);
    }
  }

  destroy() { if (this.plot) this.plot.destroy(); this.plot = null; }
}
NT.LineChart = LineChart;

/* A canvas sized for the device. */
function sizedCanvas(el, w, h) {
  const dpr = window.devicePixelRatio || 1;
  let c = el.querySelector('canvas');
  if (!c) { c = document.createElement('canvas'); el.appendChild(c); }
  c.width = w * dpr; c.height = h * dpr; c.style.width = w + 'px'; c.style.height = h + 'px';
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}
NT.sizedCanvas = sizedCanvas;

/* Bucket edges [lo, hi] of a histogram point (outer limits clamp to min/max). */
function bucketEdges(h) {
  const n = h.counts.length, out = [];
  for (let i = 0; i < n; i++) {
    let lo = i === 0 ? h.min : h.limits[i - 1], hi = h.limits[i];
    if (lo === null || !Number.isFinite(lo)) lo = h.min;
    if (hi === null || !Number.isFinite(hi)) hi = h.max;
    if (lo < h.min) lo = h.min;
    if (hi > h.max) hi = h.max;
    out.push([lo, hi]);
  }
  return out;
}

/* Value at cumulative fraction q of a histogram (linear inside buckets). */
function quantile(h, edges, q) {
  const total = h.counts.reduce((a, b) => a + (b || 0), 0);
  if (!total) return null;
  let acc = 0;
  const target = q * total;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i] || 0;
    if (acc + c >= target && c > 0) {
      const f = (target - acc) / c;
      return edges[i][0] + f * (edges[i][1] - edges[i][0]);
    }
    acc += c;
  }
  return h.max;
}

/* TensorBoard-style distribution: percentile bands over steps. */
NT.drawDistribution = function (el, hists, color, w, h) {
  const ctx = sizedCanvas(el, w, h);
  if (!hists.length) return;
  const qs = [0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1];
  const rows = hists.map(p => { const e = bucketEdges(p); return qs.map(q => quantile(p, e, q)); });
  let y0 = Infinity, y1 = -Infinity;
  for (const r of rows) for (const v of r) if (v !== null) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
  if (!Number.isFinite(y0)) return;
  if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const xs = hists.map(p => p.step), x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const L = 55, B = 18, T = 6, R = 8;
  const px = x => L + (x - x0) / (x1 - x0) * (w - L - R), py = y => T + (1 - (y - y0) / (y1 - y0)) * (h - T - B);
  for (let b = 0; b < 4; b++) {
    ctx.fillStyle = hexAlpha(color, 0.15 + 0.17 * b);
    ctx.beginPath();
    rows.forEach((r, i) => { const x = px(xs[i]), y = py(r[b]); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    for (let i = rows.length - 1; i >= 0; i--) ctx.lineTo(px(xs[i]), py(rows[i][8 - b]));
    ctx.closePath();
    ctx.fill();
  }
  ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
  rows.forEach((r, i) => { const x = px(xs[i]), y = py(r[4]); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
  ctx.stroke();
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  ctx.fillText(NT.fmt(y1), 2, T + 10); ctx.fillText(NT.fmt(y0), 2, h - B);
  ctx.fillText(String(x0), L, h - 4); ctx.fillText(String(xs[xs.length - 1]), w - R - 40, h - 4);
};

/* Offset histograms: the latest steps stacked, newest in front. */
NT.drawHistograms = function (el, hists, color, w, h) {
  const ctx = sizedCanvas(el, w, h);
  const pts = hists.slice(-16);
  if (!pts.length) return;
  let x0 = Infinity, x1 = -Infinity, cmax = 0;
  const dens = pts.map(p => {
    const e = bucketEdges(p);
    return e.map((ed, i) => {
      x0 = Math.min(x0, ed[0]); x1 = Math.max(x1, ed[1]);
      const d = (p.counts[i] || 0);
      cmax = Math.max(cmax, d);
      return [ed[0], ed[1], d];
    });
  });
  if (!Number.isFinite(x0) || cmax === 0) return;
  if (x1 === x0) { x1 += 0.5; x0 -= 0.5; }
  const L = 8, R = 60, T = 6, B = 18, off = (h - T - B) * 0.5 / Math.max(1, pts.length - 1);
  const ph = (h - T - B) * 0.5;
  const px = x => L + (x - x0) / (x1 - x0) * (w - L - R);
  dens.forEach((d, k) => {
    const base = T + ph + k * off;
    const a = 0.25 + 0.75 * (k + 1) / dens.length;
    ctx.beginPath();
    ctx.moveTo(px(d[0][0]), base);
    for (const [lo, hi, c] of d) {
      const y = base - c / cmax * ph;
      ctx.lineTo(px((lo + hi) / 2), y);
    }
    ctx.lineTo(px(d[d.length - 1][1]), base);
    ctx.fillStyle = hexAlpha(color, a * 0.35); ctx.fill();
    ctx.strokeStyle = hexAlpha(color, a); ctx.stroke();
    ctx.fillStyle = '#777'; ctx.font = '10px sans-serif';
    if (k === 0 || k === dens.length - 1) ctx.fillText('step ' + pts[k].step, w - R + 4, base);
  });
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  ctx.fillText(NT.fmt(x0), L, h - 4); ctx.fillText(NT.fmt(x1), w - R - 40, h - 4);
};

/* Viridis-like ramp, t in [0, 1]. */
function ramp(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
NT.ramp = ramp;

/* Blue -> white -> red for signed values (the anchors of viz/png.c's map). */
function diverging(t) {
  const stops = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];
  t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
NT.diverging = diverging;

/* Black or white text, whichever reads better on an rgb(...) or #rrggbb fill. */
NT.textOn = function (fill) {
  let r, g, b;
  const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(fill);
  if (m) [r, g, b] = [+m[1], +m[2], +m[3]];
  else { const n = parseInt(String(fill).slice(1), 16); [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return L > 0.18 ? '#111111' : '#ffffff';
};

/* A duration in microseconds in a unit that suits it: ns, µs, ms or s. */
NT.fmtTime = function (us) {
  if (us === null || us === undefined || !Number.isFinite(us)) return '—';
  const a = Math.abs(us);
  const p = v => Number(v.toPrecision(3)).toString();
  if (a < 1) return p(us * 1000) + ' ns';
  if (a < 1000) return p(us) + ' µs';
  if (a < 1e6) return p(us / 1000) + ' ms';
  return p(us / 1e6) + ' s';
};

/* A heatmap of rows x cols values; labels optional; numbers drawn when cells are large. */
NT.drawHeatmap = function (el, m, opts) {
  opts = opts || {};
  const rows = m.rows, cols = m.cols;
  const L = opts.rowLabels ? 70 : 10, T = opts.colLabels ? 22 : 6;
  const cell = Math.max(2, Math.min(48, Math.floor((opts.width || 480) / Math.max(cols, 1))));
  const w = L + cols * cell + 100, h = T + rows * cell + 10;
  const ctx = sizedCanvas(el, w, h);
  let lo = m.min, hi = m.max;
  if (lo === null || hi === null) return;
  /* One colour map per quantity: a map with both signs (a change of the
   * output either way) diverges around 0, as nntrace's own PNGs do. */
  const signed = opts.signed !== undefined ? opts.signed : lo < 0 && hi > 0;
  const cmap = signed ? diverging : ramp;
  if (signed) { const r = Math.max(-lo, hi); lo = -r; hi = r; }
  if (hi === lo) hi = lo + 1;
  ctx.font = '11px sans-serif';
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const v = m.data[r * cols + c];
    const fill = v === null ? '#eeeeee' : cmap((v - lo) / (hi - lo));
    ctx.fillStyle = fill;
    ctx.fillRect(L + c * cell, T + r * cell, cell, cell);
    const label = v === null ? '' : NT.fmt(v);
    if (v !== null && ctx.measureText(label).width + 4 <= cell && cell >= 16) { // numbers only where they fit
      ctx.fillStyle = NT.textOn(fill);
      ctx.fillText(label, L + c * cell + (cell - ctx.measureText(label).width) / 2, T + r * cell + cell / 2 + 4);
    }
  }
  el.dataset.colormap = signed ? 'diverging' : 'viridis';
  ctx.fillStyle = '#333'; ctx.font = '11px sans-serif';
  if (opts.rowLabels) opts.rowLabels.forEach((s, r) => ctx.fillText(String(s).slice(0, 10), 2, T + r * cell + cell / 2 + 4));
  if (opts.colLabels) opts.colLabels.forEach((s, c) => ctx.fillText(String(s).slice(0, 4), L + c * cell + 2, T - 6));
  const bx = L + cols * cell + 12, bh = rows * cell;
  for (let i = 0; i < bh; i++) { ctx.fillStyle = cmap(1 - i / Math.max(1, bh - 1)); ctx.fillRect(bx, T + i, 12, 1); }
  ctx.fillStyle = '#333';
  ctx.fillText(NT.fmt(hi), bx + 16, T + 10); ctx.fillText(NT.fmt(lo), bx + 16, T + bh);
};

/*
 * Markdown as TensorBoard's text plugin shows it, rendered safely: the text
 * is HTML-escaped first, so nothing in it becomes markup except what this
 * function makes -- headings, emphasis, inline and fenced code, lists,
 * block quotes, tables, rules and links (http, https and relative only,
 * opened without a referrer).  Returns an HTML string.
 */
NT.markdown = function (src) {
  const esc = t => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const inline = t => {
    const codes = [];
    let h = esc(t).replace(/`([^`]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
    h = h.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/__([^_]+)__/g, '<strong>$1</strong>')
      .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>').replace(/(^|\W)_([^_\s][^_]*)_(?=\W|$)/g, '$1<em>$2</em>')
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, text, url) => {
        const u = url.replace(/&amp;/g, '&');
        if (!/^(https?:\/\/|\/|\.\/|#|[\w.-]+(\/|$))/i.test(u) || /^\s*(javascript|data|vbscript):/i.test(u)) return m;
        return `<a href="${esc(u)}" rel="noopener noreferrer" target="_blank">${text}</a>`;
      });
    return h.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[+i]}</code>`);
  };
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let i = 0;
  const isTableSep = l => /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(l);
  const cells = l => l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map(c => c.trim());
  while (i < lines.length) {
    const l = lines[i];
    if (/^\s*```/.test(l)) {
      const body = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) body.push(lines[i]);
      i++;
      out.push(`<pre><code>${esc(body.join('\n'))}</code></pre>`);
    } else if (/^(#{1,6})\s+/.test(l)) {
      const n = l.match(/^(#{1,6})/)[1].length;
      out.push(`<h${n + 2 > 6 ? 6 : n + 2}>${inline(l.replace(/^#{1,6}\s+/, ''))}</h${n + 2 > 6 ? 6 : n + 2}>`);
      i++;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(l)) {
      out.push('<hr>');
      i++;
    } else if (l.includes('|') && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      const head = cells(l);
      let h = '<table class="md"><thead><tr>' + head.map(c => `<th>${inline(c)}</th>`).join('') + '</tr></thead><tbody>';
      for (i += 2; i < lines.length && lines[i].includes('|') && lines[i].trim(); i++)
        h += '<tr>' + cells(lines[i]).map(c => `<td>${inline(c)}</td>`).join('') + '</tr>';
      out.push(h + '</tbody></table>');
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(l)) {
      const ordered = /^\s*\d/.test(l);
      const items = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]))
        items.push(`<li>${inline(lines[i++].replace(/^\s*([-*+]|\d+[.)])\s+/, ''))}</li>`);
      out.push(`<${ordered ? 'ol' : 'ul'}>${items.join('')}</${ordered ? 'ol' : 'ul'}>`);
    } else if (/^\s*>/.test(l)) {
      const q = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) q.push(lines[i++].replace(/^\s*>\s?/, ''));
      out.push(`<blockquote>${inline(q.join(' '))}</blockquote>`);
    } else if (!l.trim()) {
      i++;
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*```|\s*>|\s*([-*+]|\d+[.)])\s+)/.test(lines[i]) &&
             !(lines[i].includes('|') && i + 1 < lines.length && isTableSep(lines[i + 1])))
        para.push(lines[i++]);
      out.push(`<p>${inline(para.join('\n')).replace(/\n/g, '<br>')}</p>`);
    }
  }
  return out.join('\n');
};
