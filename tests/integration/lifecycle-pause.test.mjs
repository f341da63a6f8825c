// Endpoint pause / resume (API.md §3.6, checklist 27 and 9): a paused
// endpoint's messages are accepted but held (no attempts), resume reports how
// many unfinished messages it releases and they all go out; the paused flag
// survives a restart; unknown, deleted and other-mode endpoints are 404.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, setupDelivery, phpPost } from './lib/hookd.mjs';
import { expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };
const UNKNOWN_EP = 'ep_' + '0'.repeat(32);


async function pause(h, id) {
    const { data } = expectOk(await phpPost(h, `/v1/endpoints/${id}/pause`));
    assert.deepEqual(data, { id, paused: true });
    return data;
}

async function resume(h, id) {
    const { data } = expectOk(await phpPost(h, `/v1/endpoints/${id}/resume`));
    assert.equal(data.id, id);
    assert.equal(data.paused, false);
    assert.ok(Number.isInteger(data.messages_requeued), `messages_requeued: ${JSON.stringify(data)}`);
    return data;
}

test('checklist 27: pause holds messages (no attempts), resume reports and delivers them', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/paused') });
    const other = await h.createEndpoint({ url: rcv.url('/other') });
    assert.equal((await h.getEndpoint(ep.id)).paused, false);

    await pause(h, ep.id);
    await pause(h, ep.id); // idempotent
    const got = await h.getEndpoint(ep.id);
    assert.equal(got.paused, true);
    const listed = (await h.listAllEndpoints()).find((e) => e.id === ep.id);
    assert.equal(listed.paused, true);

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    // The other endpoint's delivery was due after ours: once it succeeded, the
    // dispatcher has seen (and held) the paused endpoint's messages.
    await h.barrier(other.id);
    assert.equal(rcv.requests.filter((r) => r.path === '/paused').length, 0, 'nothing delivered while paused');
    for (const id of ids) {
        const m = await h.getMessage(id);
        assert.equal(m.status, 'queued');
        assert.equal(m.attempt_count, 0);
        const { data: attempts } = await h.attempts(id);
        assert.equal(attempts.length, 0, 'a held message has no attempts');
    }

    const r = await resume(h, ep.id);
    assert.equal(r.messages_requeued, 3);
    assert.deepEqual(Object.keys(r).sort(), ['id', 'messages_requeued', 'paused']);
    await rcv.waitUntil(() => rcv.requests.filter((x) => x.path === '/paused').length >= 3,
        { what: '3 deliveries after resume' });
    const delivered = new Set(rcv.requests.filter((x) => x.path === '/paused').map((x) => x.webhookId));
    assert.deepEqual([...delivered].sort(), [...ids].sort());
    for (const id of ids) assert.equal((await h.waitForMessage(id, 'succeeded')).attempt_count, 1);
    assert.equal((await h.getEndpoint(ep.id)).paused, false);

    // Resuming again is fine and has nothing left to release.
    assert.equal((await resume(h, ep.id)).messages_requeued, 0);
    // New sends go out at once after resume.
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { after: 'resume' } });
    await h.waitForMessage(message_id, 'succeeded');
});

test('checklist 27: a retry that comes due while paused is held, counted and sent after resume', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '2s,2s', retryFast: '2s,2s' });
    const rcv = await env.startReceiver([{ status: 503 }, { status: 200 }]);
    const ep = await h.createEndpoint({ url: rcv.url('/paused') });
    const other = await h.createEndpoint({ url: rcv.url('/other') });

    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { retry: true } });
    const failed = await h.waitForMessage(message_id, 'pending_retry');
    assert.equal(failed.attempt_count, 1);
    await pause(h, ep.id);

    // Wait until the retry is due, then let the dispatcher pass it (barrier).
    const dueAt = Date.parse(failed.next_attempt_at);
    assert.ok(Number.isFinite(dueAt), `next_attempt_at: ${failed.next_attempt_at}`);
    await waitFor(() => Date.now() > dueAt + 50, { timeout: 10_000, interval: 50, what: 'retry due time' });
    await h.barrier(other.id);
    const held = await h.getMessage(message_id);
    assert.equal(held.status, 'pending_retry');
    assert.equal(held.attempt_count, 1, 'a held retry is not an attempt');
    assert.equal(rcv.requests.filter((r) => r.path === '/paused').length, 1);

    assert.equal((await resume(h, ep.id)).messages_requeued, 1);
    const m = await h.waitForMessage(message_id, 'succeeded');
    assert.equal(m.attempt_count, 2);
});

test('pause survives a restart; resume after it releases the held messages', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/paused') });
    const other = await h.createEndpoint({ url: rcv.url('/other') });
    await pause(h, ep.id);
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    await h.barrier(other.id);

    const { code } = await h.stop('SIGTERM');
    assert.equal(code, 0, 'hookd exits 0 on SIGTERM');
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    assert.equal((await h2.getEndpoint(ep.id)).paused, true, 'paused after restart');
    await h2.barrier(other.id); // recovered jobs were due before this one
    assert.equal(rcv.requests.filter((r) => r.path === '/paused').length, 0, 'nothing delivered after restart');
    for (const id of ids) {
        const m = await h2.getMessage(id);
        assert.equal(m.status, 'queued');
        assert.equal(m.attempt_count, 0);
    }

    assert.equal((await resume(h2, ep.id)).messages_requeued, 2);
    for (const id of ids) assert.equal((await h2.waitForMessage(id, 'succeeded')).attempt_count, 1);
    assert.equal(rcv.requests.filter((r) => r.path === '/paused').length, 2);
});

test('checklist 9: pause and resume accept a body-less POST declaring JSON, {} and null', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    // PHP: Content-Type + Accept, empty body.
    await pause(h, ep.id);
    assert.equal((await resume(h, ep.id)).messages_requeued, 0);
    // Go / CLI: no body, no Content-Type.
    expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/pause`));
    expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/resume`));
    // An empty JSON object, and JSON null.
    assert.equal(expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/pause`, {})).data.paused, true);
    assert.equal(expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/resume`, null)).data.paused, false);

    // A body that is not JSON is refused and changes nothing.
    expectError(await h.api('POST', `/v1/endpoints/${ep.id}/pause`, undefined, { raw: 'not json' }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', `/v1/endpoints/${ep.id}/pause`, [1]), 400, 'INVALID_REQUEST');
    assert.equal((await h.getEndpoint(ep.id)).paused, false);
});

test('pause and resume: unknown, deleted and other-mode endpoints are 404 ENDPOINT_NOT_FOUND', T, async (t) => {
    const env = await setup(t);
    const dir = env.dataDir();
    const { live: liveKey, test: testKey } = await env.createKeys(dir);
    assert.match(testKey, /_test_/);
    const h = await env.startHookd({ dataDir: dir, bootstrapKey: liveKey });
    const rcv = await env.startReceiver();
    const ep = await h.createEndpoint({ url: rcv.url('/live') });
    const gone = await h.createEndpoint({ url: rcv.url('/gone') });
    expectOk(await h.api('DELETE', `/v1/endpoints/${gone.id}`));

    for (const action of ['pause', 'resume']) {
        expectError(await phpPost(h, `/v1/endpoints/${UNKNOWN_EP}/${action}`), 404, 'ENDPOINT_NOT_FOUND');
        expectError(await phpPost(h, `/v1/endpoints/${gone.id}/${action}`), 404, 'ENDPOINT_NOT_FOUND');
        expectError(await phpPost(h, `/v1/endpoints/${'x'.repeat(300)}/${action}`), 404, 'ENDPOINT_NOT_FOUND');
        expectError(await h.api('POST', `/v1/endpoints/${ep.id}/${action}`, undefined, { key: testKey }),
            404, 'ENDPOINT_NOT_FOUND');
    }
    assert.equal((await h.getEndpoint(ep.id)).paused, false, 'the other mode could not pause it');

    // The test key manages its own endpoints.
    const testEp = expectOk(await h.api('POST', '/v1/endpoints', { url: rcv.url('/test') }, { key: testKey }), 201).data;
    assert.deepEqual(expectOk(await h.api('POST', `/v1/endpoints/${testEp.id}/pause`, undefined, { key: testKey })).data,
        { id: testEp.id, paused: true });
    expectError(await phpPost(h, `/v1/endpoints/${testEp.id}/resume`), 404, 'ENDPOINT_NOT_FOUND');
});
