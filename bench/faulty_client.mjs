// faulty_client.mjs - drives one run of bench/faulty.sh against a running hookd.
//
// Usage: node bench/faulty_client.mjs CONFIG_JSON
//   CONFIG_JSON: {base, key, run, healthy (receiver URL, e.g. http://127.0.0.1:P/hook),
//                 faulty: {kind: url}, kinds (optional: only these faulty kinds), n, rate,
//                 faultyRate, preload, warmupS, collectS}
//
// One run, on a fresh hookd:
//   1. creates the healthy endpoint and sends 20 warm-up messages to it;
//   2. "alone": sends n messages to it, paced at `rate`/s (open loop: a send does not wait
//      for the previous answer), each payload carrying {tag, seq, sent_at_ms}, where
//      sent_at_ms is process.hrtime in ms just before the request to hookd is written;
//      then waits (at most collectS s) until the receiver has seen all n;
//   3. creates one endpoint per faulty receiver, sends `preload` messages to each (a
//      backlog), then keeps a steady `faultyRate`/s stream to each until the end;
//      waits warmupS s;
//   4. "beside": the same n paced messages to the healthy endpoint, same wait.
// The healthy receiver's /_stats gives the latencies. Prints one JSON line on stdout:
//   {alone: {sent, received, p50_ms, p99_ms, max_ms}, beside: {...}, faulty_sent,
//    faulty_rejected, send_errors}
// Every loop is bounded in count and time.
// SPDX-License-Identifier: MIT
import http from "node:http";

const cfg = JSON.parse(process.argv[2]);
// Separate connection pools, so healthy sends never queue behind faulty ones in this client.
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const faultyAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sendErrors = 0;
let firstError = "";

function request(method, url, body, timeoutMs = 10000, via = agent) {
    return new Promise((resolve) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request(
            url,
            {
                method,
                agent: via,
                timeout: timeoutMs,
                headers: {
                    Authorization: `Bearer ${cfg.key}`,
                    ...(data ? { "Content-Type": "application/json", "Content-Length": data.length } : {}),
                },
            },
            (res) => {
                const chunks = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", (e) => resolve({ status: 0, body: String(e) }));
        if (data) req.write(data);
        req.end();
    });
}

async function createEndpoint(url) {
    const r = await request("POST", `${cfg.base}/v1/endpoints`, { url });
    if (r.status !== 201) throw new Error(`POST /v1/endpoints ${url} answered ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body).data.id;
}

// send(ep, payload): one send; true when hookd answered 202.
async function send(ep, payload, via = agent) {
    const r = await request("POST", `${cfg.base}/v1/webhooks/send`, { endpoint_id: ep, payload }, 10000, via);
    if (r.status !== 202) {
        sendErrors++;
        if (!firstError) firstError = `${r.status}: ${r.body.slice(0, 200)}`;
    }
    return r.status === 202;
}

// paced(count, ratePerS, fn, go): calls fn(i) on schedule without awaiting, while go()
// holds; resolves when all calls have settled.
async function paced(count, ratePerS, fn, go = () => true) {
    const t0 = nowMs();
    const pending = [];
    for (let i = 0; i < count && go(); i++) {
        const due = t0 + (i * 1000) / ratePerS;
        const wait = due - nowMs();
        if (wait > 1) await sleep(wait);
        pending.push(fn(i));
    }
    return Promise.all(pending);
}

function pct(sorted, p) {
    if (!sorted.length) return null;
    const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.max(0, i)];
}

async function measure(ep, tag) {
    let sent = 0;
    await paced(cfg.n, cfg.rate, async (seq) => {
        const ok = await send(ep, { tag, seq, sent_at_ms: nowMs(), type: "bench.latency" });
        if (ok) sent++;
    });
    const deadline = nowMs() + cfg.collectS * 1000;
    let stats = { count: 0, latencies_ms: [] };
    while (nowMs() < deadline) {
        const r = await request("GET", `${cfg.healthyBase}/_stats?tag=${encodeURIComponent(tag)}`);
        if (r.status === 200) stats = JSON.parse(r.body);
        if (stats.count >= sent) break;
        await sleep(100);
    }
    const lat = stats.latencies_ms.slice().sort((a, b) => a - b);
    return {
        sent,
        received: stats.count,
        p50_ms: pct(lat, 50),
        p99_ms: pct(lat, 99),
        max_ms: lat.length ? lat[lat.length - 1] : null,
    };
}

const out = { run: cfg.run };
cfg.healthyBase = new URL(cfg.healthy).origin;
const healthyEp = await createEndpoint(cfg.healthy);
await paced(20, 100, (seq) => send(healthyEp, { tag: `warm-${cfg.run}`, seq, sent_at_ms: nowMs() }));
out.alone = await measure(healthyEp, `alone-${cfg.run}`);

const faultyEps = {};
for (const [kind, url] of Object.entries(cfg.faulty)) {
    if (!cfg.kinds || cfg.kinds.includes(kind)) faultyEps[kind] = await createEndpoint(url);
}
let faultySent = 0;
let faultyRejected = 0;
const sendFaulty = async (kind, seq) => {
    if (await send(faultyEps[kind], { kind, seq, type: "bench.faulty" }, faultyAgent)) faultySent++;
    else faultyRejected++;
};
// Backlogs: `preload` messages to each faulty endpoint, 32 requests at a time.
const kinds = Object.keys(faultyEps);
await paced(kinds.length * cfg.preload, 2000, (i) => sendFaulty(kinds[i % kinds.length], i));
// The steady stream runs until the beside phase has been measured (bounded by stopAt).
let streaming = true;
const streamStop = nowMs() + (cfg.warmupS + cfg.n / cfg.rate + cfg.collectS + 5) * 1000;
const stream = paced(
    Math.ceil((streamStop - nowMs()) / 1000) * cfg.faultyRate * kinds.length,
    cfg.faultyRate * kinds.length,
    (i) => sendFaulty(kinds[i % kinds.length], cfg.preload + i),
    () => streaming && nowMs() < streamStop,
);
await sleep(cfg.warmupS * 1000);
out.beside = await measure(healthyEp, `beside-${cfg.run}`);
streaming = false;
await Promise.race([stream, sleep(2000)]);
out.faulty_sent = faultySent;
out.faulty_rejected = faultyRejected;
out.send_errors = sendErrors;
if (firstError) out.first_error = firstError;
process.stdout.write(JSON.stringify(out) + "\n");
agent.destroy();
faultyAgent.destroy();
process.exit(0);
