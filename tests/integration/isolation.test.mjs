// Isolation between endpoints (ARCHITECTURE §3: a dead receiver never slows
// the others): endpoints that keep failing are limited to a few slots, so
// several hanging receivers cannot take every --max-in-flight slot.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { scaled, waitFor } from './lib/util.mjs';

test('several hanging endpoints do not starve a healthy one', { timeout: scaled(30_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({
        deliveryTimeout: '500ms',
        retrySlow: '1h',
        extraArgs: ['--max-in-flight', '8', '--endpoint-concurrency', '4'],
    });
    const hanging = [];
    for (let i = 0; i < 3; i++) {
        const rcv = await env.startReceiver({ hang: true });
        hanging.push(await h.createEndpoint({ url: rcv.url(`/dead${i}`) }));
    }
    // 3 x 8 messages want 12 slots at a time; only 8 exist.
    const ids = new Map(hanging.map((ep) => [ep.id, []]));
    for (const ep of hanging)
        for (let i = 0; i < 8; i++) ids.get(ep.id).push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    // Wait until every hanging endpoint has failed at least 3 attempts (timeouts).
    await waitFor(async () => {
        for (const list of ids.values()) {
            let failed = 0;
            for (const id of list) if ((await h.getMessage(id)).status === 'pending_retry') failed++;
            if (failed < 3) return false;
        }
        return true;
    }, { timeout: scaled(15_000), what: 'three timeouts per hanging endpoint' });

    // Their remaining messages still want slots; a healthy endpoint must get through now.
    const healthy = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: healthy.url('/ok') });
    const start = Date.now();
    await h.send({ endpoint_id: ep.id, payload: { ok: true } });
    await healthy.waitForRequests(1, { timeout: scaled(400) });
    t.diagnostic(`healthy endpoint served ${Date.now() - start} ms after its send`);
});
