// scale_client - times GET requests against a running hookd for bench/scale.sh.
//
// Usage: node bench/scale_client.mjs BASE_URL API_KEY CALLS NAME=PATH...
// For each NAME=PATH, in the order given: 10 warm-up calls, then CALLS calls
// one after the other over one keep-alive connection (fetch's pool). Each
// call's wall time covers the request and reading the whole body. Prints one
// JSON object per line: {name, path, calls, statuses, p50_ms, p99_ms, max_ms,
// mean_ms, bytes}; p50/p99 are nearest-rank percentiles.
// SPDX-License-Identifier: MIT
import { performance } from 'node:perf_hooks';

const [base, key, callsArg, ...specs] = process.argv.slice(2);
const calls = Number(callsArg);
if (!base || !key || !Number.isInteger(calls) || calls < 1 || specs.length === 0) {
    process.stderr.write('usage: scale_client.mjs BASE_URL API_KEY CALLS NAME=PATH...\n');
    process.exit(2);
}

const headers = { authorization: `Bearer ${key}` };

async function once(path) {
    const t0 = performance.now();
    const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    return { ms: performance.now() - t0, status: res.status, bytes: body.length };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const r3 = (v) => Math.round(v * 1000) / 1000;

for (const spec of specs) {
    const eq = spec.indexOf('=/'); // names may contain '='; paths start with '/'
    const name = spec.slice(0, eq);
    const path = spec.slice(eq + 1);
    for (let i = 0; i < 10; i++) await once(path);
    const times = [];
    const statuses = {};
    let bytes = 0;
    for (let i = 0; i < calls; i++) {
        const r = await once(path);
        times.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        bytes = r.bytes;
    }
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
        name, path, calls, statuses,
        p50_ms: r3(pct(times, 50)), p99_ms: r3(pct(times, 99)), max_ms: r3(times[times.length - 1]),
        mean_ms: r3(times.reduce((a, b) => a + b, 0) / times.length), bytes,
    }) + '\n');
}
