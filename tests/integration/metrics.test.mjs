// GET /v1/metrics and GET /v1/metrics/timeseries (API.md §3.3): window
// handling (checklist 14), counts that match what was sent, delivered and
// failed, bucket layout per window, endpoint filter and the live/test partition.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { RFC3339, expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const WINDOWS = { '1h': [12, 300_000], '24h': [24, 3_600_000], '7d': [28, 21_600_000], '30d': [30, 86_400_000] };

const get = (h, path, opts) => h.api('GET', path, undefined, opts);

/** Checks the metrics object types; success_rate must be a JSON real in the raw text. */
function checkMetrics(res, window) {
    const { data } = expectOk(res);
    assert.equal(data.window, window);
    for (const k of ['total_messages', 'succeeded', 'failed', 'retries', 'avg_latency_ms']) {
        assert.ok(Number.isInteger(data[k]) && data[k] >= 0, `${k} is a non-negative integer: ${res.text}`);
    }
    assert.equal(typeof data.success_rate, 'number');
    assert.match(res.text, /"success_rate":\s*-?\d+\.\d+([eE][-+]?\d+)?[,}]/, `success_rate is a float: ${res.text}`);
    assert.ok(data.success_rate >= 0 && data.success_rate <= 1);
    return data;
}

/**
 * hookd with --max-attempts 2 and a receiver answering 200 on /ok and 500 on
 * /fail; sends nOk and nBad messages and waits until all are final.
 */
async function scenario(t, { nOk, nBad, hookd = {} }) {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'], retrySlow: '50ms', ...hookd });
    const rcv = await env.startReceiver((rec) => (rec.path === '/fail' ? { status: 500 } : { status: 200 }));
    const ok = await h.createEndpoint({ url: rcv.url('/ok') });
    const bad = await h.createEndpoint({ url: rcv.url('/fail') });
    const ids = [];
    for (let i = 0; i < nOk; i++) ids.push([(await h.send({ endpoint_id: ok.id, payload: { i } })).message_id, 'succeeded']);
    for (let i = 0; i < nBad; i++) ids.push([(await h.send({ endpoint_id: bad.id, payload: { i } })).message_id, 'failed_permanent']);
    for (const [id, st] of ids) await h.waitForMessage(id, st);
    return { env, h, rcv, ok, bad };
}

test('checklist 14: metrics window defaults to 24h, each window is echoed, success_rate is a float', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const empty = checkMetrics(await get(h, '/v1/metrics'), '24h');
    assert.deepEqual(empty, {
        window: '24h', total_messages: 0, succeeded: 0, failed: 0, retries: 0, success_rate: 0, avg_latency_ms: 0,
    });
    checkMetrics(await get(h, '/v1/metrics?window='), '24h');
    for (const w of Object.keys(WINDOWS)) checkMetrics(await get(h, `/v1/metrics?window=${w}`), w);
    for (const w of ['2h', '1d', '24H', 'all', '30']) {
        expectError(await get(h, `/v1/metrics?window=${w}`), 400, 'INVALID_REQUEST');
        expectError(await get(h, `/v1/metrics/timeseries?window=${w}`), 400, 'INVALID_REQUEST');
    }
});

test('checklist 14: metrics counts match what was sent, delivered and failed', T, async (t) => {
    const { h } = await scenario(t, { nOk: 3, nBad: 2 });
    for (const w of Object.keys(WINDOWS)) {
        const m = checkMetrics(await get(h, `/v1/metrics?window=${w}`), w);
        // Each failing message: attempt 1 -> pending_retry (a retry), attempt 2 -> failed_permanent.
        assert.deepEqual({ ...m, avg_latency_ms: 0 }, {
            window: w, total_messages: 5, succeeded: 3, failed: 2, retries: 2, success_rate: 0.6, avg_latency_ms: 0,
        });
        assert.ok(m.avg_latency_ms < 5_000, `avg_latency_ms is plausible: ${m.avg_latency_ms}`);
    }
});

test('metrics: success_rate is 1.0 (a float in the JSON text) when every message succeeded', T, async (t) => {
    const { h } = await scenario(t, { nOk: 2, nBad: 0 });
    const res = await get(h, '/v1/metrics');
    const m = checkMetrics(res, '24h');
    assert.equal(m.success_rate, 1);
    assert.match(res.text, /"success_rate":\s*1\.0/);
    assert.equal(m.total_messages, 2);
});

test('timeseries: bucket count and size per window, continuous, sums match the sends', T, async (t) => {
    const { h, ok, bad } = await scenario(t, { nOk: 3, nBad: 2 });
    const now = Date.now();
    const series = async (q) => expectOk(await get(h, `/v1/metrics/timeseries?${q}`)).data;
    const sum = (buckets) => buckets.reduce((a, b) => ({
        total: a.total + b.total, succeeded: a.succeeded + b.succeeded,
        failed: a.failed + b.failed, retrying: a.retrying + b.retrying,
    }), { total: 0, succeeded: 0, failed: 0, retrying: 0 });

    const dflt = await series('');
    assert.equal(dflt.window, '24h');
    assert.equal(dflt.buckets.length, 24);
    for (const [w, [n, size]] of Object.entries(WINDOWS)) {
        const d = await series(`window=${w}`);
        assert.equal(d.window, w);
        assert.equal(d.buckets.length, n, `${w}: ${n} buckets`);
        const ts = d.buckets.map((b) => Date.parse(b.timestamp));
        for (const b of d.buckets) {
            assert.match(b.timestamp, RFC3339);
            for (const k of ['succeeded', 'failed', 'retrying', 'total', 'avg_latency_ms']) {
                assert.ok(Number.isInteger(b[k]) && b[k] >= 0, `${w}: ${k} integer in ${JSON.stringify(b)}`);
            }
        }
        ts.forEach((v, i) => {
            assert.equal(v % size, 0, `${w}: bucket ${i} aligned to its size`);
            if (i) assert.equal(v - ts[i - 1], size, `${w}: bucket ${i} follows the previous one`);
        });
        assert.ok(ts[n - 1] <= now && now < ts[n - 1] + size + 60_000, `${w}: the last bucket holds now`);
        assert.deepEqual(sum(d.buckets), { total: 5, succeeded: 3, failed: 2, retrying: 2 }, `${w} sums`);
        assert.ok(d.buckets.filter((b) => b.total === 0).length >= n - 2, `${w}: empty buckets are zeros`);

        const okOnly = await series(`window=${w}&endpoint_id=${ok.id}`);
        assert.equal(okOnly.buckets.length, n);
        assert.deepEqual(sum(okOnly.buckets), { total: 3, succeeded: 3, failed: 0, retrying: 0 });
        const badOnly = await series(`window=${w}&endpoint_id=${bad.id}`);
        assert.deepEqual(sum(badOnly.buckets), { total: 2, succeeded: 0, failed: 2, retrying: 2 });
    }

    expectError(await get(h, `/v1/metrics/timeseries?endpoint_id=ep_${'0'.repeat(32)}`), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await get(h, '/v1/metrics/timeseries?endpoint_id=nope'), 404, 'ENDPOINT_NOT_FOUND');
    // A deleted endpoint keeps its history.
    expectOk(await h.api('DELETE', `/v1/endpoints/${bad.id}`));
    const gone = await series(`window=1h&endpoint_id=${bad.id}`);
    assert.deepEqual(sum(gone.buckets), { total: 2, succeeded: 0, failed: 2, retrying: 2 });
});

test('metrics and timeseries: test-mode keys see only their own data', T, async (t) => {
    const env = await setup(t);
    const dataDir = env.dataDir();
    const keys = await env.createKeys(dataDir);
    const h = await env.startHookd({ dataDir, bootstrapKey: null });
    h.key = keys.live;
    const rcv = await env.startReceiver({ status: 200 });
    const liveEp = await h.createEndpoint({ url: rcv.url('/live') });
    const testEp = expectOk(await h.api('POST', '/v1/endpoints', { url: rcv.url('/test') }, { key: keys.test }), 201).data;
    const waits = [];
    for (let i = 0; i < 3; i++) {
        const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: testEp.id, payload: { i } }, { key: keys.test });
        waits.push(expectOk(res, 202).data.message_id);
    }
    waits.push((await h.send({ endpoint_id: liveEp.id, payload: {} })).message_id);
    for (const id of waits.slice(0, 3)) {
        await waitFor(async () => {
            const m = expectOk(await h.api('GET', `/v1/messages/${id}`, undefined, { key: keys.test })).data;
            return m.status === 'succeeded';
        }, { interval: 50, what: `test message ${id} delivered` });
    }
    await h.waitForMessage(waits[3], 'succeeded');

    const live = checkMetrics(await get(h, '/v1/metrics?window=1h'), '1h');
    assert.equal(live.total_messages, 1);
    assert.equal(live.succeeded, 1);
    const tst = checkMetrics(await get(h, '/v1/metrics?window=1h', { key: keys.test }), '1h');
    assert.equal(tst.total_messages, 3);
    assert.equal(tst.succeeded, 3);

    const ts = expectOk(await get(h, '/v1/metrics/timeseries?window=1h', { key: keys.test })).data;
    assert.equal(ts.buckets.reduce((a, b) => a + b.total, 0), 3);
    // The other mode's endpoint is not found.
    expectError(await get(h, `/v1/metrics/timeseries?endpoint_id=${testEp.id}`), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await get(h, `/v1/metrics/timeseries?endpoint_id=${liveEp.id}`, { key: keys.test }), 404, 'ENDPOINT_NOT_FOUND');
});
