// Outbound endpoints: create/get/patch/delete and cursor pagination (API.md §2, §3.6).
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, setupDelivery } from './lib/hookd.mjs';
import { ENDPOINT_ID, RFC3339, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };
const url = (i) => `http://127.0.0.1:9/endpoint-${i}`;

test('endpoint CRUD', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();

    const created = await h.createEndpoint({
        url: url(1), description: 'orders', headers: { 'X-Env': 'test' }, rate_limit_rps: 5, burst: 10,
    });
    assert.match(created.id, ENDPOINT_ID);
    assert.equal(created.url, url(1));
    assert.equal(created.description, 'orders');
    assert.match(created.signing_key_id, /^sk_./);
    assert.match(created.signing_secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(created.signing_secret.slice(6), 'base64').length, 24);
    assert.equal(typeof created.key_hint, 'string');
    assert.ok(created.signing_secret.endsWith(created.key_hint), 'key_hint is the tail of the secret');
    assert.match(created.created_at, RFC3339);

    const got = await h.getEndpoint(created.id);
    assert.equal(got.id, created.id);
    assert.equal(got.url, url(1));
    assert.equal(got.description, 'orders');
    assert.equal(got.paused, false);
    assert.equal(got.rate_limit_rps, 5);
    assert.equal(got.burst, 10);
    assert.deepEqual(got.headers, { 'X-Env': 'test' });
    assert.match(got.created_at, RFC3339);
    assert.match(got.updated_at, RFC3339);
    assert.equal(got.signing_secret, undefined, 'the secret is shown only once');

    const patchRes = expectOk(await h.api('PATCH', `/v1/endpoints/${created.id}`,
        { description: 'orders v2', url: url(2) }));
    const patched = patchRes.data;
    assert.equal(patched.updated, true);
    assert.equal(patched.id, created.id);
    assert.equal(patched.url, url(2));
    assert.equal(patched.description, 'orders v2');
    assert.equal(patched.paused, false);
    assert.equal(patched.rate_limit_rps, 5, 'fields not in the PATCH are kept');
    assert.match(patched.created_at, RFC3339);
    assert.match(patched.updated_at, RFC3339);
    assert.ok(Date.parse(patched.updated_at) >= Date.parse(got.updated_at));
    const again = await h.getEndpoint(created.id);
    assert.equal(again.url, url(2));
    assert.equal(again.description, 'orders v2');

    const del = expectOk(await h.api('DELETE', `/v1/endpoints/${created.id}`));
    assert.deepEqual(del.data, { id: created.id, deleted: true });
    expectError(await h.api('GET', `/v1/endpoints/${created.id}`), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await h.api('PATCH', `/v1/endpoints/${created.id}`, { description: 'x' }), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await h.api('DELETE', `/v1/endpoints/${created.id}`), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await h.api('POST', '/v1/webhooks/send', { endpoint_id: created.id, payload: {} }),
        404, 'ENDPOINT_NOT_FOUND');
    assert.deepEqual(await h.listAllEndpoints(), [], 'a deleted endpoint leaves the list');
});

test('/v1 endpoint fields: 0 means none, bad values name the /v1 field and change nothing', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: url(1), rate_limit_rps: 0, burst: 0, hmac_enabled: false });
    assert.equal(ep.rate_limit_rps, null);
    assert.equal(ep.burst, null);
    assert.equal(ep.hmac_enabled, false);
    const bad = [
        [{ rate_limit_rps: -1 }, 'INVALID_REQUEST', /'rate_limit_rps'/],
        [{ rate_limit_rps: 100001 }, 'INVALID_REQUEST', /'rate_limit_rps'/],
        [{ burst: 'many' }, 'INVALID_REQUEST', /'burst'/],
        [{ hmac_enabled: 'yes' }, 'INVALID_REQUEST', /'hmac_enabled'/],
        [{ description: 7 }, 'INVALID_REQUEST', /'description'/],
        [{ url: 5 }, 'INVALID_ENDPOINT', /'url'/],
        [{ url: 'ftp://example.com/x' }, 'INVALID_ENDPOINT', /./],
        [{ headers: { 'Bad Name': 'x' } }, undefined, /./],
    ];
    for (const [body, code, msg] of bad) {
        const err = expectError(await h.api('PATCH', `/v1/endpoints/${ep.id}`, body), 400, code);
        assert.match(err.message, msg, JSON.stringify(body));
        expectError(await h.api('POST', '/v1/endpoints', { url: url(2), ...body }), 400, code);
    }
    const after = await h.getEndpoint(ep.id);
    assert.deepEqual({ ...after, updated_at: ep.updated_at },
        Object.fromEntries(Object.entries(ep).filter(([k]) => !['signing_key_id', 'signing_secret', 'key_hint'].includes(k))),
        'nothing changed');
    assert.deepEqual((await h.listAllEndpoints()).map((e) => e.id), [ep.id], 'nothing was made');
    const put = expectOk(await h.api('PUT', `/v1/endpoints/${ep.id}`, { rate_limit_rps: 7 })).data;
    assert.equal(put.rate_limit_rps, 7);
    assert.equal(put.hmac_enabled, false, 'PUT patches, as PATCH');
});

test('a duplicate endpoint URL is 409 DUPLICATE_URL', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: url(1) });
    expectError(await h.api('POST', '/v1/endpoints', { url: url(1) }), 409, 'DUPLICATE_URL');
    assert.deepEqual((await h.listAllEndpoints()).map((e) => e.id), [ep.id]);
});

test('endpoint list: cursor pagination, newest first', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await h.createEndpoint({ url: url(i), description: `d${i}` })).id);
    const newestFirst = [...ids].reverse();

    const pages = [];
    let cursor = null;
    for (let i = 0; i < 10; i++) {
        const q = '/v1/endpoints?limit=2' + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
        const { data, meta } = expectOk(await h.api('GET', q));
        assert.ok(Array.isArray(data));
        assert.ok(data.length <= 2, 'limit is honoured');
        assert.equal(typeof meta.has_more, 'boolean');
        if (meta.has_more) {
            assert.equal(typeof meta.next_cursor, 'string');
            assert.ok(meta.next_cursor.length > 0, 'next_cursor is never ""');
        } else {
            assert.equal(meta.next_cursor, null, 'next_cursor is null on the last page');
        }
        pages.push(data);
        if (!meta.has_more) break;
        cursor = meta.next_cursor;
    }
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
    const seen = pages.flat().map((e) => e.id);
    assert.equal(new Set(seen).size, 5, 'pages are disjoint');
    assert.deepEqual(seen, newestFirst, 'newest first');
    for (const e of pages.flat()) {
        assert.match(e.url, /^http:\/\/127\.0\.0\.1:9\/endpoint-\d$/);
        assert.match(e.description, /^d\d$/);
        assert.equal(e.paused, false);
        assert.match(e.created_at, RFC3339);
        assert.equal(e.signing_secret, undefined);
    }

    const exact = expectOk(await h.api('GET', '/v1/endpoints?limit=5'));
    assert.equal(exact.data.length, 5);
    assert.equal(exact.meta.has_more, false, 'a page that ends exactly at the end has no more');
    assert.equal(exact.meta.next_cursor, null);

    const dflt = expectOk(await h.api('GET', '/v1/endpoints'));
    assert.deepEqual(dflt.data.map((e) => e.id), newestFirst);
    assert.equal(dflt.meta.has_more, false);
    assert.equal(dflt.meta.next_cursor, null);

    // A deleted endpoint disappears from later pages without breaking the cursor.
    const first = expectOk(await h.api('GET', '/v1/endpoints?limit=2'));
    expectOk(await h.api('DELETE', `/v1/endpoints/${newestFirst[2]}`));
    const second = expectOk(await h.api('GET',
        `/v1/endpoints?limit=2&cursor=${encodeURIComponent(first.meta.next_cursor)}`));
    assert.deepEqual(second.data.map((e) => e.id), [newestFirst[3], newestFirst[4]]);
    assert.equal(second.meta.has_more, false);
    assert.equal(second.meta.next_cursor, null);
});

test('messages already queued for a deleted endpoint are still delivered', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: [{ status: 500 }, { status: 200 }] });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { before: 'delete' } });
    await rcv.waitForRequests(1);
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}`));
    const m = await h.waitForMessage(message_id, 'succeeded');
    assert.equal(m.attempt_count, 2);
    assert.equal(rcv.requests.length, 2);
});

test('checklist 23: rate_limit_rps/burst delay deliveries without consuming attempts', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { endpoint: { rate_limit_rps: 5, burst: 1 } });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    const reqs = await rcv.waitForRequests(6);
    const span = reqs[5].receivedAt - reqs[0].receivedAt;
    assert.ok(span >= 800, `6 deliveries at 5/s with burst 1 took only ${span} ms`);
    for (const id of ids) assert.equal((await h.waitForMessage(id, 'succeeded')).attempt_count, 1);
});
