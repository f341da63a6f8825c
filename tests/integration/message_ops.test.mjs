// Message operations (API.md §3.2): retry-now, cancel, replay, replay-all,
// replay-batch, DELETE, delete-batch, delete-all.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { RFC3339, expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const UNKNOWN = '01900000-0000-7000-8000-000000000000';

async function sendOne(h, ep, payload = { hello: 'ops' }, extra = {}) {
    return (await h.send({ endpoint_id: ep.id, payload, ...extra })).message_id;
}

// PHP clients declare JSON on body-less POSTs (checklist 9).
const phpPost = (h, path) => h.api('POST', path, undefined, {
    raw: '', headers: { 'content-type': 'application/json', accept: 'application/json' },
});

test('checklist 17: retry-now and cancel outside pending_retry fail with 409 INVALID_STATE', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const id = await sendOne(h, ep);
    await h.waitForMessage(id, 'succeeded');
    for (const op of ['retry-now', 'cancel']) {
        expectError(await h.api('POST', `/v1/messages/${id}/${op}`), 409, 'INVALID_STATE');
        expectError(await h.api('POST', `/v1/messages/${UNKNOWN}/${op}`), 404);
        expectError(await h.api('POST', `/v1/messages/not-a-uuid/${op}`), 404);
    }
    const m = await h.getMessage(id);
    assert.equal(m.status, 'succeeded', 'a refused op changes nothing');
    assert.equal(m.attempt_count, 1);
});

test('checklist 17: retry-now sends a pending_retry message at once and returns the Message', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 500 }, { status: 200 }],
        hookd: { retrySlow: '1h' },
    });
    const id = await sendOne(h, ep);
    const before = await h.waitForMessage(id, 'pending_retry');
    assert.ok(Date.parse(before.next_attempt_at) > Date.now() + 30 * 60_000, 'next try is an hour out');

    const { data: m } = expectOk(await phpPost(h, `/v1/messages/${id}/retry-now`));
    assert.equal(m.id, id);
    assert.ok(['pending_retry', 'succeeded'].includes(m.status), m.status);
    for (const k of ['endpoint_id', 'attempt_count', 'replay_count', 'size_bytes', 'created_at', 'updated_at'])
        assert.ok(k in m, `Message has ${k}`);

    const done = await h.waitForMessage(id, 'succeeded', 10_000);
    assert.equal(done.attempt_count, 2);
    assert.equal(rcv.requestsFor(id).length, 2);
    const { data: attempts } = await h.attempts(id);
    assert.deepEqual(attempts.map((a) => a.response_status), [500, 200]);
});

test('checklist 17: cancel turns pending_retry into failed_permanent; nothing more is attempted', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: { status: 500 },
        hookd: { retrySlow: '1500ms' },
    });
    const id = await sendOne(h, ep);
    const pending = await h.waitForMessage(id, 'pending_retry');

    const { data: m } = expectOk(await phpPost(h, `/v1/messages/${id}/cancel`));
    assert.equal(m.id, id);
    assert.equal(m.status, 'failed_permanent');
    assert.match(m.failed_at ?? '', RFC3339);
    assert.equal(m.next_attempt_at ?? null, null);

    // The cancelled retry was due at next_attempt_at: wait until well past it
    // (a bounded wait for an absence), then a barrier proves the dispatcher ran.
    const due = Date.parse(pending.next_attempt_at);
    rcv.respond((rec) => ({ status: rec.webhookId === id ? 500 : 200 }));
    await waitFor(() => Date.now() > due + 700, { timeout: 5_000, interval: 100, what: 'the cancelled retry time to pass' });
    await h.barrier(ep.id);
    assert.equal(rcv.requestsFor(id).length, 1, 'no attempt after cancel');
    const after = await h.getMessage(id);
    assert.equal(after.status, 'failed_permanent');
    assert.equal(after.attempt_count, 1);

    expectError(await h.api('POST', `/v1/messages/${id}/cancel`), 409, 'INVALID_STATE');
    const { data: dlq } = expectOk(await h.api('GET', '/v1/dlq/messages'));
    assert.ok(dlq.messages.some((x) => x.message_id === id), 'a cancelled message is in the DLQ');
});

test('replay: a succeeded message gets a new attempt series (replay_count + 1)', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const id = await sendOne(h, ep);
    await h.waitForMessage(id, 'succeeded');

    const { data } = expectOk(await phpPost(h, `/v1/messages/${id}/replay`));
    assert.deepEqual(data, { message_id: id, status: 'queued' });
    const m = await h.waitForMessage(id, (x) => x.replay_count === 1 && x.status === 'succeeded');
    assert.equal(m.attempt_count, 1, 'attempt_count restarts with the new series');
    assert.equal(rcv.requestsFor(id).length, 2, 'delivered again with the same webhook-id');
    const { data: attempts } = await h.attempts(id);
    assert.equal(attempts.length, 2, 'attempt history keeps both series');

    expectError(await h.api('POST', `/v1/messages/${UNKNOWN}/replay`), 404);
});

test('replay of a message still on its way is 409 INVALID_STATE', T, async (t) => {
    const { h, ep } = await setupDelivery(t, { receiver: { status: 500 }, hookd: { retrySlow: '1h' } });
    const id = await sendOne(h, ep);
    await h.waitForMessage(id, 'pending_retry');
    expectError(await h.api('POST', `/v1/messages/${id}/replay`), 409, 'INVALID_STATE');
    const m = await h.getMessage(id);
    assert.equal(m.replay_count, 0);
});

test('replay: after 100 replays of one message the next is 429 REPLAY_LIMIT_EXCEEDED', { timeout: scaled(120_000) }, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const id = await sendOne(h, ep);
    await h.waitForMessage(id, 'succeeded');
    for (let i = 1; i <= 100; i++) {
        expectOk(await h.api('POST', `/v1/messages/${id}/replay`));
        await h.waitForMessage(id, (x) => x.replay_count === i && x.status === 'succeeded');
    }
    expectError(await h.api('POST', `/v1/messages/${id}/replay`), 429, 'REPLAY_LIMIT_EXCEEDED');
});

test('checklist 15: replay-all needs status; answers a top-level message and counts', T, async (t) => {
    const { env, h, ep } = await setupDelivery(t, { hookd: { retrySlow: '1h' } });
    const a = await sendOne(h, ep, { n: 1 });
    const b = await sendOne(h, ep, { n: 2 });
    await h.waitForMessage(a, 'succeeded');
    await h.waitForMessage(b, 'succeeded');

    expectError(await h.api('POST', '/v1/messages/replay-all'), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-all?status=nope'), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-all?status=succeeded&limit=1001'), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-all?status=succeeded&endpoint_id=x'), 400, 'INVALID_REQUEST');

    const res = await h.api('POST', `/v1/messages/replay-all?status=succeeded&endpoint_id=${ep.id}`);
    const body = expectOk(res);
    assert.equal(typeof body.message, 'string');
    assert.match(body.message, /2 messages queued for replay/);
    assert.equal(body.data.replayed, 2);
    assert.equal(body.data.failed, 0);
    assert.equal(body.data.stuck, 0);
    assert.deepEqual([...body.data.replayed_message_ids].sort(), [a, b].sort());
    assert.deepEqual(body.data.stuck_message_ids, []);
    for (const id of [a, b]) await h.waitForMessage(id, (x) => x.replay_count === 1 && x.status === 'succeeded');

    // A message still retrying is reported as stuck, not replayed.
    const rcv2 = await env.startReceiver({ status: 500 });
    const ep2 = await h.createEndpoint({ url: rcv2.url('/two') });
    const c = await sendOne(h, ep2);
    await h.waitForMessage(c, 'pending_retry');
    const limited = expectOk(await h.api('POST', '/v1/messages/replay-all?status=succeeded&limit=1'));
    assert.equal(limited.data.replayed, 1, 'limit is honoured');
    const s = expectOk(await h.api('POST', `/v1/messages/replay-all?status=pending_retry&endpoint_id=${ep2.id}`));
    assert.equal(s.data.replayed, 0);
    assert.equal(s.data.stuck, 1);
    assert.deepEqual(s.data.stuck_message_ids, [c]);
    assert.match(s.message, /^0 messages queued/);
    assert.equal((await h.getMessage(c)).replay_count, 0);
});

test('checklist 16: replay-batch returns one result per id', T, async (t) => {
    const { h, ep } = await setupDelivery(t, {
        receiver: (rec) => ({ status: JSON.parse(rec.text).fail ? 500 : 200 }),
        hookd: { retrySlow: '1h' },
    });
    const ok = await sendOne(h, ep, { fail: false });
    const pending = await sendOne(h, ep, { fail: true });
    await h.waitForMessage(ok, 'succeeded');
    await h.waitForMessage(pending, 'pending_retry');

    const ids = [ok, UNKNOWN, pending, 'not-a-message-id'];
    const body = expectOk(await h.api('POST', '/v1/messages/replay-batch', { message_ids: ids }));
    assert.match(body.message, /1 message queued for replay/);
    assert.equal(body.data.results.length, 4);
    assert.deepEqual(body.data.results.map((r) => r.message_id), ids);
    assert.deepEqual(body.data.results.map((r) => r.status), ['replayed', 'failed', 'failed', 'failed']);
    assert.equal(body.data.results[0].error, undefined);
    for (const r of body.data.results.slice(1)) assert.equal(typeof r.error, 'string');
    assert.equal(body.data.replayed, 1);
    assert.equal(body.data.failed, 2);
    assert.equal(body.data.stuck, 1);
    await h.waitForMessage(ok, (x) => x.replay_count === 1 && x.status === 'succeeded');

    expectError(await h.api('POST', '/v1/messages/replay-batch', {}), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-batch', { message_ids: [] }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-batch', { message_ids: [1] }), 400, 'INVALID_REQUEST');
    const many = Array.from({ length: 101 }, () => UNKNOWN);
    expectError(await h.api('POST', '/v1/messages/replay-batch', { message_ids: many }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/replay-batch', undefined, { raw: '{"message_ids":' }), 400);
});

test('DELETE /v1/messages/{id}: idempotent soft delete, 404 afterwards, never delivered again', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: { status: 500 }, hookd: { retrySlow: '1500ms' } });
    const id = await sendOne(h, ep);
    const pending = await h.waitForMessage(id, 'pending_retry');

    const { data: d1 } = expectOk(await h.api('DELETE', `/v1/messages/${id}`));
    assert.equal(d1.message_id, id);
    assert.equal(d1.already_deleted, false);
    assert.match(d1.deleted_at, RFC3339);
    const { data: d2 } = expectOk(await h.api('DELETE', `/v1/messages/${id}`));
    assert.equal(d2.already_deleted, true);
    assert.equal(d2.deleted_at, d1.deleted_at);

    expectError(await h.api('GET', `/v1/messages/${id}`), 404);
    expectError(await h.api('GET', `/v1/messages/${id}/attempts`), 404);
    expectError(await h.api('POST', `/v1/messages/${id}/replay`), 404);
    expectError(await h.api('DELETE', `/v1/messages/${UNKNOWN}`), 404);

    // Its retry was due at next_attempt_at: wait past it, then a barrier.
    rcv.respond((rec) => ({ status: rec.webhookId === id ? 500 : 200 }));
    const due = Date.parse(pending.next_attempt_at);
    await waitFor(() => Date.now() > due + 700, { timeout: 5_000, interval: 100, what: 'the deleted retry time to pass' });
    await h.barrier(ep.id);
    assert.equal(rcv.requestsFor(id).length, 1, 'a deleted message is never attempted again');
});

test('delete-batch: outcomes deleted, already_deleted, not_found with counts', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const a = await sendOne(h, ep, { n: 1 });
    const b = await sendOne(h, ep, { n: 2 });
    await h.waitForMessage(b, 'succeeded');
    expectOk(await h.api('DELETE', `/v1/messages/${a}`));

    const ids = [a, b, UNKNOWN, 'junk'];
    const { data } = expectOk(await h.api('POST', '/v1/messages/delete-batch', { message_ids: ids }));
    assert.deepEqual(data.results.map((r) => r.message_id), ids);
    assert.deepEqual(data.results.map((r) => r.outcome), ['already_deleted', 'deleted', 'not_found', 'not_found']);
    assert.match(data.results[0].deleted_at, RFC3339);
    assert.match(data.results[1].deleted_at, RFC3339);
    assert.equal(data.results[2].deleted_at, undefined);
    assert.equal(data.deleted_count, 1);
    assert.equal(data.already_deleted_count, 1);
    assert.equal(data.not_found_count, 2);
    expectError(await h.api('GET', `/v1/messages/${b}`), 404);

    const many = Array.from({ length: 101 }, () => UNKNOWN);
    expectError(await h.api('POST', '/v1/messages/delete-batch', { message_ids: many }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/delete-batch', { ids: [a] }), 400, 'INVALID_REQUEST');
});

test('delete-all: filters by status, endpoint and creation time; limit ≤ 1000', T, async (t) => {
    const { env, h, ep } = await setupDelivery(t);
    const rcv2 = await env.startReceiver({ status: 200 });
    const ep2 = await h.createEndpoint({ url: rcv2.url('/other') });
    const mine = [await sendOne(h, ep, { n: 1 }), await sendOne(h, ep, { n: 2 }), await sendOne(h, ep, { n: 3 })];
    const other = await sendOne(h, ep2, { n: 4 });
    for (const id of [...mine, other]) await h.waitForMessage(id, 'succeeded');

    expectError(await h.api('POST', '/v1/messages/delete-all?limit=1001'), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/delete-all?created_after=yesterday'), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', '/v1/messages/delete-all?status=gone'), 400, 'INVALID_REQUEST');

    const past = '2020-01-01T00:00:00Z';
    const none = expectOk(await h.api('POST', `/v1/messages/delete-all?created_before=${past}`));
    assert.deepEqual(none.data, { deleted: 0, deleted_message_ids: [] });
    const queued = expectOk(await h.api('POST', `/v1/messages/delete-all?status=queued&endpoint_id=${ep.id}`));
    assert.equal(queued.data.deleted, 0);

    const one = expectOk(await h.api('POST', `/v1/messages/delete-all?status=succeeded&endpoint_id=${ep.id}&limit=1`));
    assert.equal(one.data.deleted, 1);
    assert.deepEqual(one.data.deleted_message_ids, [mine[0]], 'oldest first');
    const rest = expectOk(await h.api('POST',
        `/v1/messages/delete-all?status=succeeded&endpoint_id=${ep.id}&created_after=${past}`));
    assert.equal(rest.data.deleted, 2);
    assert.deepEqual([...rest.data.deleted_message_ids].sort(), mine.slice(1).sort());
    for (const id of mine) expectError(await h.api('GET', `/v1/messages/${id}`), 404);
    assert.equal((await h.getMessage(other)).status, 'succeeded', 'the other endpoint is untouched');
});
