#!/usr/bin/env node
/*
 * dashboard.test.js BUILD — the dashboard in a real browser: Debian's
 * Chromium driven by playwright-core (no browser download).  Starts
 * `BUILD/nntrace serve` on a free loopback port over a temporary directory
 * holding a finished run of BUILD/examples/train_mlp, then checks that the
 * page shows the tags, a chart draws, a second run written while the page
 * is open appears with its points without a reload, the other panels
 * render, no request leaves the server's origin and no script error
 * happens.  Prints "browser: N passed, N failed"; exit 1 on any failure.
 * NT_SHOT_DIR=DIR saves screenshots there.
 */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const build = path.resolve(process.argv[2] || 'build');
const nntrace = path.join(build, 'nntrace');
const trainer = path.join(build, 'examples', 'train_mlp');
const chromePath = process.env.NT_CHROMIUM || '/usr/bin/chromium';
const shots = process.env.NT_SHOT_DIR;

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`); }
}

function startServer(dir) {
  return new Promise((resolve, reject) => {
    const p = spawn(nntrace, ['serve', dir, '--port', '0', '--poll-ms', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => reject(new Error('server did not print its URL')), 10000);
    p.stdout.on('data', d => {
      out += d;
      const m = out.match(/http:\/\/[^\s]+\//);
      if (m) { clearTimeout(t); resolve({ proc: p, url: m[0] }); }
    });
    p.stderr.on('data', d => process.stderr.write(d));
    p.on('exit', code => { clearTimeout(t); reject(new Error('server exited with ' + code)); });
  });
}

/* The dashboard points of issue 14, over the tree make_dash_tree.py writes:
 * every kind of nntrace output shown and skipped directories listed; run
 * colours stable when a run appears; onset markers that name their run and
 * do not overprint; Markdown text rendered with HTML kept inert; single-step
 * scalars as values; histograms grouped by run; the graph fitted, zoomable,
 * with a legend, readable text, the NaN origin told from its propagators,
 * Identity nodes folded and times in µs/ns. */
async function dashboardPoints(browser, errors, foreign) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nt-dash-'));
  const tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  try {
    execFileSync('/usr/bin/python3', [path.join(__dirname, 'make_dash_tree.py'), nntrace, tree], { stdio: 'inherit' });
  } catch (e) {
    check('the dashboard tree is written (make_dash_tree.py)', false, String(e));
    return;
  }
  const server = await startServer(tree);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push('console: ' + m.text()); });
  page.on('request', r => { if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  try {
    await page.goto(server.url);
    await page.waitForSelector('#runs label.run[data-run="tree/of_a"]', { timeout: 10000 }).catch(() => null);
    const runs = await page.$$eval('#runs label.run', ls => ls.map(l => [l.dataset.run, l.dataset.status, l.textContent]));
    const names = runs.map(r => r[0]);
    check('eval and analyze outputs are listed as runs', names.includes('tree/eval') && names.includes('tree/occlusion'), JSON.stringify(names));
    const killed = runs.find(r => r[0] === 'tree/killed');
    check('a killed run is shown as incomplete', killed && killed[1] === 'running' && /incomplete/.test(killed[2]), JSON.stringify(killed));
    const skipped = await page.$eval('details.skipped-dirs', d => d.textContent).catch(() => '');
    check('skipped directories are listed with the reason', /\.hidden_run/.test(skipped) && /hidden/.test(skipped), skipped.slice(0, 200));
    const swatches = () => page.$$eval('#runs label.run', ls => Object.fromEntries(ls.map(l => [l.dataset.run, l.querySelector('.swatch').style.background])));
    const colors0 = await swatches();

    // onset markers: three runs overfit near step 85
    await page.fill('#tagfilter', '^loss/val$');
    await page.waitForFunction(() => {
      const c = document.querySelector('.card[data-tag="loss/val"]');
      return c && c.dataset.markers && JSON.parse(c.dataset.markers).length === 3 && c.querySelector('.chart[data-marker-rows]');
    }, null, { timeout: 10000 }).catch(() => null);
    const mk = await page.$eval('.card[data-tag="loss/val"]', c => ({ labels: JSON.parse(c.dataset.markers || '[]'), rows: +(c.querySelector('.chart').dataset.markerRows || 0) })).catch(() => ({ labels: [], rows: 0 }));
    check('onset markers name their run', mk.labels.length === 3 && ['of_a', 'of_b', 'of_c'].every(r => mk.labels.some(l => l.includes(r))), JSON.stringify(mk.labels));
    check('onset markers at nearby steps do not overprint (one label row each)', mk.rows === 3, `rows ${mk.rows}`);
    if (shots) await page.screenshot({ path: path.join(shots, 'onsets.png') });

    // a new run sorting first never recolours the others
    execFileSync(trainer, [path.join(tree, 'aaa_new'), '--epochs', '5'], { stdio: 'ignore' });
    await page.waitForSelector('#runs label.run[data-run="tree/aaa_new"]', { timeout: 10000 }).catch(() => null);
    const colors1 = await swatches();
    const moved = Object.keys(colors0).filter(k => colors1[k] !== colors0[k]);
    check('run colours stay when a new run appears', 'tree/aaa_new' in colors1 && moved.length === 0, `recoloured: ${moved.join(', ')}`);

    // single-step scalars (eval's results) as values
    await page.fill('#tagfilter', '^eval/');
    await page.waitForSelector('.card[data-tag="eval/accuracy"][data-single] td.value', { timeout: 10000 }).catch(() => null);
    const acc = await page.$eval('.card[data-tag="eval/accuracy"]', c => ({ single: !!c.dataset.single, value: (c.querySelector('td.value') || {}).textContent, canvas: !!c.querySelector('canvas') })).catch(() => ({}));
    check('a single-step scalar shows as a value, not a chart', acc.single && /^0\.\d+/.test(acc.value || '') && !acc.canvas, JSON.stringify(acc));
    if (shots) await page.screenshot({ path: path.join(shots, 'single-values.png') });
    await page.fill('#tagfilter', '');
    await page.waitForTimeout(800);

    // Markdown text, HTML inert
    await page.click('#tabs button[data-tab="text"]');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#tab-text .card h4')).some(h => /^notes\/summary/.test(h.textContent)),
      null, { timeout: 10000 }).catch(() => null);
    const md = await page.evaluate(() => {
      const card = Array.from(document.querySelectorAll('#tab-text .card')).find(c => /^notes\/summary/.test(c.querySelector('h4').textContent));
      const m = card && card.querySelector('.markdown');
      return m ? { table: !!m.querySelector('table td'), strong: (m.querySelector('strong') || {}).textContent, h: !!m.querySelector('h4'),
        li: m.querySelectorAll('li').length, script: !!m.querySelector('script, img, b#inj'), pwned: window.__pwned || 0,
        link: (m.querySelector('a') || {}).rel, text: m.textContent } : null;
    });
    check('text renders Markdown (heading, bold, table, list)', md && md.table && md.strong === '0.96' && md.h && md.li === 2, JSON.stringify(md && { ...md, text: undefined }));
    check('HTML inside text stays text (no element, no script run)', md && !md.script && md.pwned === 0 && /<script>/.test(md.text), JSON.stringify(md && { script: md.script, pwned: md.pwned }));
    if (shots) await page.screenshot({ path: path.join(shots, 'text.png') });

    // histograms grouped by run
    await page.click('#tabs button[data-tab="histograms"]');
    // wait for the condition itself: groups fill in as their runs' data arrive
    await page.waitForFunction(() => {
      const gs = Array.from(document.querySelectorAll('#tab-histograms .run-group'));
      return gs.length >= 1 && gs.every(g => g.dataset.run && g.querySelectorAll('.card').length >= 1);
    }, null, { timeout: 15000 }).catch(() => null);
    const groups = await page.$$eval('#tab-histograms .run-group', gs => gs.map(g => [g.dataset.run, g.querySelectorAll('.card').length]));
    check('histograms are grouped by run', groups.length >= 1 && groups.every(([r, n]) => r && n >= 1), JSON.stringify(groups));

    // the graph tab
    await page.click('#tabs button[data-tab="graph"]');
    await page.waitForSelector('#tab-graph select', { timeout: 10000 }).catch(() => null);
    await page.selectOption('#tab-graph select', 'tree/nanrun').catch(() => null);
    await page.waitForSelector('#tab-graph svg.graph g.node[data-name="log"]', { timeout: 10000 }).catch(() => null);
    const g = await page.evaluate(() => {
      const svg = document.querySelector('#tab-graph svg.graph');
      if (!svg) return null;
      const nodes = Array.from(svg.querySelectorAll('g.node'));
      const contrast = nodes.map(n => {
        const fill = n.querySelector('rect').getAttribute('fill'), ink = n.querySelector('text').getAttribute('fill');
        return [fill, ink];
      });
      return { names: nodes.map(n => n.dataset.name), origin: nodes.filter(n => n.dataset.nan === 'origin').map(n => n.dataset.name),
        prop: nodes.filter(n => n.dataset.nan === 'propagates').map(n => n.dataset.name), viewBox: svg.getAttribute('viewBox'),
        zoom: +svg.dataset.zoom, legend: (document.querySelector('#tab-graph .graph-legend') || {}).textContent || '',
        tools: (document.querySelector('#tab-graph .graph-tools') || {}).textContent || '', contrast,
        times: nodes.map(n => n.querySelector('text.op').textContent) };
    });
    check('graph: the NaN origin is marked apart from the nodes that propagate it',
      g && g.origin.join() === 'log' && g.prop.includes('add') && g.prop.includes('relu') && !g.prop.includes('log'), JSON.stringify(g && [g.origin, g.prop]));
    check('graph: Identity chains folded', g && !g.names.includes('id1') && !g.names.includes('id2') && /2 Identity nodes folded/.test(g.tools), JSON.stringify(g && g.names));
    check('graph: fitted to the view, with a legend', g && g.viewBox && /NaN\/Inf origin/.test(g.legend) && /propagates/.test(g.legend), JSON.stringify(g && [g.viewBox, g.legend]));
    const lum = c => { const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(c); const v = m ? [+m[1], +m[2], +m[3]] : (n => [(n >> 16) & 255, (n >> 8) & 255, n & 255])(parseInt(c.slice(1), 16)); const l = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }; return 0.2126 * l(v[0]) + 0.7152 * l(v[1]) + 0.0722 * l(v[2]); };
    const worst = g ? Math.min(...g.contrast.map(([f, i]) => { const a = lum(f), b = lum(i); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); })) : 0;
    check('graph: text contrast at least 4.5:1 on every fill', worst >= 4.5, `worst ${worst.toFixed(2)}`);
    check('graph: times in sensible units', g && g.times.some(t => /(ns|µs|ms)$/.test(t)) && !g.times.some(t => /e-\d/.test(t)), JSON.stringify(g && g.times));
    if (g) {
      const box = await page.$eval('#tab-graph svg.graph', s => { const r = s.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; });
      await page.mouse.move(box[0], box[1]);
      await page.mouse.wheel(0, -400);
      // a loaded machine may deliver the wheel event late: poll, not a fixed wait
      await page.waitForFunction(z0 => +document.querySelector('#tab-graph svg.graph').dataset.zoom > z0, g.zoom, { timeout: 5000 }).catch(() => null);
      const z = await page.$eval('#tab-graph svg.graph', s => +s.dataset.zoom);
      check('graph: the wheel zooms', z > g.zoom, `${g.zoom} -> ${z}`);
    }
    if (shots) await page.screenshot({ path: path.join(shots, 'graph.png') });

    // If bodies drawn as nested clusters around their nodes; a click on the title folds one
    await page.selectOption('#tab-graph select', 'tree/ifrun').catch(() => null);
    const inside = () => page.evaluate(() => {
      const svg = document.querySelector('#tab-graph svg.graph');
      if (!svg) return null;
      const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
      const within = (a, b) => a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
      const cl = k => svg.querySelector(`g.cluster[data-cluster="${k}"]`);
      const nd = n => svg.querySelector(`g.node[data-name="${n}"] rect`);
      const res = {};
      for (const [k, members] of [['choose.then_branch', ['choose.then_branch/then_mul', 'choose.then_branch/then_add']],
        ['choose.else_branch', ['choose.else_branch/else_neg', 'choose.else_branch/inner.then_branch/inner_abs']],
        ['choose.else_branch/inner.then_branch', ['choose.else_branch/inner.then_branch/inner_abs']]]) {
        const c = cl(k);
        res[k] = c ? { title: c.querySelector('text').textContent, ok: members.every(m => nd(m) && within(box(nd(m)), box(c.querySelector('rect')))) } : null;
      }
      const outer = cl('choose.else_branch'), inner = cl('choose.else_branch/inner.then_branch');
      res.nested = !!(outer && inner && within(box(inner.querySelector('rect')), box(outer.querySelector('rect'))));
      res.outsider = !!(cl('choose.then_branch') && nd('out') && !within(box(nd('out')), box(cl('choose.then_branch').querySelector('rect'))));
      return res;
    });
    await page.waitForFunction(() => document.querySelector('#tab-graph g.cluster[data-cluster="choose.then_branch"]'), null, { timeout: 10000 }).catch(() => null);
    const cs = await inside();
    check('graph: If branches drawn as clusters labelled owner · branch around their nodes',
      cs && cs['choose.then_branch'] && cs['choose.then_branch'].ok && /choose · then_branch/.test(cs['choose.then_branch'].title) &&
      cs['choose.else_branch'] && cs['choose.else_branch'].ok && cs.outsider, JSON.stringify(cs));
    check('graph: a nested If body is a cluster inside its branch cluster',
      cs && cs['choose.else_branch/inner.then_branch'] && cs['choose.else_branch/inner.then_branch'].ok && cs.nested, JSON.stringify(cs));
    if (shots) await page.screenshot({ path: path.join(shots, 'graph-clusters.png') });
    await page.click('#tab-graph g.cluster[data-cluster="choose.else_branch"] text').catch(() => null);
    const folded = await page.waitForFunction(() => {
      const f = document.querySelector('#tab-graph g.node.cluster-folded[data-cluster="choose.else_branch"]');
      return f && !document.querySelector('#tab-graph g.node[data-name="choose.else_branch/else_neg"]') &&
        !document.querySelector('#tab-graph g.cluster[data-cluster="choose.else_branch/inner.then_branch"]') &&
        document.querySelector('#tab-graph g.node[data-name="choose.then_branch/then_mul"]') ? f.textContent : null;
    }, null, { timeout: 10000 }).then(h => h.jsonValue(), () => null);
    check('graph: a click on a cluster title folds it into one box', folded && /3 nodes folded|\d+ nodes folded/.test(folded), String(folded));
    if (shots) await page.screenshot({ path: path.join(shots, 'graph-folded.png') });
    await page.click('#tab-graph g.node.cluster-folded[data-cluster="choose.else_branch"]').catch(() => null);
    const back = await page.waitForFunction(() => !!document.querySelector('#tab-graph g.node[data-name="choose.else_branch/else_neg"]') &&
      !!document.querySelector('#tab-graph g.cluster[data-cluster="choose.else_branch"]'), null, { timeout: 10000 }).then(() => true, () => false);
    check('graph: a click on the folded box unfolds it', back);

    // heatmaps: the eval confusion matrix and the occlusion map
    await page.click('#tabs button[data-tab="heatmaps"]');
    const heat = await page.waitForFunction(() => /confusion matrix — tree\/eval/.test(document.querySelector('#tab-heatmaps').textContent) &&
      /occlusion\.npy — tree\/occlusion/.test(document.querySelector('#tab-heatmaps').textContent), null, { timeout: 10000 }).then(() => true, () => false);
    check('heatmaps show the eval confusion matrix and the analyze map', heat);
    const cmaps = await page.$$eval('#tab-heatmaps .card', cs => cs.map(c => [c.querySelector('h4').textContent, (c.querySelector('[data-colormap]') || { dataset: {} }).dataset.colormap]));
    const cm = Object.fromEntries(cmaps.filter(([, m]) => m).map(([t, m]) => [/confusion/.test(t) ? 'confusion' : /occlusion\.npy/.test(t) ? 'occlusion' : t, m]));
    check('one colour map per quantity: counts viridis, a signed map diverging', cm.confusion === 'viridis' && cm.occlusion === 'diverging', JSON.stringify(cmaps));
    if (shots) await page.screenshot({ path: path.join(shots, 'heatmaps.png') });
    await page.click('#tabs button[data-tab="findings"]');
    const fnd = await page.waitForFunction(() => /overfitting/.test(document.querySelector('#tab-findings').textContent), null, { timeout: 10000 }).then(() => true, () => false);
    check('findings show the curve analysis (overfitting)', fnd);
    if (shots) await page.screenshot({ path: path.join(shots, 'findings.png') });
  } finally {
    await page.close();
    server.proc.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  for (const f of [nntrace, trainer, chromePath])
    if (!fs.existsSync(f)) { console.log(`browser: skipped, ${f} is missing`); console.log('browser: 0 passed, 1 failed'); process.exit(1); }
  let chromium;
  try { ({ chromium } = require('playwright-core')); } catch (e) {
    console.log('browser: playwright-core is not installed (npm install in tests/e2e/browser)');
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nt-browser-'));
  execFileSync(trainer, [path.join(tmp, 'first'), '--epochs', '40'], { stdio: 'ignore' });
  const server = await startServer(tmp);
  const browser = await chromium.launch({
    executablePath: chromePath, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  let live = null;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [], foreign = [];
    let navigations = 0;
    page.on('pageerror', e => errors.push(e.message));
    page.on('console', m => { if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push('console: ' + m.text()); });
    page.on('request', r => { if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url()); });
    page.on('framenavigated', f => { if (f === page.mainFrame()) navigations++; });

    await page.goto(server.url);
    // 1. the tags appear
    const card = '.card[data-tag="loss/train"]';
    await page.waitForSelector(card, { timeout: 10000 }).catch(() => null);
    const tags = await page.$$eval('.card[data-tag]', cs => cs.map(c => c.dataset.tag));
    check('page shows the scalar tags', ['loss/train', 'loss/val', 'accuracy/train', 'accuracy/val'].every(t => tags.includes(t)), JSON.stringify(tags));
    // 2. a chart draws (a canvas with points; uPlot or the built-in fallback)
    await page.waitForSelector(`${card} .chart[data-drawn]`, { timeout: 10000 }).catch(() => null);
    const drawn = await page.$eval(`${card} .chart`, c => ({ points: +(c.dataset.points || 0), canvas: !!c.querySelector('canvas') })).catch(() => ({}));
    check('a chart draws', drawn.canvas && drawn.points >= 40, JSON.stringify(drawn));
    const engine = await page.textContent('#engine');
    check('uPlot is bundled into the binary', /uPlot/.test(engine), engine);
    if (shots) await page.screenshot({ path: path.join(shots, 'scalars.png') });

    // 3. live: a run written while the page is open appears without a reload
    const before = await page.evaluate(() => +document.body.dataset.updates);
    live = spawn(trainer, [path.join(tmp, 'second'), '--epochs', '4000'], { stdio: 'ignore' });
    const t0 = Date.now();
    const appeared = await page.waitForFunction(() => {
      const runs = Array.from(document.querySelectorAll('#runs label.run')).map(l => l.textContent);
      return runs.some(t => t.includes('/second'));
    }, null, { timeout: 15000 }).then(() => true, () => false);
    check('a new run appears live', appeared, `after ${Date.now() - t0} ms`);
    // its points keep arriving: the chart's point count grows between two updates
    const count = () => page.$eval(`${card} .chart`, c => +(c.dataset.points || 0));
    const n1 = await count();
    const grew = await page.waitForFunction(n => {
      const c = document.querySelector('.card[data-tag="loss/train"] .chart');
      return c && +c.dataset.points > n;
    }, n1, { timeout: 15000 }).then(() => true, () => false);
    check('new points arrive live', grew, `points ${n1} -> ${await count()}`);
    const after = await page.evaluate(() => +document.body.dataset.updates);
    check('updated without reloading', navigations === 1 && after > before, `navigations ${navigations}, updates ${before} -> ${after}`);
    if (shots) await page.screenshot({ path: path.join(shots, 'live.png') });

    // 4. the other panels
    await page.click('#tabs button[data-tab="histograms"]');
    const hist = await page.waitForSelector('#tab-histograms canvas', { timeout: 10000 }).then(() => true, () => false);
    check('histograms panel draws', hist);
    if (shots) await page.screenshot({ path: path.join(shots, 'histograms.png') });
    await page.click('#tabs button[data-tab="images"]');
    const img = await page.waitForFunction(() => {
      const i = document.querySelector('#tab-images img');
      return i && i.complete && i.naturalWidth > 0;
    }, null, { timeout: 10000 }).then(() => true, () => false);
    check('images panel shows an image', img);
    if (shots) await page.screenshot({ path: path.join(shots, 'images.png') });
    await page.click('#tabs button[data-tab="text"]');
    const text = await page.waitForFunction(() => /MLP/.test((document.querySelector('#tab-text .markdown') || {}).textContent || ''), null, { timeout: 10000 })
      .then(() => true, () => false);
    check('text panel shows the summary', text);
    for (const tab of ['graph', 'nodes', 'heatmaps', 'findings']) {
      await page.click(`#tabs button[data-tab="${tab}"]`);
      await page.waitForTimeout(300);
    }
    await page.click('#tabs button[data-tab="scalars"]');
    await page.waitForTimeout(500);

    await dashboardPoints(browser, errors, foreign);
    check('no script errors', errors.length === 0, errors.slice(0, 5).join(' | '));
    check('nothing loaded from outside the server', foreign.length === 0, foreign.slice(0, 5).join(' '));
  } catch (e) {
    check('browser session', false, e.stack || String(e));
  } finally {
    if (live) live.kill();
    await browser.close();
    server.proc.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => { console.log('browser: ' + (e.stack || e)); console.log(`browser: ${passed} passed, ${failed + 1} failed`); process.exit(1); });
