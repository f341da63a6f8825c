// Isolation between endpoints (ARCHITECTURE §3: a dead receiver never slows
// the others): endpoints that keep failing are limited to a few slots, so
// several hanging receivers cannot take every --max-in-flight slot.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { scaled } from './lib/util.mjs';

test('several hanging endpoints do not starve a healthy one', { timeout: scaled(30_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({
        deliveryTimeout: '500ms',
        retrySlow: '1h',
        // One delivery thread: --max-in-flight is shared out among the threads, and
        // this test is about the 8 slots of one thread (4 each on 2 would fit only
        // two sick endpoints at 2 slots each, by design of the split).
        extraArgs: ['--max-in-flight', '8', '--endpoint-concurrency', '4', '--delivery-threads', '1'],
    });
    const hanging = [];
    for (let i = 0; i < 3; i++) {
        const rcv = await env.startReceiver({ hang: true });
        hanging.push(await h.createEndpoint({ url: rcv.url(`/dead${i}`) }));
    }
    // 3 x 30 messages want 12 slots at a time; only 8 exist. Without a limit on
    // failing endpoints they would hold all 8 until their backlogs time out (~4 s).
    for (const ep of hanging)
        for (let i = 0; i < 30; i++) await h.send({ endpoint_id: ep.id, payload: { i } });
    const healthy = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: healthy.url('/ok') });
    const start = Date.now();
    await h.send({ endpoint_id: ep.id, payload: { ok: true } });
    // Once the hanging endpoints have timed out a few times (~1 s at 500 ms each)
    // they are down to 2 slots each and the healthy one gets through.
    await healthy.waitForRequests(1, { timeout: scaled(2500) });
    t.diagnostic(`healthy endpoint served ${Date.now() - start} ms after its send`);
});
