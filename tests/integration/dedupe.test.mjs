// The deduplicate policy at work (POLICIES.md §2, §8; docs/policies/deduplicate.md),
// against real loopback receivers: a repeat within the window is answered 202 with
// its own message id, stored as `deduplicated` and never delivered; another key is
// delivered; the window ends; logs filter by the new status, metrics do not count it
// as a failure, a replay delivers it after all, and removing the policy stops it.
// Svix fan-out: an application endpoint given the policy through PATCH
// /v1/endpoints/{id} gets a repeated event once, its neighbour without the policy
// twice, and the same payload as another event type is not a repeat.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { expectOk, scaled, sleep, UUID36 } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const bodyOf = (rec) => JSON.parse(rec.text);

test('/v1 send: a repeat of body.id within the window is deduplicated, not delivered', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 204 });
    const ep = await h.createEndpoint({
        url: rcv.url('/dedupe'),
        deduplicate: { window_ms: 600000, include_fields: ['body.id'] },
    });
    assert.deepEqual(ep.deduplicate, { window_ms: 600000, include_fields: ['body.id'] });

    const first = await h.send({ endpoint_id: ep.id, payload: { id: 'evt_1', n: 1 } });
    const repeat = await h.send({ endpoint_id: ep.id, payload: { id: 'evt_1', n: 2 } });
    const other = await h.send({ endpoint_id: ep.id, payload: { id: 'evt_2', n: 3 } });
    // the repeat is answered like any send: 202, its own message id
    assert.match(repeat.message_id, UUID36);
    assert.notEqual(repeat.message_id, first.message_id);
    assert.equal(repeat.status, 'queued');

    await h.waitForMessage(first.message_id, 'succeeded');
    await h.waitForMessage(other.message_id, 'succeeded');
    const m = await h.getMessage(repeat.message_id);
    assert.equal(m.status, 'deduplicated');
    assert.equal(m.attempt_count, 0);
    assert.equal(m.endpoint_id, ep.id);
    assert.equal(m.next_attempt_at ?? null, null);
    assert.deepEqual(expectOk(await h.api('GET', `/v1/messages/${repeat.message_id}/attempts`)).data, []);

    // nothing more arrives: a later send with a new id is delivered, and by then the
    // receiver has had exactly evt_1 (n 1), evt_2 and that one
    const marker = await h.send({ endpoint_id: ep.id, payload: { id: 'marker' } });
    await h.waitForMessage(marker.message_id, 'succeeded');
    const got = rcv.requests.map((r) => r.text).sort();
    assert.deepEqual(got, ['{"id":"evt_1","n":1}', '{"id":"evt_2","n":3}', '{"id":"marker"}']);

    // logs by the new status; metrics: accepted, never a failure
    const logs = expectOk(await h.api('GET', '/v1/logs?status=deduplicated')).data;
    assert.deepEqual(logs.map((x) => x.message_id), [repeat.message_id]);
    assert.equal(logs[0].status, 'deduplicated');
    const all = expectOk(await h.api('GET', '/v1/logs')).data;
    assert.equal(all.find((x) => x.message_id === repeat.message_id).status, 'deduplicated');
    const metrics = expectOk(await h.api('GET', `/v1/metrics?window=1h&endpoint_id=${ep.id}`)).data;
    assert.equal(metrics.total_messages, 4);
    assert.equal(metrics.failed, 0);
    assert.equal(metrics.succeeded, 3);
    assert.equal(metrics.success_rate, 1);
    assert.equal(expectOk(await h.api('GET', '/v1/dlq/messages')).data.messages.length, 0);

    // a replay delivers it after all
    expectOk(await h.api('POST', `/v1/messages/${repeat.message_id}/replay`));
    const replayed = await h.waitForMessage(repeat.message_id, 'succeeded');
    assert.equal(replayed.replay_count, 1);
    assert.deepEqual(bodyOf(rcv.requests[3]), { id: 'evt_1', n: 2 });
    assert.equal(rcv.requests[3].webhookId, repeat.message_id);

    // a repeat of the repeat is still within evt_1's window
    const again = await h.send({ endpoint_id: ep.id, payload: { id: 'evt_1', n: 4 } });
    assert.equal((await h.getMessage(again.message_id)).status, 'deduplicated');

    // the policy removed: repeats are delivered again (the change is seen at once)
    const patched = expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { deduplicate: null })).data;
    assert.equal(patched.deduplicate, null);
    const free = await h.send({ endpoint_id: ep.id, payload: { id: 'evt_1', n: 5 } });
    await h.waitForMessage(free.message_id, 'succeeded');
});

test('/v1 send: the whole message is the default key, windows end, endpoints are apart', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 204 });
    const short = await h.createEndpoint({ url: rcv.url('/short'), deduplicate: { window_ms: 1000 } });
    const plain = await h.createEndpoint({ url: rcv.url('/plain') });
    const late = await h.createEndpoint({ url: rcv.url('/late') });

    const payload = { order: 42, lines: [1, 2] };
    const a = await h.send({ endpoint_id: short.id, payload, headers: { 'X-Request-Id': 'r1' } });
    // member order and header name case do not matter; a header value does
    const b = await h.send({ endpoint_id: short.id, payload: { lines: [1, 2], order: 42 }, headers: { 'x-request-id': 'r1' } });
    const c = await h.send({ endpoint_id: short.id, payload, headers: { 'X-Request-Id': 'r2' } });
    await h.waitForMessage(a.message_id, 'succeeded');
    await h.waitForMessage(c.message_id, 'succeeded');
    assert.equal((await h.getMessage(b.message_id)).status, 'deduplicated');

    // the window is 1 s from the message that was kept
    await sleep(1100);
    const d = await h.send({ endpoint_id: short.id, payload, headers: { 'X-Request-Id': 'r1' } });
    await h.waitForMessage(d.message_id, 'succeeded');

    // an endpoint without the policy delivers every repeat
    const p1 = await h.send({ endpoint_id: plain.id, payload });
    const p2 = await h.send({ endpoint_id: plain.id, payload });
    await h.waitForMessage(p1.message_id, 'succeeded');
    await h.waitForMessage(p2.message_id, 'succeeded');

    // the policy set later (PATCH): judged from the next send on
    expectOk(await h.api('PATCH', `/v1/endpoints/${late.id}`, { deduplicate: { window_ms: 600000, exclude_fields: ['body.lines'] } }));
    const l1 = await h.send({ endpoint_id: late.id, payload });
    const l2 = await h.send({ endpoint_id: late.id, payload: { order: 42, lines: [] } });
    await h.waitForMessage(l1.message_id, 'succeeded');
    assert.equal((await h.getMessage(l2.message_id)).status, 'deduplicated');
    assert.equal(rcv.requests.filter((r) => r.path === '/late').length, 1);
    assert.equal(rcv.requests.filter((r) => r.path === '/short').length, 3);
});

test('svix publish: an application endpoint with the policy gets a repeated event once', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rd = await env.startReceiver({ status: 204 });
    const rp = await env.startReceiver({ status: 204 });
    const epD = await v2.endpoint.create(app.id, { url: rd.url() });
    const epP = await v2.endpoint.create(app.id, { url: rp.url() });
    // /v1/endpoints/{id} addresses the endpoints of every application
    const set = expectOk(await h.api('PATCH', `/v1/endpoints/${epD.id}`, { deduplicate: { window_ms: 600000 } })).data;
    assert.equal(set.deduplicate.window_ms, 600000);

    const payload = { invoice: 'inv_1', amount: 5 };
    const m1 = await v2.message.create(app.id, { eventType: 'invoice.paid', payload });
    const m2 = await v2.message.create(app.id, { eventType: 'invoice.paid', payload: { amount: 5, invoice: 'inv_1' } });
    // the same payload as another event type is another event
    const m3 = await v2.message.create(app.id, { eventType: 'invoice.voided', payload });
    await rp.waitUntil(() => rp.requests.length === 3, { what: 'three deliveries without the policy' });
    await rd.waitUntil(() => rd.requests.length === 2, { what: 'two deliveries with the policy' });
    // nothing more: a marker event reaches both after them
    const marker = await v2.message.create(app.id, { eventType: 'marker', payload: {} });
    await rd.waitUntil(() => rd.requestsFor(marker.id).length === 1, { what: 'marker' });
    assert.deepEqual(rd.requests.map((r) => r.webhookId).sort(), [m1.id, m3.id, marker.id].sort());

    // m2's message at epD: deduplicated (native logs and message), Svix shows it
    // finished (0) with no next attempt and no attempt
    const logs = expectOk(await h.api('GET', '/v1/logs?status=deduplicated')).data;
    assert.equal(logs.length, 1);
    assert.equal(logs[0].endpoint_id, epD.id);
    assert.equal((await h.getMessage(logs[0].message_id)).status, 'deduplicated');
    const dests = await v2.messageAttempt.listAttemptedDestinations(app.id, m2.id);
    const byId = Object.fromEntries(dests.data.map((x) => [x.id, x]));
    assert.equal(byId[epD.id].status, 0);
    assert.equal(byId[epD.id].nextAttempt ?? null, null);
    assert.ok(byId[epP.id], 'the endpoint without the policy had it too');
    const atts = await v2.messageAttempt.listByMsg(app.id, m2.id, { endpointId: epD.id });
    assert.equal(atts.data.length, 0);

    // a resend delivers it after all, with the event's id
    await v2.messageAttempt.resend(app.id, m2.id, epD.id);
    await rd.waitUntil(() => rd.requestsFor(m2.id).length === 1, { what: 'resent delivery' });
    await h.waitForMessage(logs[0].message_id, 'succeeded');
});
