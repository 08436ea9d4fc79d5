#!/usr/bin/env node
// ort_run.js — runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) with
// the same command-line shape as `nntrace run`, so tests and `make bench` can
// compare the two on the same inputs in the same run.
//
//   node bench/ort_run.js MODEL [-i NAME=FILE.npy]... [-o OUTDIR] [--repeat N]
//                         [--threads N] [--json]
//
// Inputs given without a name bind graph inputs in order.  Outputs are written
// to OUTDIR/<name>.npy with the same name sanitizing as nntrace.  With
// --repeat N the model runs once to warm up, then N times; --json prints
// {"median_ms", "min_ms", "runs", "outputs": [...]}.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array], '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array], '<u2': ['uint16', Uint16Array],
  '<u4': ['uint32', Uint32Array], '<u8': ['uint64', BigUint64Array],
  '|b1': ['bool', Uint8Array], '<f2': ['float16', Uint16Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: fortran order not supported here`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const dt = DTYPES[descr];
  if (!dt) throw new Error(`${file}: dtype ${descr} not supported here`);
  const off = hstart + hlen;
  const bytes = buf.subarray(off);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  let data = new dt[1](copy.buffer, 0, copy.length / dt[1].BYTES_PER_ELEMENT);
  if (dt[0] === 'bool') data = Uint8Array.from(data, v => v ? 1 : 0);
  return new ort.Tensor(dt[0], data, shape);
}

function writeNpy(file, t) {
  const rev = {};
  for (const [k, v] of Object.entries(DTYPES)) rev[v[0]] = k;
  const descr = rev[t.type];
  if (!descr) throw new Error(`cannot write dtype ${t.type}`);
  const shape = t.dims.length === 0 ? '()' : t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = t.type === 'bool' ? Buffer.from(Uint8Array.from(t.data, v => v ? 1 : 0))
    : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const args = process.argv.slice(2);
  let model = null, outdir = null, repeat = 0, threads = 1, json = false;
  const inputs = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-i') inputs.push(args[++i]);
    else if (a === '-o') outdir = args[++i];
    else if (a === '--repeat') repeat = parseInt(args[++i], 10);
    else if (a === '--threads') threads = parseInt(args[++i], 10);
    else if (a === '--json') json = true;
    else if (!model) model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!model) throw new Error('usage: ort_run.js MODEL [-i NAME=FILE]... [-o OUTDIR] [--repeat N] [--json]');
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  let pos = 0;
  for (const spec of inputs) {
    const eq = spec.indexOf('=');
    let name, file;
    if (eq > 0 && !fs.existsSync(spec)) { name = spec.slice(0, eq); file = spec.slice(eq + 1); }
    else { while (feeds[sess.inputNames[pos]]) pos++; name = sess.inputNames[pos]; file = spec; }
    feeds[name] = readNpy(file);
  }
  let results = await sess.run(feeds);
  const times = [];
  if (repeat > 0) {
    for (let r = 0; r < repeat; r++) {
      const t0 = process.hrtime.bigint();
      results = await sess.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  if (outdir) {
    fs.mkdirSync(outdir, { recursive: true });
    for (const name of sess.outputNames)
      writeNpy(path.join(outdir, name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy'), results[name]);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n ? (n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2) : 0;
  const outs = sess.outputNames.map(nm => ({ name: nm, dtype: results[nm].type, shape: results[nm].dims }));
  if (json) console.log(JSON.stringify({ outputs: outs, median_ms: median, min_ms: n ? times[0] : 0, runs: n }));
  else for (const o of outs) console.log(`${o.name} ${o.dtype}[${o.shape.join(',')}]`);
}

if (require.main === module)
  main().catch(e => { console.error(`ort_run: ${e.message}`); process.exit(2); });
module.exports = { ort, readNpy, writeNpy };
