// Crash recovery: every acknowledged send survives kill -9 and is delivered
// after a restart on the same data directory (at-least-once).
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { expectOk, scaled } from './lib/util.mjs';

const MESSAGES = 500;
const CONCURRENCY = 16;

/** Runs task(i) for i in [0, n) with at most `limit` in flight; returns the results in order. */
async function pool(n, limit, task) {
    const results = new Array(n);
    let next = 0;
    const worker = async () => {
        while (next < n) {
            const i = next++;
            results[i] = await task(i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
    return results;
}

test(`kill -9 loses none of ${MESSAGES} acknowledged sends`, { timeout: scaled(90_000) }, async (t) => {
    const { env, h, rcv, ep } = await setupDelivery(t, { receiver: { hang: true } });

    const ids = await pool(MESSAGES, CONCURRENCY, async (i) => {
        const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { seq: i } });
        return expectOk(res, 202).data.message_id;
    });
    assert.equal(new Set(ids).size, MESSAGES, 'every send got its own message id');

    const { signal } = await h.kill9();
    assert.equal(signal, 'SIGKILL');
    const hungBeforeKill = rcv.requests.length;

    // From now on the receiver answers at once; only answered deliveries count.
    rcv.respond({ status: 200 });
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    const delivered = await rcv.waitForDistinctIds(MESSAGES, {
        filter: (r) => r.answered === 200, timeout: 60_000,
    });
    const missing = ids.filter((id) => !delivered.has(id));
    assert.deepEqual(missing, [], 'every acknowledged message was delivered');
    assert.equal(delivered.size, MESSAGES, 'no unknown webhook-ids were delivered');
    t.diagnostic(`${hungBeforeKill} deliveries hung before kill -9; ` +
        `${rcv.requests.length - hungBeforeKill} requests after restart for ${MESSAGES} messages`);

    for (const id of [ids[0], ids[MESSAGES >> 1], ids[MESSAGES - 1]]) {
        const m = await h2.waitForMessage(id, 'succeeded');
        assert.ok(m.attempt_count >= 1);
    }
});

test('kill -9 in the middle of a send burst: every acknowledged send is delivered', { timeout: scaled(90_000) }, async (t) => {
    const { env, h, rcv, ep } = await setupDelivery(t);
    const acked = [];
    let killed = null;
    await pool(400, CONCURRENCY, async (i) => {
        if (killed) return;
        try {
            const res = await h.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { seq: i } });
            if (res.status === 202) acked.push(res.json.data.message_id);
            else assert.fail(`send ${i}: ${res.status} ${res.text}`);
        } catch (e) {
            if (!killed) throw e; // transport errors are expected only after the kill
        }
        if (acked.length >= 150 && !killed) killed = h.kill9();
    });
    await killed;
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    const answered = (r) => r.answered === 200;
    await rcv.waitUntil(() => acked.every((id) => rcv.requestsFor(id).some(answered)),
        { timeout: 60_000, what: `all ${acked.length} acknowledged messages delivered`, event: 'answered' });
    t.diagnostic(`${acked.length} acknowledged before kill -9; ${rcv.distinctIds().size} distinct ids delivered, ` +
        `${rcv.requests.length} requests in all`);
    await h2.waitForMessage(acked.at(-1), 'succeeded');
});
