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
    const text = await page.waitForFunction(() => /MLP/.test((document.querySelector('#tab-text pre') || {}).textContent || ''), null, { timeout: 10000 })
      .then(() => true, () => false);
    check('text panel shows the summary', text);
    for (const tab of ['graph', 'nodes', 'heatmaps', 'findings']) {
      await page.click(`#tabs button[data-tab="${tab}"]`);
      await page.waitForTimeout(300);
    }
    await page.click('#tabs button[data-tab="scalars"]');
    await page.waitForTimeout(500);

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
