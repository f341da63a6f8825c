// POLICIES.md §7: /readyz, and the histograms and gauges of /metrics
// (delivery latency by outcome, send -> first-attempt lag, commit batch size
// and duration, unfinished / dead-letter messages, oldest due age, disabled
// endpoints). Every scrape is also validated against docs/openapi.yaml.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };

/** name{labels} value lines of one metric (labels "" when none) -> Map(labels -> number). */
function series(text, name) {
    const out = new Map();
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([0-9.eE+-]+|\\+Inf)$`, 'gm'))) {
        out.set(m[1] ?? '', Number(m[2]));
    }
    return out;
}

async function scrape(h) {
    const res = await h.api('GET', '/metrics', undefined, { key: null });
    assert.equal(res.status, 200);
    return res.text;
}

test('/readyz answers ready without a key, on GET and HEAD', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const res = await h.api('GET', '/readyz', undefined, { key: null });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ready' });
    const head = await h.api('HEAD', '/readyz', undefined, { key: null });
    assert.equal(head.status, 200);
    const before = series(await scrape(h), 'hookd_commit_batch_size_count').get('');
    await h.api('GET', '/readyz', undefined, { key: null });
    const after = series(await scrape(h), 'hookd_commit_batch_size_count').get('');
    assert.ok(after > before, `/readyz went through the committer (${before} -> ${after} batches)`);
});

test('/metrics: delivery latency by outcome, first-attempt lag, commit histograms', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '1'] });
    const rcv = await env.startReceiver((rec) => (rec.path === '/fail' ? { status: 500 } : { status: 200 }));
    const ok = await h.createEndpoint({ url: rcv.url('/ok') });
    const bad = await h.createEndpoint({ url: rcv.url('/fail') });
    const a = await h.send({ endpoint_id: ok.id, payload: { n: 1 } });
    const b = await h.send({ endpoint_id: ok.id, payload: { n: 2 } });
    const c = await h.send({ endpoint_id: bad.id, payload: { n: 3 } });
    await h.waitForMessage(a.message_id, 'succeeded');
    await h.waitForMessage(b.message_id, 'succeeded');
    await h.waitForMessage(c.message_id, 'failed_permanent');
    const text = await scrape(h);
    assert.match(text, /^# TYPE hookd_delivery_duration_seconds histogram$/m);
    const counts = series(text, 'hookd_delivery_duration_seconds_count');
    assert.equal(counts.get('outcome="success"'), 2);
    assert.equal(counts.get('outcome="failure"'), 1);
    const buckets = series(text, 'hookd_delivery_duration_seconds_bucket');
    assert.equal(buckets.get('outcome="success",le="+Inf"'), 2, 'the +Inf bucket holds every observation');
    let prev = 0;
    for (const [labels, v] of buckets) {
        if (!labels.startsWith('outcome="success"')) continue;
        assert.ok(v >= prev, `buckets are cumulative: ${labels}`);
        prev = v;
    }
    assert.equal(series(text, 'hookd_first_attempt_lag_seconds_count').get(''), 3, 'one lag per message');
    assert.ok(series(text, 'hookd_commit_batch_size_count').get('') >= 3);
    assert.ok(series(text, 'hookd_commit_duration_seconds_count').get('') >= 3);
    assert.equal(series(text, 'hookd_messages_dead_letter').get(''), 1);
});

test('/metrics gauges: unfinished messages and the oldest due age of a paused endpoint', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/held') });
    expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/pause`));
    for (let i = 0; i < 3; i++) await h.send({ endpoint_id: ep.id, payload: { i } });
    // Gauges are read at most every 5 s: wait for a scrape that sees the sends.
    const text = await waitFor(async () => {
        const s = await scrape(h);
        return series(s, 'hookd_messages_unfinished').get('') === 3 ? s : null;
    }, { timeout: 15_000, interval: 200, what: 'hookd_messages_unfinished 3' });
    assert.equal(series(text, 'hookd_endpoints_disabled').get(''), 0);
    assert.ok(series(text, 'hookd_oldest_due_age_seconds').get('') >= 0);
});
