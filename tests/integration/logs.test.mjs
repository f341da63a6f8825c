// GET /v1/logs (API.md §3.3): MessageSummary items newest first, cursor paging
// (checklist 11 and 12), status and time filters (PHP-style +00:00 offsets),
// and the live/test partition.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, setupDelivery } from './lib/hookd.mjs';
import { RFC3339, UUID36, expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const STATUSES = ['queued', 'delivering', 'succeeded', 'pending_retry', 'failed_permanent'];

/** GET /v1/logs with the given query object; returns the raw response. */
function logs(h, query = {}, opts = {}) {
    const qs = new URLSearchParams(query).toString();
    return h.api('GET', `/v1/logs${qs ? `?${qs}` : ''}`, undefined, opts);
}

/** Checks the paging meta rules of checklist 11 on one page; returns the meta. */
function checkMeta(body, where) {
    const { meta } = body;
    assert.equal(typeof meta.has_more, 'boolean', `${where}: has_more is always present`);
    if (meta.has_more) {
        assert.equal(typeof meta.next_cursor, 'string', `${where}: next_cursor with has_more`);
        assert.ok(meta.next_cursor.length > 0, `${where}: next_cursor is never ""`);
    } else {
        assert.equal(meta.next_cursor ?? null, null, `${where}: next_cursor null without has_more`);
    }
    return meta;
}

/** Follows every cursor with the same query and limit; returns the pages. */
async function allPages(h, query, opts = {}) {
    const pages = [];
    let cursor = null;
    for (let i = 0; i < 200; i++) {
        const body = expectOk(await logs(h, { ...query, ...(cursor ? { cursor } : {}) }, opts));
        const meta = checkMeta(body, `page ${i}`);
        pages.push(body.data);
        if (!meta.has_more) return pages;
        cursor = meta.next_cursor;
    }
    throw new Error('logs did not end within 200 pages');
}

async function ids(h, query, opts) {
    return (await allPages(h, { limit: 500, ...query }, opts)).flat().map((m) => m.message_id);
}

/** Sends n messages one after the other; returns their ids in send order. */
async function sendMany(h, endpointId, n) {
    const out = [];
    for (let i = 0; i < n; i++) {
        const { message_id } = await h.send({ endpoint_id: endpointId, payload: { i } });
        out.push(message_id);
    }
    return out;
}

/** Waits until the wall clock has moved past ms (a few ms; bounded). */
const after = (ms) => waitFor(() => Date.now() > ms + 2, { timeout: 1_000, interval: 1, what: 'the clock to move' });

/** The same instant as an RFC 3339 string with a +hh:00 offset (PHP's DATE_ATOM style). */
function withOffset(iso, hours) {
    const d = new Date(Date.parse(iso) + hours * 3600_000);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    const local = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
        `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
    return `${local}${hours >= 0 ? '+' : '-'}${p(Math.abs(hours))}:00`;
}

test('checklist 11 and 12: logs pages are disjoint, limit honoured, has_more/next_cursor rules', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const sent = await sendMany(h, ep.id, 55);

    // Default limit is 50.
    const first = expectOk(await logs(h));
    assert.equal(first.data.length, 50);
    assert.equal(checkMeta(first, 'default page').has_more, true);

    for (const limit of [1, 7, 50, 55, 500]) {
        const pages = await allPages(h, { limit });
        for (const p of pages) assert.ok(p.length <= limit, `limit ${limit} honoured: ${p.length}`);
        assert.equal(pages.length, Math.max(1, Math.ceil(55 / limit)), `page count for limit ${limit}`);
        const got = pages.flat().map((m) => m.message_id);
        assert.equal(new Set(got).size, got.length, `limit ${limit}: pages are disjoint`);
        assert.deepEqual(got, [...sent].reverse(), `limit ${limit}: every message once, newest first`);
    }

    // The last page says has_more false with next_cursor null, also when it is exactly full.
    const exact = expectOk(await logs(h, { limit: 55 }));
    assert.equal(exact.data.length, 55);
    assert.deepEqual({ ...checkMeta(exact, 'exact'), request_id: undefined },
        { has_more: false, next_cursor: null, request_id: undefined });

    for (const limit of ['0', '501', 'abc', '-1', '']) {
        expectError(await logs(h, { limit }), 400, 'INVALID_REQUEST');
    }
    expectError(await logs(h, { cursor: 'not-a-cursor' }), 400, 'INVALID_REQUEST');
});

test('logs items are MessageSummary objects with endpoint URL, delivery and error details', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'], retrySlow: '50ms' });
    const rcv = await env.startReceiver((rec) => (rec.path === '/fail' ? { status: 500, body: 'nope' } : { status: 200 }));
    const ok = await h.createEndpoint({ url: rcv.url('/ok') });
    const bad = await h.createEndpoint({ url: rcv.url('/fail') });
    const okId = (await h.send({ endpoint_id: ok.id, payload: { a: 1 } })).message_id;
    const badId = (await h.send({ endpoint_id: bad.id, payload: { a: 2 } })).message_id;
    await h.waitForMessage(okId, 'succeeded');
    await h.waitForMessage(badId, 'failed_permanent');

    const { data } = expectOk(await logs(h));
    assert.equal(data.length, 2);
    const [b, o] = data; // newest first
    assert.equal(b.message_id, badId);
    assert.equal(o.message_id, okId);
    for (const m of data) {
        assert.match(m.message_id, UUID36);
        assert.match(m.created_at, RFC3339);
        assert.equal(typeof m.attempt_count, 'number');
        assert.ok(STATUSES.includes(m.status));
    }
    assert.equal(o.endpoint, rcv.url('/ok'));
    assert.equal(o.endpoint_id, ok.id);
    assert.equal(o.status, 'succeeded');
    assert.equal(o.attempt_count, 1);
    assert.match(o.delivered_at, RFC3339);
    assert.equal(o.response_status, 200);
    assert.ok(Number.isInteger(o.response_latency_ms) && o.response_latency_ms >= 0);
    assert.equal(o.last_error ?? null, null);

    assert.equal(b.endpoint, rcv.url('/fail'));
    assert.equal(b.endpoint_id, bad.id);
    assert.equal(b.status, 'failed_permanent');
    assert.equal(b.attempt_count, 2);
    assert.equal(b.response_status, 500);
    assert.equal(typeof b.last_error, 'string');
    assert.ok(b.last_error.length > 0);
    assert.equal(b.delivered_at ?? null, null);
});

test('logs status filter: only that status, paged; unknown status is 400', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'], retrySlow: '50ms' });
    const rcv = await env.startReceiver((rec) => (rec.path === '/fail' ? { status: 500 } : { status: 200 }));
    const ok = await h.createEndpoint({ url: rcv.url('/ok') });
    const bad = await h.createEndpoint({ url: rcv.url('/fail') });
    const okIds = await sendMany(h, ok.id, 4);
    const badIds = await sendMany(h, bad.id, 3);
    for (const id of okIds) await h.waitForMessage(id, 'succeeded');
    for (const id of badIds) await h.waitForMessage(id, 'failed_permanent');

    assert.deepEqual(await ids(h, { status: 'succeeded' }), [...okIds].reverse());
    assert.deepEqual(await ids(h, { status: 'failed_permanent' }), [...badIds].reverse());
    const paged = (await allPages(h, { status: 'failed_permanent', limit: 2 })).map((p) => p.length);
    assert.deepEqual(paged, [2, 1]);
    for (const status of ['queued', 'pending_retry', 'delivering']) {
        assert.deepEqual(await ids(h, { status }), [], `nothing is ${status}`);
    }
    for (const status of ['failed', 'SUCCEEDED', 'dead', '4']) {
        expectError(await logs(h, { status }), 400, 'INVALID_REQUEST');
    }
    const all = await ids(h, { status: '' });
    assert.equal(all.length, 7, 'an empty status means no filter');
});

test('logs time filters: [start_time, end_time), Z and +hh:mm offsets (PHP), bad times 400', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const sent = [];
    for (let i = 0; i < 3; i++) {
        sent.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
        await after(Date.now()); // distinct creation milliseconds
    }
    const created = {};
    for (const m of (await allPages(h, { limit: 500 })).flat()) created[m.message_id] = m.created_at;
    const [m1, m2, m3] = sent;
    const t2 = created[m2];
    assert.match(t2, RFC3339);

    const t3 = created[m3];
    // start_time is inclusive, end_time exclusive: [start_time, end_time).
    assert.deepEqual(await ids(h, { start_time: t2 }), [m3, m2]);
    assert.deepEqual(await ids(h, { end_time: t2 }), [m1]);
    assert.deepEqual(await ids(h, { start_time: t2, end_time: t3 }), [m2]);
    assert.deepEqual(await ids(h, { start_time: t2, end_time: t2 }), []);
    // PHP sends DATE_ATOM-style offsets; +00:00 and other offsets name the same instant.
    assert.deepEqual(await ids(h, { start_time: withOffset(t2, 0), end_time: withOffset(t3, 0) }), [m2]);
    assert.deepEqual(await ids(h, { start_time: withOffset(t2, 2) }), [m3, m2]);
    assert.deepEqual(await ids(h, { end_time: withOffset(t2, -5) }), [m1]);
    // A range with paging and a status filter.
    for (const id of sent) await h.waitForMessage(id, 'succeeded');
    const pages = await allPages(h, { start_time: created[m1], limit: 1, status: 'succeeded' });
    assert.deepEqual(pages.map((p) => p.map((m) => m.message_id)), [[m3], [m2], [m1]]);
    // Ranges outside the data.
    assert.deepEqual(await ids(h, { end_time: '2001-01-01T00:00:00Z' }), []);
    assert.deepEqual(await ids(h, { start_time: '2999-01-01T00:00:00+00:00' }), []);

    for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '1700000000']) {
        expectError(await logs(h, { start_time: bad }), 400, 'INVALID_REQUEST');
        expectError(await logs(h, { end_time: bad }), 400, 'INVALID_REQUEST');
    }
    expectError(await logs(h, { start_time: created[m3], end_time: created[m1] }), 400, 'INVALID_REQUEST');
});

test('logs: test-mode keys see only test messages and live keys only live ones', T, async (t) => {
    const env = await setup(t);
    const dataDir = env.dataDir();
    const keys = await env.createKeys(dataDir);
    const h = await env.startHookd({ dataDir, bootstrapKey: null });
    h.key = keys.live;
    const rcv = await env.startReceiver({ status: 200 });
    const liveEp = await h.createEndpoint({ url: rcv.url('/live') });
    const testEp = expectOk(await h.api('POST', '/v1/endpoints', { url: rcv.url('/test') }, { key: keys.test }), 201).data;
    const liveIds = await sendMany(h, liveEp.id, 2);
    const testIds = [];
    for (let i = 0; i < 3; i++) {
        const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: testEp.id, payload: { i } }, { key: keys.test });
        testIds.push(expectOk(res, 202).data.message_id);
    }
    assert.deepEqual(await ids(h, {}), [...liveIds].reverse());
    assert.deepEqual(await ids(h, {}, { key: keys.test }), [...testIds].reverse());
    // A cursor from the other mode's list positions but never leaks rows.
    const fromTest = await ids(h, { cursor: testIds[2] });
    assert.ok(fromTest.every((id) => liveIds.includes(id)));
});

test('logs: deleted messages do not appear', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const sent = await sendMany(h, ep.id, 3);
    expectOk(await h.api('DELETE', `/v1/messages/${sent[1]}`));
    assert.deepEqual(await ids(h, {}), [sent[2], sent[0]]);
    assert.deepEqual(await ids(h, { limit: 1 }), [sent[2], sent[0]]);
});
