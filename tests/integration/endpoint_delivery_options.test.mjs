// Endpoint options that shape each delivery: hmac_enabled and header merging
// (send-time headers win over endpoint headers on the same name).
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { scaled } from './lib/util.mjs';

const T = { timeout: scaled(20_000) };

test('hmac_enabled false sends no signature headers but keeps the ids', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { endpoint: { hmac_enabled: false } });
    assert.equal(ep.hmac_enabled, false);
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { a: 1 } });
    const [req] = await rcv.waitForRequests(1);
    assert.equal(req.headers['webhook-id'], message_id);
    assert.equal(req.headers['x-webhook-id'], message_id);
    for (const name of ['webhook-signature', 'webhook-timestamp', 'x-webhook-signature', 'x-webhook-timestamp'])
        assert.equal(req.headers[name], undefined, `${name} must be absent`);

    // Turning signing back on takes effect for the next delivery.
    const patched = await h.api('PATCH', `/v1/endpoints/${ep.id}`, { hmac_enabled: true });
    assert.equal(patched.status, 200, patched.text);
    await h.send({ endpoint_id: ep.id, payload: { a: 2 } });
    const reqs = await rcv.waitForRequests(2);
    assert.match(reqs[1].headers['x-webhook-signature'], /^sha256=[0-9a-f]{64}$/);
});

test('send headers override endpoint headers of the same name, case-insensitively', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        endpoint: { headers: { 'X-Tenant': 'endpoint', 'X-Only-Endpoint': 'e' } },
    });
    await h.send({ endpoint_id: ep.id, payload: {}, headers: { 'x-tenant': 'send', 'X-Only-Send': 's' } });
    const [req] = await rcv.waitForRequests(1);
    assert.equal(req.headers['x-tenant'], 'send', 'sent once, with the send-time value (node joins repeats)');
    assert.equal(req.headers['x-only-endpoint'], 'e');
    assert.equal(req.headers['x-only-send'], 's');
});
