// The dead-letter queue (API.md §3.3): GET /v1/dlq/messages (paging inside
// data) and POST /v1/dlq/replay/{id}.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { RFC3339, UUID36, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

test('checklist 21: 8 failed attempts -> failed_permanent in the DLQ; dlq replay requeues and delivers', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: { status: 500, body: 'down' } });
    const { message_id: id } = await h.send({ endpoint_id: ep.id, payload: { dead: 'letter' } });
    const m = await h.waitForMessage(id, 'failed_permanent', 30_000);
    assert.equal(m.attempt_count, 8);

    const { data, meta } = expectOk(await h.api('GET', '/v1/dlq/messages'));
    assert.deepEqual(Object.keys(meta), ['request_id'], 'paging lives inside data, not meta');
    assert.equal(data.has_more, false);
    assert.equal(data.next_cursor, null);
    assert.equal(data.messages.length, 1);
    const item = data.messages[0];
    assert.equal(item.message_id, id);
    assert.match(item.message_id, UUID36);
    assert.equal(item.endpoint, ep.url ?? rcv.url('/hook'));
    assert.equal(item.status, 'failed_permanent');
    assert.equal(item.attempt_count, 8);
    assert.match(item.created_at, RFC3339);
    assert.match(item.failed_at, RFC3339);
    assert.equal(typeof item.last_error, 'string');
    assert.ok(item.last_error.length > 0);

    rcv.respond({ status: 200 });
    const { data: r } = expectOk(await h.api('POST', `/v1/dlq/replay/${id}`, undefined, {
        raw: '', headers: { 'content-type': 'application/json' },
    }));
    assert.deepEqual(r, { message_id: id, status: 'queued' });
    const done = await h.waitForMessage(id, 'succeeded');
    assert.equal(done.replay_count, 1);
    assert.equal(done.attempt_count, 1);
    assert.equal(rcv.requestsFor(id).length, 9);

    const after = expectOk(await h.api('GET', '/v1/dlq/messages')).data;
    assert.equal(after.messages.length, 0, 'a replayed message leaves the DLQ');
    expectError(await h.api('POST', `/v1/dlq/replay/${id}`), 409, 'INVALID_STATE');
    expectError(await h.api('POST', '/v1/dlq/replay/01900000-0000-7000-8000-000000000000'), 404);
});

test('checklist 13: DLQ pages newest first with has_more/next_cursor inside data', T, async (t) => {
    const { h, ep } = await setupDelivery(t, {
        receiver: { status: 500 },
        hookd: { extraArgs: ['--max-attempts', '1'] },
    });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of ids) await h.waitForMessage(id, 'failed_permanent');

    const seen = [];
    let cursor = null;
    for (let page = 0; page < 10; page++) {
        const q = 'limit=2' + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
        const { data, meta } = expectOk(await h.api('GET', `/v1/dlq/messages?${q}`));
        assert.equal(meta.has_more, undefined);
        assert.ok(data.messages.length <= 2);
        assert.equal(data.has_more, data.next_cursor !== null);
        if (data.has_more) assert.ok(typeof data.next_cursor === 'string' && data.next_cursor.length > 0);
        for (const item of data.messages) {
            for (const k of ['message_id', 'endpoint', 'status', 'attempt_count', 'created_at', 'last_error', 'failed_at'])
                assert.ok(k in item, `item has ${k}`);
            seen.push(item.message_id);
        }
        if (!data.has_more) break;
        cursor = data.next_cursor;
    }
    assert.deepEqual(seen, [...ids].reverse(), 'every entry once, newest first');

    expectError(await h.api('GET', '/v1/dlq/messages?limit=0'), 400, 'INVALID_REQUEST');
    expectError(await h.api('GET', '/v1/dlq/messages?limit=1001'), 400, 'INVALID_REQUEST');
    expectError(await h.api('GET', '/v1/dlq/messages?cursor=bogus'), 400, 'INVALID_REQUEST');
    const big = expectOk(await h.api('GET', '/v1/dlq/messages?limit=1000')).data;
    assert.equal(big.messages.length, 5);

    // A deleted message leaves the DLQ too.
    expectOk(await h.api('DELETE', `/v1/messages/${ids[0]}`));
    const left = expectOk(await h.api('GET', '/v1/dlq/messages')).data.messages.map((x) => x.message_id);
    assert.ok(!left.includes(ids[0]));
    assert.equal(left.length, 4);
});
