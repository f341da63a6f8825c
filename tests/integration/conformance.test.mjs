// The outbound conformance checklist of API.md §7 (items 1–29 and 40), one
// test per item, each named "checklist N: …". Other files test several items
// in more depth; this file is the one place where every item is visibly
// checked. Every response here is also validated against docs/openapi.yaml by
// Hookd#api (lib/openapi.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setup, setupDelivery, phpPost } from './lib/hookd.mjs';
import { loadSpec } from './lib/openapi.mjs';
import { ENDPOINT_ID, RFC3339, UUID36, expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };
const UNKNOWN_EP = 'ep_' + '0'.repeat(32);
const UNKNOWN_MSG = '01890a5d-ac96-774b-bcce-b302099a8057';


const hmacHex = (secret, ts, body) => crypto.createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${ts}.`), body])).digest('hex');

/** Checks the cursor-meta rule of checklist 11 on one page. */
function checkPageMeta(meta, where) {
    assert.equal(typeof meta.has_more, 'boolean', `${where}: has_more present`);
    assert.ok('next_cursor' in meta, `${where}: next_cursor present`);
    if (meta.has_more) assert.ok(typeof meta.next_cursor === 'string' && meta.next_cursor.length > 0, `${where}: ${JSON.stringify(meta)}`);
    else assert.equal(meta.next_cursor, null, `${where}: ${JSON.stringify(meta)}`);
}

/** Follows a cursor list with a fixed limit; checks meta, limit and disjointness. */
async function walkPages(h, base, limit, idOf) {
    const seen = new Set();
    let cursor = null;
    for (let page = 0; page < 50; page++) {
        const sep = base.includes('?') ? '&' : '?';
        const q = `${base}${sep}limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
        const { data, meta } = expectOk(await h.api('GET', q));
        checkPageMeta(meta, q);
        assert.ok(data.length <= limit, `${q}: ${data.length} items > limit ${limit}`);
        for (const item of data) {
            assert.ok(!seen.has(idOf(item)), `${q}: ${idOf(item)} was on an earlier page`);
            seen.add(idOf(item));
        }
        if (!meta.has_more) return [...seen];
        cursor = meta.next_cursor;
    }
    throw new Error(`${base} did not end within 50 pages`);
}

/** A message that is pending_retry (receiver answers 500, next retry far away). */
async function pendingRetryMessage(h, epId) {
    const { message_id } = await h.send({ endpoint_id: epId, payload: { want: 'pending_retry' } });
    return h.waitForMessage(message_id, 'pending_retry');
}

test('checklist 1: every /v1 route without a valid Bearer key is 401 UNAUTHORIZED with the error envelope', T, async (t) => {
    const env = await setup(t);
    // Many failures on purpose: the per-address throttle (abuse.test.mjs) is off here.
    const h = await env.startHookd({ extraArgs: ['--auth-fail-limit', '0'] });
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/c1' });
    const params = { endpoint_id: ep.id, message_id: UNKNOWN_MSG, key_id: 'key_0' };
    const routes = [];
    for (const [p, item] of Object.entries(loadSpec().paths)) {
        if (!p.startsWith('/v1/')) continue;
        for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
            if (item[m]) routes.push([m.toUpperCase(), p.replace(/\{(\w+)\}/g, (_, n) => params[n])]);
        }
    }
    assert.ok(routes.length >= 30, `${routes.length} routes`);
    const variants = {
        missing: { key: null },
        unknown: { key: 'hk_live_' + 'f'.repeat(40) },
        'not Bearer': { key: null, headers: { authorization: `Basic ${h.key}` } },
    };
    for (const [name, opts] of Object.entries(variants)) {
        for (const [method, path] of routes) {
            const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
            const res = await h.api(method, path, body, opts);
            const err = expectError(res, 401, 'UNAUTHORIZED');
            assert.ok(err.message, `${name} ${method} ${path}`);
        }
    }
    assert.equal((await h.getEndpoint(ep.id)).id, ep.id, 'nothing was deleted by the rejected calls');
});

test('checklist 2: test keys contain _test_, live keys _live_; the full key appears only in the create response', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const created = {};
    for (const mode of ['test', 'live']) {
        const { data } = expectOk(await h.api('POST', '/v1/api-keys', { mode, label: `c2-${mode}` }), 201);
        // hookd's own prefixes are hk_live_ / hk_test_ (API.md "hookd's own key prefixes").
        assert.ok(data.key.startsWith(`hk_${mode}_`), data.key);
        assert.ok(data.key.includes(`_${mode}_`));
        assert.equal(data.prefix, `hk_${mode}`);
        created[mode] = data;
        // The new key works.
        expectOk(await h.api('GET', '/v1/api-keys', undefined, { key: data.key }));
    }
    const list = await h.api('GET', '/v1/api-keys');
    expectOk(list);
    for (const k of Object.values(created)) {
        assert.ok(!list.text.includes(k.key), 'the full key is not in the list');
        const item = list.json.data.find((x) => x.key_id === k.key_id);
        assert.ok(item, `${k.key_id} is listed`);
        assert.equal(item.key, undefined);
    }
});

test('checklist 3: send returns 202 with a 36-char UUID message_id and status queued', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { n: 3 } });
    const { data } = expectOk(res, 202);
    assert.equal(data.message_id.length, 36);
    assert.match(data.message_id, UUID36);
    assert.equal(data.status, 'queued');
});

test('checklist 4: same idempotency_key + endpoint + payload returns the same message_id, no second message', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const body = { endpoint_id: ep.id, payload: { n: 4 }, idempotency_key: 'c4-key' };
    const a = await h.send(body);
    const b = await h.send(body);
    assert.equal(b.message_id, a.message_id);
    await h.waitForMessage(a.message_id, 'succeeded');
    await h.barrier(ep.id);
    assert.equal(rcv.requestsFor(a.message_id).length, 1, 'delivered once');
    const { data } = expectOk(await h.api('GET', '/v1/logs?limit=500'));
    assert.equal(data.filter((m) => m.message_id !== a.message_id).length, 1, 'only the barrier besides it');
});

test('checklist 5: same idempotency_key + endpoint, different payload is 409 IDEMPOTENCY_MISMATCH', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    await h.send({ endpoint_id: ep.id, payload: { n: 5 }, idempotency_key: 'c5-key' });
    expectError(await h.api('POST', '/v1/webhooks/send',
        { endpoint_id: ep.id, payload: { n: 'other' }, idempotency_key: 'c5-key' }), 409, 'IDEMPOTENCY_MISMATCH');
});

test('checklist 6: send to an unknown endpoint_id is 404 with an error object', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const err = expectError(await h.api('POST', '/v1/webhooks/send', { endpoint_id: UNKNOWN_EP, payload: {} }), 404);
    assert.equal(err.code, 'ENDPOINT_NOT_FOUND');
});

test('checklist 7: payload over 1 MB is PAYLOAD_TOO_LARGE; 51 headers, > 8 KB of headers, Host are 400', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const S = '/v1/webhooks/send';
    const ok = { endpoint_id: ep.id, payload: { n: 7 } };
    const headers = (n, size) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H-${i}`, 'v'.repeat(size)]));
    expectError(await h.api('POST', S, { ...ok, payload: { big: 'x'.repeat(1024 * 1024 + 10) } }), 400, 'PAYLOAD_TOO_LARGE');
    expectError(await h.api('POST', S, { ...ok, headers: headers(51, 4) }), 400, 'INVALID_HEADERS');
    expectError(await h.api('POST', S, { ...ok, headers: headers(3, 3000) }), 400, 'INVALID_HEADERS');
    expectError(await h.api('POST', S, { ...ok, headers: { Host: 'evil.example' } }), 400, 'INVALID_HEADERS');
    expectOk(await h.api('POST', S, { ...ok, headers: headers(50, 4) }), 202);
});

test('checklist 8: every error body has error.code, error.message, meta.request_id; every success data and meta.request_id', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 8 } });
    const successes = [
        ['GET', '/v1/endpoints'], ['GET', `/v1/endpoints/${ep.id}`], ['GET', `/v1/messages/${message_id}`],
        ['GET', `/v1/messages/${message_id}/attempts`], ['GET', '/v1/logs'], ['GET', '/v1/metrics'],
        ['GET', '/v1/metrics/timeseries'], ['GET', '/v1/api-keys'], ['GET', `/v1/endpoints/${ep.id}/signing-keys`],
    ];
    const errors = [
        ['GET', `/v1/endpoints/${UNKNOWN_EP}`, undefined, 404], ['GET', `/v1/messages/${UNKNOWN_MSG}`, undefined, 404],
        ['POST', '/v1/endpoints', { url: 42 }, 400], ['GET', '/v1/logs?limit=0', undefined, 400],
        ['GET', '/v1/metrics?window=2h', undefined, 400], ['POST', '/v1/messages/replay-all', undefined, 400],
        ['DELETE', '/v1/api-keys/key_nope', undefined, 404], ['GET', '/v1/no-such-route', undefined, 404],
        ['GET', '/v1/endpoints', undefined, 401, { key: null }],
    ];
    for (const [method, path] of successes) {
        const res = await h.api(method, path);
        const { meta } = expectOk(res);
        assert.equal(res.headers['x-request-id'], meta.request_id, `${method} ${path}: X-Request-Id`);
    }
    const ids = new Set();
    for (const [method, path, body, status, opts] of errors) {
        const res = await h.api(method, path, body, opts);
        const err = expectError(res, status);
        assert.ok(err.code && err.message, `${method} ${path}`);
        ids.add(res.json.meta.request_id);
    }
    assert.equal(ids.size, errors.length, 'request ids are unique');
});

test('checklist 9: body-less POSTs declaring JSON work for replay, pause, resume, retry-now, cancel, signing-keys', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '30s' });
    const ok = await env.startReceiver({ status: 200 });
    const failing = await env.startReceiver({ status: 500 });
    const epOk = await h.createEndpoint({ url: ok.url('/c9') });
    const epFail = await h.createEndpoint({ url: failing.url('/c9') });
    const { message_id } = await h.send({ endpoint_id: epOk.id, payload: { n: 9 } });
    await h.waitForMessage(message_id, 'succeeded');
    expectOk(await phpPost(h, `/v1/messages/${message_id}/replay`));
    await h.waitForMessage(message_id, (m) => m.status === 'succeeded' && m.replay_count === 1);
    expectOk(await phpPost(h, `/v1/endpoints/${epOk.id}/pause`));
    expectOk(await phpPost(h, `/v1/endpoints/${epOk.id}/resume`));
    expectOk(await phpPost(h, `/v1/endpoints/${epOk.id}/signing-keys`), 201);
    const a = await pendingRetryMessage(h, epFail.id);
    expectOk(await phpPost(h, `/v1/messages/${a.id}/retry-now`));
    await h.waitForMessage(a.id, (m) => m.status === 'pending_retry' && m.attempt_count === 2);
    expectOk(await phpPost(h, `/v1/messages/${a.id}/cancel`));
});

test('checklist 10: GET /v1/messages/{id} has every Message field, integer counts and RFC 3339 times', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 10 }, idempotency_key: 'c10' });
    const m = await h.waitForMessage(message_id, 'succeeded');
    for (const f of ['id', 'project_id', 'endpoint_id', 'status', 'attempt_count', 'replay_count',
        'content_type', 'size_bytes', 'payload_sha256', 'created_at', 'updated_at']) assert.ok(f in m, `field ${f}`);
    for (const f of ['attempt_count', 'replay_count', 'size_bytes', 'response_status', 'response_latency_ms']) {
        assert.ok(Number.isInteger(m[f]), `${f} is an integer: ${m[f]}`);
    }
    for (const f of ['created_at', 'updated_at']) assert.match(m[f], RFC3339);
    assert.equal(m.id, message_id);
    assert.equal(m.endpoint_id, ep.id);
    assert.equal(m.size_bytes, Buffer.byteLength(JSON.stringify({ n: 10 })));
    assert.equal(m.payload_sha256, crypto.createHash('sha256').update(JSON.stringify({ n: 10 })).digest('hex'));
    assert.equal(m.idempotency_key, 'c10');
    assert.equal(m.attempt_count, 1);
    assert.equal(m.response_status, 200);
});

test('checklist 11: cursor lists always carry has_more, next_cursor a non-empty string iff has_more (else null)', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    for (let i = 0; i < 2; i++) await h.createEndpoint({ url: `http://127.0.0.1:9/c11-${i}` });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    await h.waitForMessage(ids[2], 'succeeded');
    for (const q of ['/v1/endpoints', '/v1/endpoints?limit=1', '/v1/endpoints?limit=3', '/v1/endpoints?limit=100',
        '/v1/logs', '/v1/logs?limit=1', '/v1/logs?limit=3', '/v1/logs?status=failed_permanent',
        `/v1/messages/${ids[0]}/attempts`]) {
        const res = await h.api('GET', q);
        const { meta } = expectOk(res);
        checkPageMeta(meta, q);
        assert.doesNotMatch(res.text, /"next_cursor":""/);
    }
    assert.equal(expectOk(await h.api('GET', '/v1/endpoints?limit=1')).meta.has_more, true);
    assert.equal(expectOk(await h.api('GET', '/v1/endpoints?limit=3')).meta.has_more, false);
});

test('checklist 12: following next_cursor with the same limit gives disjoint pages; limit is honoured', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const epIds = [ep.id];
    for (let i = 0; i < 4; i++) epIds.push((await h.createEndpoint({ url: `http://127.0.0.1:9/c12-${i}` })).id);
    const msgIds = [];
    for (let i = 0; i < 5; i++) msgIds.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const limit of [1, 2, 3]) {
        assert.deepEqual((await walkPages(h, '/v1/endpoints', limit, (e) => e.id)).sort(), [...epIds].sort(), `endpoints limit ${limit}`);
        assert.deepEqual((await walkPages(h, '/v1/logs', limit, (m) => m.message_id)).sort(), [...msgIds].sort(), `logs limit ${limit}`);
    }
});

test('checklist 13: the DLQ puts messages/has_more/next_cursor inside data; items carry the documented fields', T, async (t) => {
    const { h, ep } = await setupDelivery(t, { receiver: { status: 500 }, hookd: { extraArgs: ['--max-attempts', '1'] } });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of ids) await h.waitForMessage(id, 'failed_permanent');
    const seen = new Set();
    let cursor = null;
    for (let page = 0; page < 10; page++) {
        const res = await h.api('GET', '/v1/dlq/messages?limit=2' + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
        const { data, meta } = expectOk(res);
        assert.deepEqual(Object.keys(meta), ['request_id'], 'paging is not in meta');
        assert.ok(Array.isArray(data.messages) && typeof data.has_more === 'boolean' && 'next_cursor' in data);
        assert.ok(data.messages.length <= 2);
        for (const m of data.messages) {
            for (const f of ['message_id', 'endpoint', 'status', 'attempt_count', 'created_at', 'last_error', 'failed_at']) {
                assert.ok(f in m, `DLQ item has ${f}: ${JSON.stringify(m)}`);
            }
            assert.equal(m.status, 'failed_permanent');
            assert.equal(m.endpoint, ep.url);
            assert.ok(!seen.has(m.message_id));
            seen.add(m.message_id);
        }
        if (!data.has_more) {
            assert.equal(data.next_cursor, null);
            break;
        }
        assert.ok(data.next_cursor);
        cursor = data.next_cursor;
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
});

test('checklist 14: metrics default to window 24h, echo 1h/24h/7d/30d, success_rate is a float, counts integers', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 14 } });
    await h.waitForMessage(message_id, 'succeeded');
    assert.equal(expectOk(await h.api('GET', '/v1/metrics')).data.window, '24h');
    for (const w of ['1h', '24h', '7d', '30d']) {
        const res = await h.api('GET', `/v1/metrics?window=${w}`);
        const { data } = expectOk(res);
        assert.equal(data.window, w);
        assert.match(res.text, /"success_rate":\s*-?\d+\.\d+(e[+-]?\d+)?[,}]/i, 'success_rate is written as a float');
        for (const f of ['total_messages', 'succeeded', 'failed', 'retries', 'avg_latency_ms']) {
            assert.ok(Number.isInteger(data[f]), `${f}: ${data[f]}`);
        }
        assert.ok(data.total_messages >= 1 && data.succeeded >= 1, JSON.stringify(data));
    }
    expectError(await h.api('GET', '/v1/metrics?window=2h'), 400, 'INVALID_REQUEST');
});

test('checklist 15: replay-all needs status (400); with it, a top-level message and integer replayed/failed/stuck', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of ids) await h.waitForMessage(id, 'succeeded');
    expectError(await h.api('POST', '/v1/messages/replay-all'), 400, 'INVALID_REQUEST');
    const res = await phpPost(h, '/v1/messages/replay-all?status=succeeded');
    const { data } = expectOk(res);
    assert.equal(typeof res.json.message, 'string');
    assert.ok(res.json.message.length > 0);
    for (const f of ['replayed', 'failed', 'stuck']) assert.ok(Number.isInteger(data[f]), `${f}: ${data[f]}`);
    assert.equal(data.replayed, 2);
    for (const id of ids) await h.waitForMessage(id, (m) => m.replay_count === 1 && m.status === 'succeeded');
});

test('checklist 16: replay-batch answers one results[] entry per id, replayed or failed (+error)', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 16 } });
    await h.waitForMessage(message_id, 'succeeded');
    const res = await h.api('POST', '/v1/messages/replay-batch', { message_ids: [message_id, UNKNOWN_MSG] });
    const { data } = expectOk(res);
    assert.equal(typeof res.json.message, 'string');
    assert.equal(data.results.length, 2);
    const [a, b] = data.results;
    assert.deepEqual([a.message_id, a.status], [message_id, 'replayed']);
    assert.deepEqual([b.message_id, b.status], [UNKNOWN_MSG, 'failed']);
    assert.equal(typeof b.error, 'string');
    assert.equal(a.error, undefined);
    assert.deepEqual([data.replayed, data.failed], [1, 1]);
    await h.waitForMessage(message_id, (m) => m.replay_count === 1 && m.status === 'succeeded');
    expectError(await h.api('POST', '/v1/messages/replay-batch', { message_ids: Array(101).fill(message_id) }), 400);
});

test('checklist 17: retry-now and cancel need pending_retry (4xx otherwise); they return the Message', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '30s' });
    const ok = await env.startReceiver({ status: 200 });
    const failing = await env.startReceiver({ status: 500 });
    const epOk = await h.createEndpoint({ url: ok.url('/c17') });
    const epFail = await h.createEndpoint({ url: failing.url('/c17') });
    const { message_id: done } = await h.send({ endpoint_id: epOk.id, payload: { n: 17 } });
    await h.waitForMessage(done, 'succeeded');
    for (const op of ['retry-now', 'cancel']) {
        const res = await phpPost(h, `/v1/messages/${done}/${op}`);
        assert.ok(res.status >= 400 && res.status < 500, `${op} on succeeded: ${res.status}`);
        expectError(res, res.status);
    }
    const m = await pendingRetryMessage(h, epFail.id);
    const retried = expectOk(await phpPost(h, `/v1/messages/${m.id}/retry-now`)).data;
    assert.equal(retried.id, m.id);
    await failing.waitForRequests(2);
    await h.waitForMessage(m.id, (x) => x.status === 'pending_retry' && x.attempt_count === 2);
    const cancelled = expectOk(await phpPost(h, `/v1/messages/${m.id}/cancel`)).data;
    assert.equal(cancelled.id, m.id);
    assert.equal(cancelled.status, 'failed_permanent');
    assert.equal((await h.getMessage(m.id)).status, 'failed_permanent');
    const again = await phpPost(h, `/v1/messages/${m.id}/cancel`);
    assert.ok(again.status >= 400 && again.status < 500, `cancel on failed_permanent: ${again.status}`);
});

test('checklist 18: receivers get X-Webhook-Id, X-Webhook-Timestamp and sha256=HMAC(secret, ts.body) plus custom headers', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 18 }, headers: { 'X-Custom-One': 'c1' } });
    const [req] = await rcv.waitForRequests(1);
    assert.equal(req.headers['x-webhook-id'], message_id);
    const ts = req.headers['x-webhook-timestamp'];
    assert.match(ts, /^\d{10}$/);
    assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 300, 'Unix seconds, about now');
    assert.equal(req.headers['x-webhook-signature'], `sha256=${hmacHex(ep.signing_secret, ts, req.body)}`);
    assert.equal(req.headers['x-custom-one'], 'c1');
    assert.equal(req.text, JSON.stringify({ n: 18 }));
});

test('checklist 19: with two active signing keys the signature holds two comma-separated sha256= values', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const second = expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`), 201).data;
    await h.send({ endpoint_id: ep.id, payload: { n: 19 } });
    const [req] = await rcv.waitForRequests(1);
    const ts = req.headers['x-webhook-timestamp'];
    const parts = req.headers['x-webhook-signature'].split(',').map((s) => s.trim());
    assert.equal(parts.length, 2, req.headers['x-webhook-signature']);
    assert.ok(parts.every((p) => /^sha256=[0-9a-f]{64}$/.test(p)));
    const expected = [ep.signing_secret, second.signing_secret].map((s) => `sha256=${hmacHex(s, ts, req.body)}`);
    assert.deepEqual([...parts].sort(), [...expected].sort());
});

test('checklist 20: 429 answers retry on the fast ladder, other failures on the slow ladder (default schedules)', T, async (t) => {
    const env = await setup(t);
    // The built-in defaults are exactly the documented schedules.
    const cfg = await env.run(['serve', '--print-config']);
    assert.equal(cfg.code, 0, cfg.stderr);
    const sec = (list) => list.map((s) => `${s * 1000}ms`).join(',');
    assert.match(cfg.stdout, new RegExp(`^retry-fast = ${sec([30, 60, 120, 240, 300])}$`, 'm'));
    assert.match(cfg.stdout, new RegExp(`^retry-slow = ${sec([1800, 7200, 21600, 43200, 86400, 172800, 259200, 345600])}$`, 'm'));
    assert.match(cfg.stdout, /^max-attempts = 8$/m);
    // Which ladder applies, with short ladders that are easy to tell apart.
    const h = await env.startHookd({ retryFast: '100ms', retrySlow: '1500ms' });
    const rcv = await env.startReceiver((rec) => {
        const n = rcv.requests.filter((r) => r.path === rec.path).length;
        if (n > 1) return { status: 200 };
        return { status: rec.path === '/fast' ? 429 : 500 };
    });
    const fast = await h.createEndpoint({ url: rcv.url('/fast') });
    const slow = await h.createEndpoint({ url: rcv.url('/slow') });
    const f = await h.send({ endpoint_id: fast.id, payload: { n: 'fast' } });
    const s = await h.send({ endpoint_id: slow.id, payload: { n: 'slow' } });
    await h.waitForMessage(f.message_id, 'succeeded');
    await h.waitForMessage(s.message_id, 'succeeded');
    const gap = (p) => {
        const [a, b] = rcv.requests.filter((r) => r.path === p);
        return b.receivedAt - a.receivedAt;
    };
    assert.ok(gap('/fast') < 1200, `429 retried after ${gap('/fast')} ms (fast ladder 100 ms)`);
    assert.ok(gap('/slow') >= 1400, `500 retried after ${gap('/slow')} ms (slow ladder 1500 ms)`);
    assert.equal((await h.attempts(f.message_id)).data[0].retry_type, 'fast');
    assert.equal((await h.attempts(s.message_id)).data[0].retry_type, 'slow');
});

test('checklist 21: after 8 failed attempts the message is failed_permanent, in the DLQ, and DLQ replay requeues it', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: { status: 500 }, hookd: { retryFast: '20ms', retrySlow: '20ms' } });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 21 } });
    const m = await h.waitForMessage(message_id, 'failed_permanent');
    assert.equal(m.attempt_count, 8);
    assert.equal(rcv.requests.length, 8);
    const { data } = expectOk(await h.api('GET', '/v1/dlq/messages'));
    const item = data.messages.find((x) => x.message_id === message_id);
    assert.ok(item, 'listed in the DLQ');
    assert.equal(item.attempt_count, 8);
    rcv.respond({ status: 200 });
    const replay = expectOk(await phpPost(h, `/v1/dlq/replay/${message_id}`)).data;
    assert.deepEqual(replay, { message_id, status: 'queued' });
    await h.waitForMessage(message_id, 'succeeded');
    const after = expectOk(await h.api('GET', '/v1/dlq/messages')).data;
    assert.ok(!after.messages.some((x) => x.message_id === message_id), 'gone from the DLQ');
});

test('checklist 22: a Retry-After longer than the scheduled delay postpones the next attempt', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 503, headers: { 'retry-after': '1' } }, { status: 200 }],
        hookd: { retrySlow: '100ms' },
    });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 22 } });
    const [a, b] = await rcv.waitForRequests(2);
    assert.ok(b.receivedAt - a.receivedAt >= 950, `second attempt after ${b.receivedAt - a.receivedAt} ms, Retry-After 1 s`);
    await h.waitForMessage(message_id, 'succeeded');
});

test('checklist 23: rate_limit_rps/burst delay deliveries beyond the rate without adding attempts', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { endpoint: { rate_limit_rps: 4, burst: 1 } });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    const reqs = await rcv.waitForRequests(5);
    const span = reqs[4].receivedAt - reqs[0].receivedAt;
    assert.ok(span >= 850, `5 deliveries at 4/s with burst 1 took ${span} ms (>= ~1 s)`);
    for (const id of ids) assert.equal((await h.waitForMessage(id, 'succeeded')).attempt_count, 1);
    assert.equal(rcv.requests.length, 5);
});

test('checklist 24: POST /v1/endpoints gives an ep_ id and a whsec_ secret; a non-HTTPS URL is 400 INVALID_ENDPOINT', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ allowHttp: false });
    const { data } = expectOk(await h.api('POST', '/v1/endpoints', { url: 'https://127.0.0.1:9/c24' }), 201);
    assert.match(data.id, ENDPOINT_ID);
    assert.ok(data.signing_secret.startsWith('whsec_'));
    expectError(await h.api('POST', '/v1/endpoints', { url: 'http://127.0.0.1:9/c24' }), 400, 'INVALID_ENDPOINT');
});

test('checklist 25: PATCH /v1/endpoints/{id} returns the full endpoint with paused, created_at, updated_at, updated: true', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/c25', description: 'before' });
    const { data } = expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { description: 'after', rate_limit_rps: 3 }));
    assert.equal(data.updated, true);
    assert.equal(data.id, ep.id);
    assert.equal(data.url, ep.url);
    assert.equal(data.description, 'after');
    assert.equal(data.rate_limit_rps, 3);
    assert.equal(data.paused, false);
    assert.match(data.created_at, RFC3339);
    assert.match(data.updated_at, RFC3339);
    assert.ok(Date.parse(data.updated_at) >= Date.parse(data.created_at));
    const { updated: _, ...rest } = data;
    assert.deepEqual(await h.getEndpoint(ep.id), rest, 'the same object GET returns, plus updated');
});

test('checklist 26: after DELETE /v1/endpoints/{id}, GET is 404 and it is gone from the list', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/c26' });
    const keep = await h.createEndpoint({ url: 'http://127.0.0.1:9/c26-keep' });
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}`));
    expectError(await h.api('GET', `/v1/endpoints/${ep.id}`), 404, 'ENDPOINT_NOT_FOUND');
    assert.deepEqual((await h.listAllEndpoints()).map((e) => e.id), [keep.id]);
});

test('checklist 27: pause → {id, paused:true}; resume → {id, paused:false, messages_requeued}; held messages go out after resume', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/c27') });
    const other = await h.createEndpoint({ url: rcv.url('/c27-other') });
    assert.deepEqual(expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/pause`)).data, { id: ep.id, paused: true });
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    await h.barrier(other.id);
    assert.equal(rcv.requests.filter((r) => r.path === '/c27').length, 0, 'held while paused');
    for (const id of ids) assert.equal((await h.getMessage(id)).attempt_count, 0);
    const { data } = expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/resume`));
    assert.deepEqual(data, { id: ep.id, paused: false, messages_requeued: 2 });
    for (const id of ids) await h.waitForMessage(id, 'succeeded');
});

test('checklist 28: signing keys: create fields, a third active key is refused, the last key cannot be deleted', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/c28' });
    const P = `/v1/endpoints/${ep.id}/signing-keys`;
    const created = expectOk(await h.api('POST', P), 201).data;
    assert.deepEqual(Object.keys(created).sort(), ['created_at', 'id', 'key_hint', 'signing_secret']);
    assert.match(created.id, /^sk_/);
    assert.ok(created.signing_secret.startsWith('whsec_'));
    assert.equal(created.key_hint, created.signing_secret.slice(-4));
    assert.match(created.created_at, RFC3339);
    const third = await h.api('POST', P);
    assert.ok(third.status >= 400 && third.status < 500, `third active key: ${third.status}`);
    expectError(third, third.status);
    let list = expectOk(await h.api('GET', P)).data;
    assert.deepEqual(list.map((k) => k.id).sort(), [ep.signing_key_id, created.id].sort());
    assert.ok(list.every((k) => k.signing_secret === undefined), 'no secrets in the list');
    expectOk(await h.api('DELETE', `${P}/${ep.signing_key_id}`));
    const last = await h.api('DELETE', `${P}/${created.id}`);
    assert.ok(last.status >= 400 && last.status < 500, `deleting the last key: ${last.status}`);
    expectError(last, last.status);
    list = expectOk(await h.api('GET', P)).data;
    assert.deepEqual(list.map((k) => k.id), [created.id]);
});

test('checklist 29: GET /v1/api-keys lists key_id, prefix, created_at; a deleted key is gone; unknown id → 404', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const k = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'live', label: 'c29' }), 201).data;
    let list = expectOk(await h.api('GET', '/v1/api-keys')).data;
    assert.ok(list.length >= 2);
    for (const item of list) {
        assert.match(item.key_id, /^key_/);
        assert.equal(typeof item.prefix, 'string');
        assert.match(item.created_at, RFC3339);
    }
    assert.ok(list.some((x) => x.key_id === k.key_id));
    expectOk(await h.api('DELETE', `/v1/api-keys/${k.key_id}`));
    list = expectOk(await h.api('GET', '/v1/api-keys')).data;
    assert.ok(!list.some((x) => x.key_id === k.key_id), 'deleted key is not listed');
    expectError(await h.api('GET', '/v1/api-keys', undefined, { key: k.key }), 401, 'UNAUTHORIZED');
    expectError(await h.api('DELETE', '/v1/api-keys/key_000000000000000000000000'), 404);
    expectError(await h.api('DELETE', `/v1/api-keys/${k.key_id}`), 404);
});

test('checklist 40: replaying a message whose payload retention expired is 410 RETENTION_EXPIRED', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 40 }, retention_hours: 0 });
    await h.waitForMessage(message_id, 'succeeded');
    const res = await phpPost(h, `/v1/messages/${message_id}/replay`);
    const err = expectError(res, 410);
    assert.ok(['RETENTION_EXPIRED', 'PAYLOAD_UNAVAILABLE'].includes(err.code), err.code);
    const m = await h.getMessage(message_id);
    assert.equal(m.replay_count, 0, 'nothing was replayed');
    // A message that keeps its payload replays fine.
    const kept = await h.send({ endpoint_id: ep.id, payload: { n: 'kept' } });
    await h.waitForMessage(kept.message_id, 'succeeded');
    expectOk(await phpPost(h, `/v1/messages/${kept.message_id}/replay`));
    await waitFor(async () => (await h.getMessage(kept.message_id)).replay_count === 1, { what: 'replay_count 1' });
});
