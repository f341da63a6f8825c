// Idempotency keys on POST /v1/webhooks/send (API.md §5 "Idempotency").
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };

test('same key and payload returns the same message and delivers once', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const body = { endpoint_id: ep.id, payload: { order: 1 }, idempotency_key: 'order-1_created' };
    const first = await h.send(body);
    const second = await h.send(body);
    assert.equal(second.message_id, first.message_id);

    const m = await h.waitForMessage(first.message_id, 'succeeded');
    assert.equal(m.idempotency_key, 'order-1_created');
    const third = await h.send(body);
    assert.equal(third.message_id, first.message_id, 'still deduplicated after delivery');

    await h.barrier(ep.id);
    assert.equal(rcv.requestsFor(first.message_id).length, 1);
    assert.equal(rcv.distinctIds().size, 2, 'only the message and the barrier were delivered');
});

test('same key with a different payload is 409 IDEMPOTENCY_MISMATCH and creates nothing', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const first = await h.send({ endpoint_id: ep.id, payload: { v: 1 }, idempotency_key: 'k-mismatch' });
    const before = await h.waitForMessage(first.message_id, 'succeeded');
    const res = await h.api('POST', '/v1/webhooks/send',
        { endpoint_id: ep.id, payload: { v: 2 }, idempotency_key: 'k-mismatch' });
    expectError(res, 409, 'IDEMPOTENCY_MISMATCH');
    assert.deepEqual(await h.getMessage(first.message_id), before, 'the original message is unchanged');

    // The key still maps to the original payload.
    const again = await h.send({ endpoint_id: ep.id, payload: { v: 1 }, idempotency_key: 'k-mismatch' });
    assert.equal(again.message_id, first.message_id);
    await h.barrier(ep.id);
    assert.equal(rcv.distinctIds().size, 2, 'no message was created for the rejected send');
    assert.ok(rcv.requests.every((r) => !/"v":2/.test(r.text)), 'the mismatching payload was never delivered');
});

test('the key is scoped to the endpoint', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const ep2 = await h.createEndpoint({ url: rcv.url('/second') });
    const body = { payload: { same: true }, idempotency_key: 'shared-key' };
    const a = await h.send({ endpoint_id: ep.id, ...body });
    const b = await h.send({ endpoint_id: ep2.id, ...body });
    assert.notEqual(a.message_id, b.message_id);
    await rcv.waitForDistinctIds(2);
    const paths = rcv.requests.map((r) => r.path).sort();
    assert.deepEqual(paths, ['/hook', '/second']);
});

test('sends without a key are never deduplicated', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const body = { endpoint_id: ep.id, payload: { dup: true } };
    const a = await h.send(body);
    const b = await h.send(body);
    assert.notEqual(a.message_id, b.message_id);
    await rcv.waitForDistinctIds(2);
});

test('20 concurrent identical sends yield one message and one delivery', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const body = { endpoint_id: ep.id, payload: { burst: 'x'.repeat(2000) }, idempotency_key: 'concurrent-1' };
    const results = await Promise.all(Array.from({ length: 20 }, () => h.api('POST', '/v1/webhooks/send', body)));
    const ids = new Set(results.map((r) => expectOk(r, 202).data.message_id));
    assert.equal(ids.size, 1, `one message id expected, got ${[...ids].join(', ')}`);
    const [id] = ids;

    await h.waitForMessage(id, 'succeeded');
    await h.barrier(ep.id);
    assert.equal(rcv.requestsFor(id).length, 1, 'the message was delivered once');
    assert.equal(rcv.distinctIds().size, 2, 'only the message and the barrier were delivered');
});

test('idempotency keys survive a restart', T, async (t) => {
    const { env, h, ep } = await setupDelivery(t);
    const body = { endpoint_id: ep.id, payload: { durable: 1 }, idempotency_key: 'restart-key' };
    const first = await h.send(body);
    await h.waitForMessage(first.message_id, 'succeeded');
    assert.equal((await h.stop()).code, 0);

    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    assert.equal((await h2.send(body)).message_id, first.message_id);
    expectError(await h2.api('POST', '/v1/webhooks/send', { ...body, payload: { durable: 2 } }),
        409, 'IDEMPOTENCY_MISMATCH');
});

test('concurrent sends racing with two payloads on one key: one message, the rest 409', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h.api('POST', '/v1/webhooks/send',
        { endpoint_id: ep.id, payload: { group: i % 2 }, idempotency_key: 'race-key' })));
    const accepted = results.filter((r) => r.status === 202);
    for (const r of results.filter((x) => x.status !== 202)) expectError(r, 409, 'IDEMPOTENCY_MISMATCH');
    assert.ok(accepted.length >= 1);
    const ids = new Set(accepted.map((r) => expectOk(r, 202).data.message_id));
    assert.equal(ids.size, 1, 'one message for the key');
    const [id] = ids;
    const winner = { group: results.indexOf(accepted[0]) % 2 };
    for (const r of accepted) {
        assert.equal(results.indexOf(r) % 2, winner.group, 'every 202 carries the payload that won the race');
    }
    await h.waitForMessage(id, 'succeeded');
    await h.barrier(ep.id);
    assert.deepEqual(rcv.requestsFor(id).map((r) => JSON.parse(r.text)), [winner]);
    assert.equal(rcv.distinctIds().size, 2);
});
