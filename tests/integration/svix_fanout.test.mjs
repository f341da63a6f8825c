// Fan-out through the Svix surface (TENANCY.md §1, §3): events published with
// the real `svix` SDK reach exactly the endpoints of the application whose
// event types, channels and filters match, once each; deliveries verify with
// the SDK's own Webhook class and webhook-id is the event id. Endpoints made
// with the SDK (both versions) and, for filters (an extension the SDK strips),
// raw requests.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, ApiException } from 'svix';
import { Webhook as StdWebhook } from 'standardwebhooks';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { httpRequest, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

async function raw(h, method, path, body) {
    const payload = JSON.stringify(body);
    const res = await httpRequest({
        port: h.port, method, path, body: payload,
        headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload) },
    });
    return { status: res.status, json: JSON.parse(res.body.toString('utf8') || 'null') };
}

test('fan-out matrix: types, wildcards, channels, filters, disabled, paused; each endpoint gets exactly its events, once', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const other = await v2.application.create({ name: 'Other', uid: 'other' });

    const rcv = {};
    for (const name of ['all', 'exact', 'wild', 'star', 'eu', 'filter', 'hdr', 'disabled', 'paused', 'otherapp', 'v1'])
        rcv[name] = await env.startReceiver({ status: 204 });
    const ep = {};
    ep.all = await v2.endpoint.create(app.id, { url: rcv.all.url() });
    ep.exact = await v2.endpoint.create(app.id, { url: rcv.exact.url(), eventTypes: ['order.created'] });
    ep.wild = await v2.endpoint.create('acme', { url: rcv.wild.url(), eventTypes: ['order.*'] });
    ep.star = await v2.endpoint.create(app.id, { url: rcv.star.url(), eventTypes: ['*'] });
    ep.eu = await v2.endpoint.create(app.id, { url: rcv.eu.url(), channels: ['eu'] });
    ep.v1 = await v1.endpoint.create('acme', { url: rcv.v1.url(), filterTypes: ['user.created'], version: 1 });
    ep.disabled = await v2.endpoint.create(app.id, { url: rcv.disabled.url(), disabled: true });
    ep.otherapp = await v2.endpoint.create(other.id, { url: rcv.otherapp.url() });
    // filters are a hookd extension the SDK does not send: raw requests
    let r = await raw(h, 'POST', `/api/v1/app/${app.id}/endpoint`, {
        url: rcv.filter.url(), filter: { body: { amount: { $gte: 100 }, currency: { $in: ['EUR', 'USD'] } } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    ep.filter = r.json;
    r = await raw(h, 'POST', `/api/v1/app/${app.id}/endpoint`, {
        url: rcv.hdr.url(), filter: { body: { $or: [{ type: 'vip' }, { tags: 'priority' }] } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    // a paused endpoint gets its messages and holds them until resumed (/v1 pause)
    ep.paused = await v2.endpoint.create(app.id, { url: rcv.paused.url(), eventTypes: ['order.created'] });
    r = await h.api('POST', `/v1/endpoints/${ep.paused.id}/pause`);
    assert.equal(r.status, 200);

    const events = [
        { eventType: 'order.created', payload: { amount: 150, currency: 'EUR' } },
        { eventType: 'order.item.added', payload: { amount: 5, currency: 'EUR', type: 'vip' } },
        { eventType: 'user.created', payload: { tags: ['priority', 'x'] } },
        { eventType: 'invoice.paid', payload: { amount: 100, currency: 'GBP' }, channels: ['eu'] },
        { eventType: 'order', payload: { amount: 1 } },
    ];
    const ids = [];
    for (const e of events) ids.push((await v2.message.create(app.id, e)).id);
    // an event to the other application, and one that matches no endpoint of acme
    const otherId = (await v2.message.create(other.id, { eventType: 'order.created', payload: { n: 1 } })).id;
    const lonely = await v2.message.create('acme', { eventType: 'nobody.cares', payload: {}, channels: ['apac'] });
    assert.match(lonely.id, /^msg_[0-9a-z]{26}$/);

    const want = {
        all: [...ids, lonely.id], // no channels: every event, with channels or not
        exact: [ids[0]],
        wild: [ids[0], ids[1]], // order.* matches order.created and order.item.added, not order
        star: [...ids, lonely.id],
        eu: [ids[3]], // channels: only events sharing one
        v1: [ids[2]],
        filter: [ids[0]],
        hdr: [ids[1], ids[2]],
        disabled: [],
        otherapp: [otherId],
    };
    const total = Object.values(want).reduce((n, l) => n + l.length, 0);
    await Promise.all(Object.entries(want).map(([k, list]) =>
        rcv[k].waitUntil(() => rcv[k].requests.length >= list.length, { what: `${k} deliveries` })));
    // nothing more arrives: publish a marker to 'all' and wait for it, then compare
    const marker = (await v2.message.create(app.id, { eventType: 'marker', payload: {} })).id;
    await rcv.all.waitUntil(() => rcv.all.requestsFor(marker).length === 1, { what: 'marker' });
    for (const [k, list] of Object.entries(want)) {
        const got = rcv[k].requests.map((x) => x.webhookId).filter((id) => id !== marker);
        assert.deepEqual([...got].sort(), [...list].sort(), `endpoint ${k}`);
    }
    assert.equal(rcv.paused.requests.length, 0);
    assert.ok(total > 0);

    // the body is the payload as published; deliveries verify with the SDK's Webhook
    const secret = (await v2.endpoint.getSecret(app.id, ep.exact.id)).key;
    const rec = rcv.exact.requests[0];
    assert.equal(rec.text, JSON.stringify(events[0].payload));
    assert.equal(rec.headers['webhook-id'], ids[0]);
    assert.deepEqual(new Webhook(secret).verify(rec.text, rec.headers) ?? JSON.parse(rec.text), events[0].payload);
    new StdWebhook(secret).verify(rec.text, rec.headers);

    // resuming the paused endpoint releases its message
    r = await h.api('POST', `/v1/endpoints/${ep.paused.id}/resume`);
    assert.equal(r.status, 200);
    await rcv.paused.waitUntil(() => rcv.paused.requests.length === 1, { what: 'paused delivery' });
    assert.equal(rcv.paused.requests[0].webhookId, ids[0]);
});

test('svix messages: 202 MessageOut, eventId unique per application (409), get by id or eventId, list newest first with paging and event_types, payload bytes kept', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rcv = await env.startReceiver({ status: 204 });
    await v2.endpoint.create(app.id, { url: rcv.url() });

    const m = await v2.message.create(app.id, { eventType: 'order.created', eventId: 'evt-1', payload: { a: 1 }, channels: ['eu'], tags: ['t1'] }, { withContent: true });
    assert.match(m.id, /^msg_/);
    assert.equal(m.eventId, 'evt-1');
    assert.equal(m.eventType, 'order.created');
    assert.deepEqual(m.payload, { a: 1 });
    assert.deepEqual(m.channels, ['eu']);
    assert.ok(m.timestamp instanceof Date && !isNaN(m.timestamp));
    const body = await (async () => {
        try { await v2.message.create(app.id, { eventType: 'order.created', eventId: 'evt-1', payload: {} }); }
        catch (e) { assert.ok(e instanceof ApiException); assert.equal(e.code, 409); return e.body; }
        assert.fail('expected 409');
    })();
    assert.equal(body.code, 'conflict');
    // the same eventId in another application is fine
    const other = await v2.application.create({ name: 'Other' });
    await v2.message.create(other.id, { eventType: 'order.created', eventId: 'evt-1', payload: {} });

    assert.equal((await v2.message.get(app.id, m.id)).eventId, 'evt-1');
    assert.equal((await v2.message.get(app.id, 'evt-1')).id, m.id);
    const got1 = await v1.message.get('acme', m.id);
    assert.deepEqual(got1.payload, { a: 1 }); // 1.x: with_content defaults to true

    // exact bytes: key order, number spelling and escapes as sent
    const rawBody = '{"eventType":"order.paid","payload":{"z":1.50,"a":"\\u00e9","n":1e3}}';
    const res = await httpRequest({ port: h.port, method: 'POST', path: '/api/v1/app/acme/msg', body: rawBody,
        headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(rawBody) } });
    assert.equal(res.status, 202);
    const paidId = JSON.parse(res.body.toString()).id;
    await rcv.waitUntil(() => rcv.requestsFor(paidId).length === 1, { what: 'order.paid delivery' });
    assert.equal(rcv.requestsFor(paidId)[0].text, '{"z":1.50,"a":"\\u00e9","n":1e3}');

    for (let i = 0; i < 4; i++) await v2.message.create(app.id, { eventType: i % 2 ? 'a.odd' : 'a.even', payload: { i } });
    const seen = [];
    let iterator = null;
    for (let page = 0; page < 10; page++) {
        const p = await v2.message.list(app.id, { limit: 2, iterator });
        seen.push(...p.data);
        if (p.done) break;
        iterator = p.iterator;
    }
    assert.equal(seen.length, 6);
    assert.equal(seen[0].payload && Object.keys(seen[0].payload).length, 0); // 2.x sends with_content=false
    assert.deepEqual(seen.slice(-2).map((x) => x.id), [paidId, m.id]); // newest first
    const odd = await v2.message.list(app.id, { eventTypes: ['a.odd'], withContent: true });
    assert.deepEqual(odd.data.map((x) => x.payload.i), [3, 1]);

    // bad input: 422 naming the field, and nothing stored
    const before = (await v2.message.list(app.id, { limit: 250 })).data.length;
    for (const [bad, field] of [[{ eventType: 'bad type', payload: {} }, 'eventType'],
        [{ eventType: 'x' }, 'payload'], [{ eventType: 'x', payload: {}, channels: 'eu' }, 'channels']]) {
        const rr = await raw(h, 'POST', '/api/v1/app/acme/msg', bad);
        assert.equal(rr.status, 422, JSON.stringify(rr.json));
        assert.deepEqual(rr.json.detail[0].loc, ['body', field]);
    }
    const rr = await raw(h, 'POST', '/api/v1/app/nope/msg', { eventType: 'x', payload: {} });
    assert.equal(rr.status, 404);
    assert.equal((await v2.message.list(app.id, { limit: 250 })).data.length, before);
});

test('fan-out is one commit: an event to 300 matching endpoints is acknowledged once and delivered to each', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    const app = await v2.application.create({ name: 'Big' });
    const rcv = await env.startReceiver({ status: 204 });
    for (let i = 0; i < 300; i++) await v2.endpoint.create(app.id, { url: rcv.url(`/e${i}`) });
    const before = await h.api('GET', '/metrics');
    const batches0 = Number(/hookd_commit_batches_total (\d+)/.exec(before.text)?.[1]);
    const m = await v2.message.create(app.id, { eventType: 'big.one', payload: { x: 1 } });
    const after = await h.api('GET', '/metrics');
    const batches1 = Number(/hookd_commit_batches_total (\d+)/.exec(after.text)?.[1]);
    // one batch for the publish (another may be a concurrent janitor or attempt batch): not 300
    assert.ok(batches1 - batches0 >= 1 && batches1 - batches0 <= 2, `${batches1 - batches0} batches`);
    await rcv.waitUntil(() => rcv.requests.length >= 300, { timeout: 30_000, what: '300 deliveries' });
    assert.equal(new Set(rcv.requests.map((x) => x.path)).size, 300);
    assert.ok(rcv.requests.every((x) => x.webhookId === m.id));
});

test('idempotency-key: the same POST again answers the same resource without making another; another body with the key is 409', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    const rcv = await env.startReceiver({ status: 204 });
    const a1 = await v2.application.create({ name: 'Acme' }, { idempotencyKey: 'app-key-1' });
    const a2 = await v2.application.create({ name: 'Acme' }, { idempotencyKey: 'app-key-1' });
    assert.equal(a2.id, a1.id);
    assert.equal((await v2.application.list({ limit: 250 })).data.length, 2); // default + one
    const e1 = await v2.endpoint.create(a1.id, { url: rcv.url() }, { idempotencyKey: 'ep-key' });
    const e2 = await v2.endpoint.create(a1.id, { url: rcv.url() }, { idempotencyKey: 'ep-key' });
    assert.equal(e2.id, e1.id);
    const m1 = await v2.message.create(a1.id, { eventType: 'x.y', payload: { n: 1 } }, { idempotencyKey: 'msg-key' });
    const m2 = await v2.message.create(a1.id, { eventType: 'x.y', payload: { n: 1 } }, { idempotencyKey: 'msg-key' });
    assert.equal(m2.id, m1.id);
    assert.equal(m2.timestamp.getTime(), m1.timestamp.getTime());
    await rcv.waitUntil(() => rcv.requests.length >= 1, { what: 'delivery' });
    const marker = await v2.message.create(a1.id, { eventType: 'marker', payload: {} });
    await rcv.waitUntil(() => rcv.requestsFor(marker.id).length === 1, { what: 'marker' });
    assert.equal(rcv.requestsFor(m1.id).length, 1, 'delivered once');
    assert.equal((await v2.message.list(a1.id, { limit: 250 })).data.length, 2);
    // the same key with another body, or on another route
    for (const call of [
        () => v2.message.create(a1.id, { eventType: 'x.y', payload: { n: 2 } }, { idempotencyKey: 'msg-key' }),
        () => v2.application.create({ name: 'Other' }, { idempotencyKey: 'msg-key' }),
    ]) {
        try {
            await call();
            assert.fail('expected 409');
        } catch (e) {
            assert.ok(e instanceof ApiException, String(e));
            assert.equal(e.code, 409);
        }
    }
    assert.equal((await v2.message.list(a1.id, { limit: 250 })).data.length, 2);
    // a key that is too long is refused before anything is done
    const r = await raw(h, 'POST', `/api/v1/app/${a1.id}/msg`, { eventType: 'x.y', payload: {} });
    assert.equal(r.status, 202);
    const long = await httpRequest({ port: h.port, method: 'POST', path: `/api/v1/app/${a1.id}/msg`,
        body: '{"eventType":"x.y","payload":{}}', headers: { authorization: `Bearer ${h.key}`,
            'content-type': 'application/json', 'idempotency-key': 'k'.repeat(300) } });
    assert.equal(long.status, 422);
    assert.equal((await v2.message.list(a1.id, { limit: 250 })).data.length, 3);
});

test('HookBridge /v1 sees the messages of every application: logs (with application_id), messages/{id}', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    const rcv = await env.startReceiver({ status: 204 });
    const a = await v2.application.create({ name: 'A', uid: 'a' });
    const b = await v2.application.create({ name: 'B', uid: 'b' });
    const epA = await v2.endpoint.create(a.id, { url: rcv.url('/a') });
    await v2.endpoint.create(b.id, { url: rcv.url('/b') });
    const v1ep = await h.createEndpoint({ url: rcv.url('/v1') });
    const mA = await v2.message.create(a.id, { eventType: 'x.y', payload: { a: 1 } });
    await v2.message.create(b.id, { eventType: 'x.y', payload: { b: 1 } });
    const sent = await h.api('POST', '/v1/webhooks/send', { endpoint_id: v1ep.id, payload: { v: 1 } });
    assert.equal(sent.status, 202);
    await rcv.waitUntil(() => rcv.requests.length >= 3, { what: 'three deliveries' });

    const all = await h.api('GET', '/v1/logs');
    assert.equal(all.status, 200);
    assert.equal(all.json.data.length, 3);
    const onlyA = await h.api('GET', '/v1/logs?application_id=a');
    assert.deepEqual(onlyA.json.data.map((x) => x.endpoint_id), [epA.id]);
    const byId = await h.api('GET', `/v1/logs?application_id=${b.id}`);
    assert.equal(byId.json.data.length, 1);
    const v1only = await h.api('GET', '/v1/logs?application_id=default');
    assert.deepEqual(v1only.json.data.map((x) => x.endpoint_id), [v1ep.id]);
    const bad = await h.api('GET', '/v1/logs?application_id=nope');
    assert.equal(bad.status, 400);

    const msgId = onlyA.json.data[0].message_id;
    const got = await h.api('GET', `/v1/messages/${msgId}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.data.endpoint_id, epA.id);
    assert.ok(rcv.requests.some((x) => x.webhookId === mA.id));
});
