// Several hookd nodes on one PostgreSQL database (docs/operations/postgresql.md):
// sends spread over three nodes survive the kill -9 of one of them, and a pause
// made on one node holds the deliveries of all. PostgreSQL only: skipped unless
// HOOKD_TEST_PG names a server (make test-pg runs it).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { PG_URL, pgDbOf, setup } from './lib/hookd.mjs';
import { expectOk, scaled, sleep, waitFor } from './lib/util.mjs';

const skip = PG_URL ? false : 'PostgreSQL only (HOOKD_TEST_PG)';

/** Runs task(i) for i in [0, n) with at most `limit` in flight. */
async function pool(n, limit, task) {
    let next = 0;
    const worker = async () => {
        while (next < n) await task(next++);
    };
    await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** Starts `count` nodes on one database with one API key and one encryption key. */
async function startCluster(t, count) {
    const env = await setup(t);
    const db = pgDbOf(env.dataDir('shared-db'));
    const nodeEnv = { HOOKD_DB: db, HOOKD_ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex') };
    const first = await env.startHookd({ env: nodeEnv });
    const nodes = [first];
    for (let i = 1; i < count; i++)
        nodes.push(await env.startHookd({ env: nodeEnv, bootstrapKey: first.key }));
    for (const n of nodes) n.key = first.key;
    return { env, nodes, nodeEnv };
}

test('three nodes, 3,000 sends spread over them, kill -9 of one mid-run: every acknowledged send is delivered',
    { skip, timeout: scaled(180_000) }, async (t) => {
        const { env, nodes, nodeEnv } = await startCluster(t, 3);
        const rcv = await env.startReceiver({ status: 200 });
        const ep = expectOk(await nodes[0].api('POST', '/v1/endpoints', { url: rcv.url() }), 201).data;
        const acked = [];
        let refused = 0;
        let killed = null;
        await pool(3000, 24, async (i) => {
            const node = nodes[i % 3];
            if (node === nodes[2] && killed) return; // the dead node takes no more sends
            try {
                const res = await node.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { seq: i } });
                if (res.status === 202) acked.push(res.json.data.message_id);
                else refused++;
            } catch (e) {
                if (!(killed && node === nodes[2])) throw e; // transport errors only from the killed node
            }
            if (acked.length >= 1000 && !killed) killed = nodes[2].kill9();
        });
        await killed;
        assert.equal(refused, 0, 'no send was refused');
        const answered = (r) => r.answered === 200;
        await rcv.waitUntil(() => acked.every((id) => rcv.requestsFor(id).some(answered)), {
            timeout: scaled(90_000), event: 'answered',
            what: `all ${acked.length} acknowledged messages delivered`,
        });
        const counts = new Map();
        for (const r of rcv.requests) counts.set(r.webhookId, (counts.get(r.webhookId) ?? 0) + 1);
        const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
        t.diagnostic(`cluster: ${acked.length} acknowledged sends (kill -9 of node 3 after 1,000), ` +
            `${counts.size} distinct messages delivered, ${duplicates} duplicate deliveries`);

        // the killed node restarts where it ran and rejoins: it takes sends and delivers
        const again = await env.startHookd({ env: nodeEnv, dataDir: nodes[2].dataDir, bootstrapKey: nodes[0].key });
        const late = [];
        for (let i = 0; i < 20; i++)
            late.push(expectOk(await again.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { late: i } }), 202).data.message_id);
        await rcv.waitUntil(() => late.every((id) => rcv.requestsFor(id).some(answered)), {
            timeout: scaled(30_000), event: 'answered', what: 'the restarted node delivers',
        });
        for (const id of [acked[0], acked.at(-1), late.at(-1)])
            assert.equal(expectOk(await nodes[1].api('GET', `/v1/messages/${id}`)).data.status, 'succeeded');
    });

test('a pause made on one node holds the deliveries of all; a resume on another releases them',
    { skip, timeout: scaled(90_000) }, async (t) => {
        const { env, nodes } = await startCluster(t, 3);
        const rcv = await env.startReceiver({ status: 200 });
        const ep = expectOk(await nodes[0].api('POST', '/v1/endpoints', { url: rcv.url() }), 201).data;
        // every node has loaded the endpoint (a delivery through each) before the pause
        for (const n of nodes) {
            const id = expectOk(await n.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { warm: true } }), 202).data.message_id;
            await rcv.waitUntil(() => rcv.requestsFor(id).length > 0, { what: 'warm-up delivery' });
        }
        const before = rcv.requests.length;
        expectOk(await nodes[0].api('POST', `/v1/endpoints/${ep.id}/pause`));
        // node 2 and 3 heard of the pause when their sends are held: give the
        // notification time to travel (it is asynchronous by nature), then send
        const held = [];
        await sleep(scaled(500));
        for (let i = 0; i < 30; i++) {
            const n = nodes[1 + (i % 2)];
            held.push(expectOk(await n.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { held: i } }), 202).data.message_id);
        }
        // the absence of deliveries can only be watched for a while
        await sleep(scaled(1500));
        assert.equal(rcv.requests.length, before, 'no delivery while the endpoint is paused');
        for (const id of held.slice(0, 3))
            assert.equal(expectOk(await nodes[2].api('GET', `/v1/messages/${id}`)).data.status, 'queued');
        expectOk(await nodes[1].api('POST', `/v1/endpoints/${ep.id}/resume`));
        await rcv.waitUntil(() => held.every((id) => rcv.requestsFor(id).length > 0), {
            timeout: scaled(30_000), what: 'every held message delivered after the resume on another node',
        });
    });

/** hookd_nodes_live of node h's /metrics. */
async function liveNodes(h) {
    const res = await h.api('GET', '/metrics');
    const m = /^hookd_nodes_live (\d+)$/m.exec(res.text);
    return m ? Number(m[1]) : 0;
}

test('an endpoint\'s rate limit holds across two nodes: each takes half', { skip, timeout: scaled(90_000) }, async (t) => {
    const { env, nodes } = await startCluster(t, 2);
    for (const n of nodes) // each node counts the other (heartbeats every 2.5 s)
        await waitFor(async () => (await liveNodes(n)) === 2, { timeout: scaled(10_000), what: 'two live nodes' });
    const RATE = 20;
    const rcv = await env.startReceiver({ status: 200 });
    const ep = expectOk(await nodes[0].api('POST', '/v1/endpoints', { url: rcv.url(), rate_limit_rps: RATE, burst: 2 }), 201).data;
    const ids = [];
    await pool(120, 8, async (i) => {
        const res = await nodes[i % 2].api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { i } });
        ids.push(expectOk(res, 202).data.message_id);
    });
    await rcv.waitUntil(() => ids.every((id) => rcv.requestsFor(id).length > 0), {
        timeout: scaled(30_000), what: 'all 120 delivered',
    });
    const times = rcv.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    const seconds = (times.at(-1) - times[0]) / 1000;
    const rate = (times.length - 2) / seconds; // the two burst tokens come at once
    t.diagnostic(`rate limit ${RATE}/s over two nodes: ${times.length} deliveries in ${seconds.toFixed(2)} s = ${rate.toFixed(1)}/s`);
    assert.ok(rate <= RATE * 1.2, `${rate.toFixed(1)}/s is more than ${RATE}/s + 20 %`);
    assert.ok(rate >= RATE * 0.5, `${rate.toFixed(1)}/s: the nodes should not starve the endpoint`);
});
