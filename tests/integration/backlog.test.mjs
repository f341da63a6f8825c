// Delivery threads and the paged backlog (ARCHITECTURE §3): work reaches the
// delivery threads only through the committer's feed; messages beyond a
// per-endpoint cap stay in the store and are paged in as room frees up and
// as they come due, so memory follows the work in progress, not the backlog.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(90_000) };
const RESIDENT_CAP = 256; /* max(256, 4 x --endpoint-concurrency) per endpoint */

async function metric(h, name) {
    const res = await h.api('GET', '/metrics', undefined, { key: null });
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(res.text);
    assert.ok(m, `/metrics has ${name}`);
    return Number(m[1]);
}

async function sendMany(h, endpointId, n, limit = 16) {
    const ids = [];
    let next = 0;
    const worker = async () => {
        while (next < n) {
            const i = next++;
            const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: endpointId, payload: { seq: i } });
            ids[i] = expectOk(res, 202).data.message_id;
        }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    return ids;
}

test('a backlog larger than the resident cap stays in the store and is paged in, each message once', T, async (t) => {
    const env = await setup(t);
    const args = { extraArgs: ['--delivery-threads', '2', '--endpoint-concurrency', '8'] };
    const h = await env.startHookd(args);
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/hook') });
    expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/pause`, {}));
    const N = 700;
    const ids = await sendMany(h, ep.id, N);
    const resident = await metric(h, 'hookd_deliveries_resident');
    assert.ok(resident <= RESIDENT_CAP, `at most ${RESIDENT_CAP} of ${N} messages in memory, saw ${resident}`);

    // After a restart nothing of a paused endpoint is read into memory.
    await h.stop();
    const h2 = await env.startHookd({ ...args, dataDir: h.dataDir, bootstrapKey: h.key });
    assert.equal(await metric(h2, 'hookd_deliveries_resident'), 0);
    assert.equal(rcv.requests.length, 0, 'nothing delivered while paused');

    expectOk(await h2.api('POST', `/v1/endpoints/${ep.id}/resume`, {}));
    const got = await rcv.waitForDistinctIds(N, { timeout: 60_000 });
    assert.deepEqual(ids.filter((id) => !got.has(id)), [], 'every message was delivered');
    await h2.barrier(ep.id);
    assert.equal(rcv.requests.length, N + 1, 'no message was delivered twice');
    assert.ok(await metric(h2, 'hookd_backlog_paged_in_total') >= N - RESIDENT_CAP);
});

test('a retry due beyond the paging horizon is paged back in when due', T, async (t) => {
    const env = await setup(t);
    // 6 s: the retry leaves memory at once and comes back 2 s (the horizon) before
    // it is due, so the window in which nothing is resident is about 4 s wide.
    const h = await env.startHookd({ retrySlow: '6s', extraArgs: ['--delivery-threads', '2'] });
    const rcv = await env.startReceiver({ status: 200 });
    rcv.respond({ status: 503 });
    const ep = await h.createEndpoint({ url: rcv.url('/hook') });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { retry: true } });
    await h.waitForMessage(message_id, 'pending_retry');
    // The thread lets go of the job once the attempt is on disk; then it is 0.
    await waitFor(async () => (await metric(h, 'hookd_deliveries_resident')) === 0,
        { timeout: 2_000, what: 'a retry 6 s away to leave memory' });
    assert.equal((await h.getMessage(message_id)).status, 'pending_retry');
    rcv.respond({ status: 200 });
    const m = await h.waitForMessage(message_id, 'succeeded', scaled(15_000));
    assert.equal(m.attempt_count, 2);
});

test('endpoints spread over several delivery threads all deliver', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--delivery-threads', '3'] });
    const cfg = await env.run(['serve', '--print-config', '--delivery-threads', '3']);
    assert.match(cfg.stdout, /delivery-threads = 3/);
    const rcv = await env.startReceiver({ status: 200 });
    const eps = [];
    for (let i = 0; i < 9; i++) eps.push(await h.createEndpoint({ url: rcv.url(`/ep${i}`) }));
    const ids = [];
    for (const ep of eps)
        for (let i = 0; i < 5; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    const got = await rcv.waitForDistinctIds(ids.length, { timeout: 15_000 });
    assert.deepEqual(ids.filter((id) => !got.has(id)), []);
    const paths = new Set(rcv.requests.map((r) => r.path));
    assert.equal(paths.size, 9, 'every endpoint received its messages');
});

test('a queued message deleted before its turn is never delivered (its resident job is dropped)', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--endpoint-concurrency', '1'] });
    const rcv = await env.startReceiver({ status: 200, delayMs: 500 });
    const ep = await h.createEndpoint({ url: rcv.url('/hook') });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    // One at a time, 500 ms each: the fifth is still waiting, payload in hand.
    expectOk(await h.api('DELETE', `/v1/messages/${ids[4]}`));
    const got = await rcv.waitForDistinctIds(5, { timeout: 15_000 });
    await h.barrier(ep.id);
    assert.equal(got.has(ids[4]), false, 'the deleted message was not delivered');
    assert.equal(rcv.requests.length, 6, '5 messages and the barrier');
});
