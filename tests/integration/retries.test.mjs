// Failure handling: fast/slow retry ladders, attempt records, timeouts,
// refused connections, Retry-After and redirects.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { setupDelivery } from './lib/hookd.mjs';
import { RFC3339, closedPort, scaled } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };
const isAbsent = (v) => v === undefined || v === null;

async function sendOne(h, ep, payload = { hello: 'retry' }) {
    return (await h.send({ endpoint_id: ep.id, payload })).message_id;
}

test('429 then 200: succeeded after 2 attempts, first retry on the fast ladder', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: [{ status: 429 }, { status: 200 }] });
    const id = await sendOne(h, ep);
    const m = await h.waitForMessage(id, 'succeeded');
    assert.equal(m.attempt_count, 2);

    const { data: attempts } = await h.attempts(id);
    assert.deepEqual(attempts.map((a) => a.attempt_no), [1, 2]);
    assert.deepEqual(attempts.map((a) => a.response_status), [429, 200]);
    assert.equal(attempts[0].retry_type, 'fast');
    assert.equal(rcv.requests.length, 2);
    assert.equal(rcv.requests[1].webhookId, id);
});

test('repeated 500: failed_permanent after exactly 8 attempts on the slow ladder', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: { status: 500, body: 'boom' } });
    const id = await sendOne(h, ep);
    const m = await h.waitForMessage(id, 'failed_permanent', 30_000);
    assert.equal(m.attempt_count, 8);
    assert.equal(m.response_status ?? 500, 500);
    assert.ok(m.last_error, 'last_error is set');
    assert.ok(isAbsent(m.next_attempt_at), 'no next attempt after the last one');

    const { data: attempts, meta } = await h.attempts(id);
    assert.deepEqual(attempts.map((a) => a.attempt_no), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(attempts.every((a) => a.response_status === 500), JSON.stringify(attempts));
    assert.ok(attempts.slice(0, 7).every((a) => a.retry_type === 'slow'), JSON.stringify(attempts));
    assert.ok(attempts.every((a) => RFC3339.test(a.created_at)));
    assert.equal(meta.has_more, false);
    assert.equal(meta.next_cursor ?? null, null);

    assert.equal(rcv.requests.length, 8, 'receiver saw 8 requests');
    assert.ok(rcv.requests.every((r) => r.webhookId === id));
    for (const r of rcv.requests) new Webhook(ep.signing_secret).verify(r.body, r.headers);
    const ts = rcv.requests.map((r) => Number(r.headers['webhook-timestamp']));
    assert.ok(ts[7] >= ts[0] + 1, `each attempt is signed with its own timestamp: ${ts}`);
});

test('receiver timeout: attempt has error_text, no response_status; message pending_retry', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: { hang: true },
        hookd: { retrySlow: '30s' },
    });
    const id = await sendOne(h, ep);
    await rcv.waitForRequests(1);
    // --delivery-timeout 1s: the attempt must end long before the 30 s default.
    const m = await h.waitForMessage(id, 'pending_retry', 8_000);
    assert.equal(m.attempt_count, 1);
    assert.match(m.next_attempt_at ?? '', RFC3339);
    assert.ok(Date.parse(m.next_attempt_at) > Date.now(), 'next attempt is in the future');
    assert.ok(m.last_error, 'last_error is set');

    const { data: attempts } = await h.attempts(id);
    assert.equal(attempts.length, 1);
    assert.ok(typeof attempts[0].error_text === 'string' && attempts[0].error_text.length > 0);
    assert.ok(isAbsent(attempts[0].response_status), `no response_status: ${JSON.stringify(attempts[0])}`);
    assert.equal(attempts[0].retry_type, 'slow');
});

test('connection refused: attempt has error_text; message pending_retry', T, async (t) => {
    const port = await closedPort();
    const { h, ep } = await setupDelivery(t, {
        endpoint: { url: `http://127.0.0.1:${port}/hook` },
        hookd: { retrySlow: '30s' },
    });
    const id = await sendOne(h, ep);
    const m = await h.waitForMessage(id, 'pending_retry');
    assert.equal(m.attempt_count, 1);
    assert.ok(m.last_error, 'last_error is set');
    const { data: attempts } = await h.attempts(id);
    assert.equal(attempts.length, 1);
    assert.ok(typeof attempts[0].error_text === 'string' && attempts[0].error_text.length > 0);
    assert.ok(isAbsent(attempts[0].response_status));
});

test('Retry-After is honoured as a minimum delay', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 429, headers: { 'retry-after': '2' } }, { status: 200 }],
    });
    const id = await sendOne(h, ep);
    const [first, second] = await rcv.waitForRequests(2, { timeout: 15_000 });
    const gap = second.receivedAt - first.receivedAt;
    assert.ok(gap >= 1900, `second attempt after ${gap} ms, Retry-After said 2 s`);
    await h.waitForMessage(id, 'succeeded');
    const { data: attempts } = await h.attempts(id);
    assert.equal(attempts[0].response_status, 429);
    if (!isAbsent(attempts[0].retry_after_seconds)) assert.equal(attempts[0].retry_after_seconds, 2);
});

test('redirects are not followed and count as failures', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 302, headers: { location: '/elsewhere' } }, { status: 200 }],
    });
    const id = await sendOne(h, ep);
    await h.waitForMessage(id, 'succeeded');
    const { data: attempts } = await h.attempts(id);
    assert.deepEqual(attempts.map((a) => a.response_status), [302, 200]);
    assert.equal(attempts[0].retry_type, 'slow');
    assert.ok(rcv.requests.every((r) => r.path === '/hook'), 'the Location was not followed');
});
