// Transformations (POLICIES.md §2): a jq program is checked when it is saved
// (a program jq refuses is a 400 naming `transformation`, nothing changes),
// and POST /v1/endpoints/{id}/transformation/test runs it, or a given one, on
// a sample without delivering: a changed body and headers, a skip (null), a
// runtime error and a program that runs out of its time budget.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setup } from './lib/hookd.mjs';
import { expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const url = (i) => `http://127.0.0.1:9/tx-${i}`;

test('transformation: checked when saved, tried on samples through the test route', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: url(1), transformation: '.body.seen = true | .headers["X-Tx"] = "1"' });
    assert.equal(ep.transformation, '.body.seen = true | .headers["X-Tx"] = "1"');
    const err = expectError(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { transformation: '.body |||' }), 400, 'INVALID_REQUEST');
    assert.match(err.message, /transformation|syntax|compile/i);
    expectError(await h.api('POST', '/v1/endpoints', { url: url(2), transformation: 'nosuchfn(1)' }), 400);
    assert.equal((await h.getEndpoint(ep.id)).transformation, ep.transformation, 'nothing changed');

    const run = (body) => h.api('POST', `/v1/endpoints/${ep.id}/transformation/test`, body);
    const a = expectOk(await run({ payload: { order: 7 }, headers: { 'X-In': 'a' }, event_type: 'order.paid' })).data;
    assert.deepEqual(a, { skip: false, body: { order: 7, seen: true }, headers: { 'X-In': 'a', 'X-Tx': '1' } });
    const skip = expectOk(await run({ payload: { test: true }, transformation: 'if .body.test then null else . end' })).data;
    assert.deepEqual(skip, { skip: true, body: null, headers: null });
    const typed = expectOk(await run({ payload: {}, event_type: 'user.created', transformation: '.body.t = .event_type' })).data;
    assert.deepEqual(typed.body, { t: 'user.created' });
    const bad = expectError(await run({ payload: {}, transformation: 'error("nope")' }), 400, 'TRANSFORMATION_FAILED');
    assert.match(bad.message, /nope/);
    const slow = expectError(await run({ payload: {}, transformation: '[range(1e12)] | length' }), 400);
    assert.match(slow.message, /time|budget|memory/i);
    expectError(await h.api('POST', `/v1/endpoints/ep_${'0'.repeat(32)}/transformation/test`, {}), 404, 'ENDPOINT_NOT_FOUND');
    const none = await h.createEndpoint({ url: url(3) });
    expectError(await h.api('POST', `/v1/endpoints/${none.id}/transformation/test`, { payload: {} }), 400);
});

test('transformation at delivery: the output is sent and signed; null filters the message; a failure is an attempt error', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'] });
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({
        url: rcv.url('/tx'),
        transformation: 'if .body.drop then null elif .body.boom then error("boom") '
            + 'else .body = {wrapped: .body, type: .event_type} | .headers["X-Tx"] = "yes" end',
    });
    const kept = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    await h.waitForMessage(kept.message_id, 'succeeded');
    const r = rcv.requests[0];
    assert.deepEqual(JSON.parse(r.text), { wrapped: { n: 1 }, type: null });
    assert.equal(r.headers['x-tx'], 'yes');
    const mac = crypto.createHmac('sha256', ep.signing_secret).update(`${r.headers['x-webhook-timestamp']}.${r.text}`).digest('hex');
    assert.equal(r.headers['x-webhook-signature'], `sha256=${mac}`, 'signed over the transformed body');

    const dropped = await h.send({ endpoint_id: ep.id, payload: { drop: true } });
    const m = await h.waitForMessage(dropped.message_id, 'filtered');
    assert.equal(m.status, 'filtered');
    const atts = expectOk(await h.api('GET', `/v1/messages/${dropped.message_id}/attempts`)).data;
    assert.equal(atts.length, 1);
    assert.match(atts[0].error ?? atts[0].error_text ?? JSON.stringify(atts[0]), /skipped/);
    const logs = expectOk(await h.api('GET', '/v1/logs?status=filtered')).data;
    assert.deepEqual(logs.map((x) => x.message_id), [dropped.message_id]);

    const boom = await h.send({ endpoint_id: ep.id, payload: { boom: true } });
    await h.waitForMessage(boom.message_id, 'failed_permanent');
    const batts = expectOk(await h.api('GET', `/v1/messages/${boom.message_id}/attempts`)).data;
    assert.equal(batts.length, 2);
    assert.match(JSON.stringify(batts[0]), /transformation failed: .*boom/);
    assert.equal(rcv.requests.length, 1, 'neither the filtered nor the failing message reached the receiver');
});
