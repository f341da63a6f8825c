// Crash: kill -9 while events are published with fan-out through the Svix
// surface (the real SDK). After a restart on the same data directory, every
// acknowledged event reaches every matching endpoint (at-least-once), and no
// endpoint receives an event it does not match.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { scaled } from './lib/util.mjs';

const ENDPOINTS = 5; // each event matches 3 of them (below)
const CONCURRENCY = 8;

test('kill -9 while publishing fan-out events: every acknowledged event reaches every matching endpoint', { timeout: scaled(120_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const svix = (hk) => clients(hk).v2;
    const client = svix(h);
    const app = await client.application.create({ name: 'Crash', uid: 'crash' });
    // receivers hang until the restart, so the deliveries are in flight at the kill
    const rcv = await env.startReceiver({ hang: true });
    const types = [undefined, ['order.*'], ['order.created'], ['user.*'], ['order.created', 'user.created']];
    const eps = [];
    for (let i = 0; i < ENDPOINTS; i++)
        eps.push(await client.endpoint.create(app.id, { url: rcv.url(`/e${i}`), ...(types[i] ? { eventTypes: types[i] } : {}) }));
    // order.created matches e0, e1, e2, e4; user.created matches e0, e3, e4
    const matching = { 'order.created': ['/e0', '/e1', '/e2', '/e4'], 'user.created': ['/e0', '/e3', '/e4'] };

    const acked = []; // {id, type}
    let killed = null;
    let next = 0;
    const worker = async () => {
        while (!killed && next < 400) {
            const i = next++;
            const type = i % 2 ? 'user.created' : 'order.created';
            try {
                const m = await client.message.create(app.id, { eventType: type, payload: { i } });
                acked.push({ id: m.id, type });
            } catch (e) {
                if (!killed) throw e; // refused connections are expected only after the kill
            }
            if (acked.length >= 120 && !killed) killed = h.kill9();
        }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await killed;

    rcv.respond({ status: 204 });
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    const got = (id, path) => rcv.requests.some((r) => r.webhookId === id && r.path === path && r.answered === 204);
    await rcv.waitUntil(() => acked.every((a) => matching[a.type].every((p) => got(a.id, p))),
        { timeout: 90_000, what: `every one of ${acked.length} acknowledged events at every matching endpoint`, event: 'answered' });
    // nothing went where it does not match
    const typeOf = new Map(acked.map((a) => [a.id, a.type]));
    for (const r of rcv.requests) {
        const type = typeOf.get(r.webhookId);
        if (type) assert.ok(matching[type].includes(r.path), `${r.webhookId} (${type}) reached ${r.path}`);
    }
    const after = await svix(h2).message.list(app.id, { limit: 250 });
    assert.ok(after.data.length >= Math.min(acked.length, 250));
    t.diagnostic(`${acked.length} events acknowledged before kill -9; ${rcv.requests.length} requests in all`);
});
