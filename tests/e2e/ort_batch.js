#!/usr/bin/env node
// ort_batch.js LIST.json — runs many small models in ONNX Runtime (CPU) in one
// process, for checks that compare hundreds of one-node models (starting node
// and ONNX Runtime once per model would take minutes).  LIST is a JSON array
// of {"model", "inputs": [{"name", "file"}], "outdir"}; each model's outputs go
// to OUTDIR/<sanitized name>.npy, or its error message to OUTDIR/error.txt.
'use strict';
const fs = require('fs');
const path = require('path');
const { ort, readNpy, writeNpy } = require(path.join(__dirname, '..', '..', 'bench', 'ort_run.js'));

async function runOne(job) {
  fs.mkdirSync(job.outdir, { recursive: true });
  try {
    const sess = await ort.InferenceSession.create(job.model, {
      intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const feeds = {};
    for (const inp of job.inputs) feeds[inp.name] = readNpy(inp.file);
    const results = await sess.run(feeds);
    for (const name of sess.outputNames)
      writeNpy(path.join(job.outdir, name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy'), results[name]);
  } catch (e) {
    fs.writeFileSync(path.join(job.outdir, 'error.txt'), String(e.message || e));
  }
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const job of jobs) await runOne(job);
}

main().catch(e => { console.error(`ort_batch: ${e.message}`); process.exit(2); });
