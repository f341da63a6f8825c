// Operational webhooks (POLICIES.md §6): /v1/ops-webhooks registers endpoints
// of the mode's built-in operational application; hookd then delivers its own
// events to them, signed, through the ordinary pipeline: endpoint.created,
// .updated, .deleted, .disabled (a 410), message.attempt.failing (after the
// 4th failed attempt), .exhausted and .recovered. Each is checked at a real
// loopback receiver that verifies the signature with the secret answered at
// registration; nothing is said about the operational endpoint's own
// deliveries, and without an operational webhook nothing extra is stored.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setup } from './lib/hookd.mjs';
import { expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

const hmacHex = (secret, ts, body) => crypto.createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${ts}.`), body])).digest('hex');

/** An operational receiver and its registration; events() gives the verified bodies. */
async function opsHook(env, h, script = { status: 200 }) {
    const rcv = await env.startReceiver(script);
    const reg = expectOk(await h.api('POST', '/v1/ops-webhooks', { url: rcv.url('/ops') }), 201).data;
    assert.match(reg.id, /^ep_/);
    assert.match(reg.signing_secret, /^whsec_/);
    assert.equal(reg.url, rcv.url('/ops'));
    assert.ok(reg.created_at);
    const events = () => {
        const seen = new Map(); // by webhook id: a retried delivery counts once
        for (const r of rcv.requests) {
            const ts = r.headers['x-webhook-timestamp'];
            assert.equal(r.headers['x-webhook-signature'], `sha256=${hmacHex(reg.signing_secret, ts, r.body)}`,
                'signed with the secret answered at registration');
            seen.set(r.headers['x-webhook-id'], JSON.parse(r.text));
        }
        return [...seen.values()];
    };
    const waitForEvent = (pred, what) => waitFor(() => events().find(pred), { timeout: 15_000, what });
    return { rcv, reg, events, waitForEvent };
}

test('registration: create, list, delete; endpoint.created/.updated/.deleted in the same transaction', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    assert.deepEqual(expectOk(await h.api('GET', '/v1/ops-webhooks')).data, [], 'none before the first');
    const ops = await opsHook(env, h);
    const listed = expectOk(await h.api('GET', '/v1/ops-webhooks')).data;
    assert.deepEqual(listed.map((e) => e.id), [ops.reg.id]);
    assert.equal(listed[0].signing_secret, undefined, 'the secret is shown once');
    const bad = await h.api('POST', '/v1/ops-webhooks', { url: 'not a url' });
    assert.equal(bad.status, 400);

    const user = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: user.url('/u') });
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { description: 'changed' }));
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}`));
    for (const type of ['endpoint.created', 'endpoint.updated', 'endpoint.deleted']) {
        const ev = await ops.waitForEvent((e) => e.type === type, type);
        assert.equal(ev.data.endpointId, ep.id);
        assert.equal(ev.data.appId, 'app_default_live');
        assert.match(ev.timestamp, /^\d{4}-\d\d-\d\dT/);
    }
    // Nothing about the operational endpoint itself.
    assert.ok(!ops.events().some((e) => e.data.endpointId === ops.reg.id), 'no event about itself');

    expectOk(await h.api('DELETE', `/v1/ops-webhooks/${ops.reg.id}`));
    assert.deepEqual(expectOk(await h.api('GET', '/v1/ops-webhooks')).data, []);
    assert.equal((await h.api('DELETE', `/v1/ops-webhooks/${ops.reg.id}`)).status, 404);
    const before = ops.rcv.requests.length;
    await h.createEndpoint({ url: user.url('/after') });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(ops.rcv.requests.length, before, 'a deleted operational webhook hears nothing more');
});

test('a message failing with 500: message.attempt.failing after the 4th attempt, then exhausted', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '50ms', extraArgs: ['--max-attempts', '5'] });
    // The operational receiver fails its first delivery: that retry and
    // recovery of an operational message must not be reported (no loops).
    const ops = await opsHook(env, h, [{ status: 500 }, { status: 200 }]);
    const user = await env.startReceiver({ status: 500 });
    const ep = await h.createEndpoint({ url: user.url('/fail') });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    await h.waitForMessage(message_id, 'failed_permanent');
    const failing = await ops.waitForEvent((e) => e.type === 'message.attempt.failing', 'failing');
    assert.equal(failing.data.messageId, message_id);
    assert.equal(failing.data.endpointId, ep.id);
    assert.equal(failing.data.lastAttempt.attempt, 4);
    assert.equal(failing.data.lastAttempt.responseStatusCode, 500);
    const exhausted = await ops.waitForEvent((e) => e.type === 'message.attempt.exhausted', 'exhausted');
    assert.equal(exhausted.data.messageId, message_id);
    assert.equal(exhausted.data.appId, 'app_default_live');
    await new Promise((r) => setTimeout(r, 500));
    const types = ops.events().map((e) => e.type).sort();
    assert.deepEqual(types, ['endpoint.created', 'message.attempt.exhausted', 'message.attempt.failing'],
        'one failing, one exhausted, nothing about the operational deliveries');
});

test('a message failing once then succeeding: message.attempt.recovered', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '50ms' });
    const ops = await opsHook(env, h);
    const user = await env.startReceiver([{ status: 500 }, { status: 200 }]);
    const ep = await h.createEndpoint({ url: user.url('/flaky') });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 2 } });
    await h.waitForMessage(message_id, 'succeeded');
    const ev = await ops.waitForEvent((e) => e.type === 'message.attempt.recovered', 'recovered');
    assert.equal(ev.data.messageId, message_id);
    assert.equal(ev.data.lastAttempt.attempt, 2);
    assert.equal(ev.data.lastAttempt.responseStatusCode, 200);
    assert.ok(!ops.events().some((e) => e.type === 'message.attempt.failing'), 'one failure is not failing');
});

test('a 410 disables the endpoint: endpoint.disabled with reason gone; a manual disable too', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ops = await opsHook(env, h);
    const user = await env.startReceiver({ status: 410 });
    const ep = await h.createEndpoint({ url: user.url('/gone') });
    await h.send({ endpoint_id: ep.id, payload: { n: 3 } });
    const ev = await ops.waitForEvent((e) => e.type === 'endpoint.disabled', 'disabled');
    assert.deepEqual({ ...ev.data, failSince: undefined, endpointUid: undefined },
        { endpointId: ep.id, appId: 'app_default_live', reason: 'gone', failSince: undefined, endpointUid: undefined });
    assert.match(ev.data.failSince, /^\d{4}-\d\d-\d\dT/);

    const other = await h.createEndpoint({ url: user.url('/manual') });
    expectOk(await h.api('PATCH', `/v1/endpoints/${other.id}`, { disabled: true }));
    const manual = await ops.waitForEvent((e) => e.type === 'endpoint.disabled' && e.data.endpointId === other.id,
        'manual disable');
    assert.equal(manual.data.reason, 'manual');
});

test('without an operational webhook nothing is stored: /v1/logs shows only the user messages', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '50ms', extraArgs: ['--max-attempts', '2'] });
    const user = await env.startReceiver([{ status: 500 }, { status: 200 }]);
    const ep = await h.createEndpoint({ url: user.url('/u') });
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of sent) await h.waitForMessage(id, (m) => m.status === 'succeeded' || m.status === 'failed_permanent');
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { disabled: true }));
    const logs = expectOk(await h.api('GET', '/v1/logs?limit=100')).data;
    assert.deepEqual(logs.map((m) => m.id ?? m.message_id).sort(), [...sent].sort());
});

test('--ops-webhook-url makes a live operational webhook once and logs its secret once', T, async (t) => {
    const env = await setup(t);
    const ops = await env.startReceiver({ status: 200 });
    const url = ops.url('/boot');
    const h = await env.startHookd({ extraArgs: ['--ops-webhook-url', url] });
    const m = await h.waitForStdout(/created operational webhook (ep_\w+) .*shown once: (whsec_\S+)\)/);
    const listed = expectOk(await h.api('GET', '/v1/ops-webhooks')).data;
    assert.deepEqual(listed.map((e) => [e.id, e.url]), [[m[1], url]]);
    const user = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: user.url('/x') });
    const [req] = await ops.waitForRequests(1);
    const ts = req.headers['x-webhook-timestamp'];
    assert.equal(req.headers['x-webhook-signature'], `sha256=${hmacHex(m[2], ts, req.body)}`);
    assert.equal(JSON.parse(req.text).data.endpointId, ep.id);
    await h.stop();
    const again = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key, extraArgs: ['--ops-webhook-url', url] });
    assert.equal(expectOk(await again.api('GET', '/v1/ops-webhooks')).data.length, 1, 'idempotent');
    assert.ok(!/created operational webhook/.test(again.stdout), 'the secret is not shown again');
});

test('per mode: a test key registers test-mode webhooks that hear only the test mode; --ops-failing-after', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '50ms', extraArgs: ['--max-attempts', '3', '--ops-failing-after', '2'] });
    const testKey = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 201).data.key;
    const liveOps = await opsHook(env, h);
    const testRcv = await env.startReceiver({ status: 200 });
    const testReg = expectOk(await h.api('POST', '/v1/ops-webhooks', { url: testRcv.url('/t') }, { key: testKey }), 201).data;
    assert.deepEqual(expectOk(await h.api('GET', '/v1/ops-webhooks', undefined, { key: testKey })).data.map((e) => e.id),
        [testReg.id]);
    assert.deepEqual(expectOk(await h.api('GET', '/v1/ops-webhooks')).data.map((e) => e.id), [liveOps.reg.id]);

    const user = await env.startReceiver({ status: 503 });
    const ep = expectOk(await h.api('POST', '/v1/endpoints', { url: user.url('/t') }, { key: testKey }), 201).data;
    const sent = expectOk(await h.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { n: 1 } },
        { key: testKey }), 202).data;
    await waitFor(() => testRcv.requests.some((r) => JSON.parse(r.text).type === 'message.attempt.exhausted'),
        { what: 'exhausted at the test-mode webhook' });
    const types = testRcv.requests.map((r) => JSON.parse(r.text));
    const failing = types.find((e) => e.type === 'message.attempt.failing');
    assert.equal(failing.data.lastAttempt.attempt, 2, '--ops-failing-after 2');
    assert.equal(failing.data.messageId, sent.message_id);
    assert.equal(failing.data.appId, 'app_default_test');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(liveOps.events(), [], 'the live webhook hears nothing of the test mode');
});

test('the operational application cannot be deleted through /api/v1', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    await opsHook(env, h);
    const r = await h.api('DELETE', '/api/v1/app/app_ops_live');
    assert.equal(r.status, 409, r.text);
    assert.equal(expectOk(await h.api('GET', '/v1/ops-webhooks')).data.length, 1);
});
