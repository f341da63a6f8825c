// API keys (/v1/api-keys, API.md §3.4 and docs/api.md "API keys"): create,
// list, delete, the live/test partition of data, last_used_at, and the
// request log line carrying the response's request_id.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { expectError, expectOk, RFC3339, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };

async function createKey(h, body, key) {
    return expectOk(await h.api('POST', '/v1/api-keys', body, key === undefined ? {} : { key }),
        201).data;
}

async function listKeys(h, key) {
    const { data } = expectOk(await h.api('GET', '/v1/api-keys', undefined,
        key === undefined ? {} : { key }));
    assert.ok(Array.isArray(data), 'api-keys list data is an array');
    return data;
}

test('checklist 2: test keys contain _test_, live keys _live_; the full key only in the create response', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();

    const testKey = await createKey(h, { mode: 'test', label: 'ci' });
    assert.match(testKey.key, /^hk_test_[0-9a-f]{40}$/);
    assert.ok(testKey.key.includes('_test_'));
    assert.equal(testKey.prefix, 'hk_test');
    assert.equal(testKey.mode, 'test');
    assert.equal(testKey.label, 'ci');
    assert.match(testKey.key_id, /^key_/);
    assert.match(testKey.created_at, RFC3339);

    const liveKey = await createKey(h, { mode: 'live' });
    assert.match(liveKey.key, /^hk_live_[0-9a-f]{40}$/);
    assert.equal(liveKey.prefix, 'hk_live');
    assert.equal(liveKey.mode, 'live');

    // Mode defaults to live when absent (docs example sends only a label), and an
    // empty body is accepted (PHP style).
    const defaulted = await createKey(h, { label: 'no mode ' + 'x'.repeat(247) });
    assert.equal(defaulted.label.length, 255, 'a 255-byte label is accepted');
    assert.equal(defaulted.mode, 'live');
    assert.ok(defaulted.key.startsWith('hk_live_'));
    const empty = expectOk(await h.api('POST', '/v1/api-keys', undefined,
        { headers: { 'content-type': 'application/json' } }), 201).data;
    assert.equal(empty.mode, 'live');

    // Every created key authenticates.
    for (const k of [testKey, liveKey, defaulted, empty]) await listKeys(h, k.key);

    // The list never shows a secret.
    const res = await h.api('GET', '/v1/api-keys');
    expectOk(res);
    for (const k of [testKey, liveKey, defaulted, empty]) {
        assert.ok(!res.text.includes(k.key), 'list does not contain the secret');
    }
    for (const item of res.json.data) assert.equal(item.key, undefined);

    // Bad input stores nothing.
    const before = (await listKeys(h)).length;
    expectError(await h.api('POST', '/v1/api-keys', { mode: 'prod' }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', { mode: 7 }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', { label: 12 }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', { label: 'x'.repeat(256) }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', { label: 'é'.repeat(128) }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', { label: 'a\u0000b' }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', ['live']), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/api-keys', undefined, { raw: '{"mode":' }), 400, 'INVALID_REQUEST');
    assert.equal((await listKeys(h)).length, before);
});

test('checklist 29: list fields; delete removes the key from the list; unknown → 404; a deleted key → 401', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const k = await createKey(h, { mode: 'live', label: 'temp' });

    const list = await listKeys(h);
    assert.equal(list.length, 2, 'bootstrap key + the new one');
    for (const item of list) {
        assert.match(item.key_id, /^key_/);
        assert.match(item.prefix, /^hk_(live|test)$/);
        assert.match(item.created_at, RFC3339);
        assert.ok(['live', 'test'].includes(item.mode));
        assert.ok('label' in item && 'last_used_at' in item);
    }
    const mine = list.find((x) => x.key_id === k.key_id);
    assert.equal(mine.label, 'temp');
    assert.equal(mine.last_used_at, null, 'never used yet');

    const del = expectOk(await h.api('DELETE', `/v1/api-keys/${k.key_id}`));
    assert.deepEqual(del.data, { key_id: k.key_id, deleted: true });
    assert.ok(!(await listKeys(h)).some((x) => x.key_id === k.key_id), 'deleted key is absent');

    expectError(await h.api('GET', '/v1/api-keys', undefined, { key: k.key }), 401, 'UNAUTHORIZED');
    expectError(await h.api('DELETE', `/v1/api-keys/${k.key_id}`), 404, 'NOT_FOUND');
    expectError(await h.api('DELETE', '/v1/api-keys/key_000000000000000000000000'), 404, 'NOT_FOUND');
});

test('api keys: the last live key cannot be deleted; a key may delete itself otherwise', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const [boot] = await listKeys(h);
    const err = expectError(await h.api('DELETE', `/v1/api-keys/${boot.key_id}`), 409, 'LAST_LIVE_KEY');
    assert.match(err.message, /last live key/);
    assert.equal((await listKeys(h)).length, 1, 'still there');

    const second = await createKey(h, { mode: 'live' });
    // The bootstrap key deletes itself: allowed now, and 401 from then on.
    expectOk(await h.api('DELETE', `/v1/api-keys/${boot.key_id}`));
    expectError(await h.api('GET', '/v1/api-keys'), 401, 'UNAUTHORIZED');
    // The remaining live key is now the last one.
    expectError(await h.api('DELETE', `/v1/api-keys/${second.key_id}`, undefined, { key: second.key }),
        409, 'LAST_LIVE_KEY');
});

test('api keys: a test key sees and manages test keys only', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const tk = await createKey(h, { mode: 'test' });
    const live2 = await createKey(h, { mode: 'live' });

    const seen = await listKeys(h, tk.key);
    assert.ok(seen.length >= 1 && seen.every((x) => x.mode === 'test'), JSON.stringify(seen));
    assert.ok((await listKeys(h)).some((x) => x.mode === 'test'), 'a live key sees test keys too');

    expectError(await h.api('POST', '/v1/api-keys', { mode: 'live' }, { key: tk.key }), 403, 'FORBIDDEN');
    const tk2 = await createKey(h, { mode: 'test' }, tk.key);
    assert.ok(tk2.key.includes('_test_'));
    expectError(await h.api('DELETE', `/v1/api-keys/${live2.key_id}`, undefined, { key: tk.key }),
        404, 'NOT_FOUND');
    expectOk(await h.api('DELETE', `/v1/api-keys/${tk2.key_id}`, undefined, { key: tk.key }));
    // A live key may delete test keys.
    expectOk(await h.api('DELETE', `/v1/api-keys/${tk.key_id}`));
});

test('api keys: a test key gets 404 for a live key even when it is the last live one', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const tk = await createKey(h, { mode: 'test' });
    const [boot] = (await listKeys(h)).filter((x) => x.mode === 'live');
    // Not LAST_LIVE_KEY: a test key may not learn that the live key exists.
    const err = expectError(await h.api('DELETE', `/v1/api-keys/${boot.key_id}`, undefined, { key: tk.key }),
        404, 'NOT_FOUND');
    assert.equal(err.message, `api key '${boot.key_id}' not found`);
    // The refused create names the rule and stores nothing.
    const before = (await listKeys(h)).length;
    const forbidden = expectError(await h.api('POST', '/v1/api-keys', { mode: 'live', label: 'x' }, { key: tk.key }),
        403, 'FORBIDDEN');
    assert.equal(forbidden.message, 'a test key cannot create live keys; use a live key');
    assert.equal((await listKeys(h)).length, before);
    // An id longer than any id is 404 too.
    expectError(await h.api('DELETE', `/v1/api-keys/${'k'.repeat(300)}`), 404, 'NOT_FOUND');
});

test('api keys: at most 1000 active keys; another is 403 FORBIDDEN until one is deleted', { timeout: scaled(120_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const MAX = 1000; // STORE_MAX_API_KEYS, counted over both modes
    let made = [];
    for (let have = 1; have < MAX;) {
        const n = Math.min(25, MAX - have);
        const batch = await Promise.all(Array.from({ length: n }, (_, i) =>
            h.api('POST', '/v1/api-keys', { mode: i % 2 ? 'test' : 'live' })));
        for (const res of batch) made.push(expectOk(res, 201).data);
        have += n;
    }
    assert.equal((await listKeys(h)).length, MAX);
    const testKey = made.find((k) => k.mode === 'test');

    const before = (await listKeys(h)).length;
    for (const [body, key] of [[{ mode: 'live' }, undefined], [{ mode: 'test' }, undefined], [{ mode: 'test' }, testKey.key]]) {
        const err = expectError(await h.api('POST', '/v1/api-keys', body, key === undefined ? {} : { key }),
            403, 'FORBIDDEN');
        assert.equal(err.message, `the store already has ${MAX} active API keys; delete unused ones first`);
    }
    assert.equal((await listKeys(h)).length, before, 'nothing stored');

    // A deleted key frees its place.
    expectOk(await h.api('DELETE', `/v1/api-keys/${made[0].key_id}`));
    await createKey(h, { mode: 'test' }, testKey.key);
    expectError(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 403, 'FORBIDDEN');
});

test('api keys: mode partitions endpoints and messages', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const tk = (await createKey(h, { mode: 'test' })).key;

    const testEp = expectOk(await h.api('POST', '/v1/endpoints', { url: rcv.url('/t') }, { key: tk }), 201).data;
    expectError(await h.api('GET', `/v1/endpoints/${testEp.id}`), 404);
    const liveList = expectOk(await h.api('GET', '/v1/endpoints')).data;
    assert.ok(!liveList.some((e) => e.id === testEp.id), 'test endpoint absent from the live list');
    const testList = expectOk(await h.api('GET', '/v1/endpoints', undefined, { key: tk })).data;
    assert.ok(testList.some((e) => e.id === testEp.id), 'present in the test list');
    // A live key cannot send to a test endpoint.
    expectError(await h.api('POST', '/v1/webhooks/send', { endpoint_id: testEp.id, payload: { a: 1 } }), 404);

    const liveEp = await h.createEndpoint({ url: rcv.url('/l') });
    const { message_id } = await h.send({ endpoint_id: liveEp.id, payload: { live: true } });
    expectOk(await h.api('GET', `/v1/messages/${message_id}`));
    expectError(await h.api('GET', `/v1/messages/${message_id}`, undefined, { key: tk }), 404);
    expectError(await h.api('GET', `/v1/endpoints/${liveEp.id}`, undefined, { key: tk }), 404);
});

test('api keys: last_used_at appears after a key is used', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const k = await createKey(h, { mode: 'test', label: 'used' });
    const lookup = async () => (await listKeys(h)).find((x) => x.key_id === k.key_id);
    assert.equal((await lookup()).last_used_at, null);

    const t0 = Date.now();
    await listKeys(h, k.key);
    // The write is fire-and-forget: poll until the committer has applied it.
    const item = await waitFor(async () => {
        const x = await lookup();
        return x.last_used_at ? x : false;
    }, { timeout: 5_000, what: 'last_used_at to be set' });
    assert.match(item.last_used_at, RFC3339);
    const used = Date.parse(item.last_used_at);
    assert.ok(used >= t0 - 2_000 && used <= Date.now() + 2_000, `last_used_at ${item.last_used_at} is now`);
});

test('request log: one info line per request with the response request_id', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ok = await h.api('GET', '/v1/api-keys');
    expectOk(ok);
    const bad = await h.api('GET', '/v1/api-keys', undefined, { key: 'hk_live_nope_nope_nope' });
    expectError(bad, 401, 'UNAUTHORIZED');
    const [boot] = await listKeys(h);

    const okId = ok.json.meta.request_id;
    assert.equal(ok.headers['x-request-id'], okId);
    const line = await waitFor(() => h.stderr.split('\n').find((l) => l.includes(`request_id=${okId}`)),
        { timeout: 5_000, what: `log line with request_id=${okId}` });
    assert.match(line, /level=info mod=http /);
    assert.match(line, / method=GET /);
    assert.match(line, / path=\/v1\/api-keys /);
    assert.match(line, / status=200 /);
    assert.match(line, / duration_ms=\d+(\.\d+)? /);
    assert.ok(line.includes(` key=${boot.key_id}`), line);

    const badId = bad.json.meta.request_id;
    const badLine = await waitFor(() => h.stderr.split('\n').find((l) => l.includes(`request_id=${badId}`)),
        { timeout: 5_000, what: `log line with request_id=${badId}` });
    assert.match(badLine, / status=401 /);
    assert.ok(!badLine.includes(' key='), 'no key on an unauthenticated request');
    assert.ok(!badLine.includes('nope'), 'the presented secret is never logged');
});
