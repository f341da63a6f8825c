// Svix message list filters (TENANCY.md §5 GET /api/v1/app/{app}/msg): channel,
// tag, before, after and event_types, through the real SDK.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from 'svix';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };

test('svix message list: channel, tag, before, after, event_types', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const svix = clients(h).v2; // every answer checked against docs/openapi.yaml
    const app = await svix.application.create({ name: 'Acme' });
    const m1 = await svix.message.create(app.id, { eventType: 'a.x', payload: {}, channels: ['eu', 'vip'], tags: ['t1'] });
    await new Promise((resolve) => setTimeout(resolve, 20)); // distinct creation milliseconds
    const m2 = await svix.message.create(app.id, { eventType: 'b.x', payload: {}, channels: ['us'], tags: ['t1', 't2'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const m3 = await svix.message.create(app.id, { eventType: 'a.x', payload: {} });
    const ids = async (opts) => (await svix.message.list(app.id, opts)).data.map((m) => m.id);
    assert.deepEqual(await ids({}), [m3.id, m2.id, m1.id]);
    assert.deepEqual(await ids({ channel: 'eu' }), [m1.id]);
    assert.deepEqual(await ids({ channel: 'us' }), [m2.id]);
    assert.deepEqual(await ids({ tag: 't1' }), [m2.id, m1.id]);
    assert.deepEqual(await ids({ tag: 't2' }), [m2.id]);
    assert.deepEqual(await ids({ eventTypes: ['a.x'] }), [m3.id, m1.id]);
    assert.deepEqual(await ids({ before: m2.timestamp }), [m1.id]);
    assert.deepEqual(await ids({ after: m2.timestamp }), [m3.id]);
    assert.deepEqual(await ids({ after: m1.timestamp, before: m3.timestamp }), [m2.id]);
    assert.deepEqual(await ids({ channel: 'eu', tag: 't2' }), []);
    const r = await fetch(`http://127.0.0.1:${h.port}/api/v1/app/${app.id}/msg?before=yesterday`,
        { headers: { authorization: `Bearer ${h.key}` } });
    assert.equal(r.status, 422);
    assert.deepEqual((await r.json()).detail[0].loc, ['query', 'before']);
    try {
        await svix.message.list('nope');
        assert.fail('expected 404');
    } catch (e) {
        assert.ok(e instanceof ApiException);
        assert.equal(e.code, 404);
    }
});

test('svix attempt lists: status, status_code_class, before, after, event_types', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retryFast: '60s', retrySlow: '60s' }); // one attempt each here
    const { v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme' });
    const ok = await env.startReceiver({ status: 200 });
    const bad = await env.startReceiver({ status: 503 });
    const epOk = await v2.endpoint.create(app.id, { url: ok.url() });
    const epBad = await v2.endpoint.create(app.id, { url: bad.url() });
    const m = await v2.message.create(app.id, { eventType: 'a.x', payload: {} });
    const m2 = await v2.message.create(app.id, { eventType: 'b.x', payload: {} });
    const all = await waitFor(async () => {
        const p = await v2.messageAttempt.listByMsg(app.id, m.id);
        return p.data.length === 2 && p;
    }, { what: 'both attempts of the first message' });
    await waitFor(async () => (await v2.messageAttempt.listByEndpoint(app.id, epOk.id)).data.length === 2,
        { what: 'both attempts at the ok endpoint' });
    const ends = async (opts) => (await v2.messageAttempt.listByMsg(app.id, m.id, opts)).data.map((a) => a.endpointId).sort();
    assert.deepEqual(await ends({ status: 0 }), [epOk.id]);
    assert.deepEqual(await ends({ status: 2 }), [epBad.id]);
    assert.deepEqual(await ends({ status: 1 }), []); // a finished attempt is never pending
    assert.deepEqual(await ends({ statusCodeClass: 200 }), [epOk.id]);
    assert.deepEqual(await ends({ statusCodeClass: 500 }), [epBad.id]);
    assert.deepEqual(await ends({ statusCodeClass: 400 }), []);
    const t0 = new Date(Math.min(...all.data.map((a) => a.timestamp.getTime())) - 1);
    assert.equal((await ends({ after: t0 })).length, 2);
    assert.equal((await ends({ before: t0 })).length, 0);
    const byType = await v2.messageAttempt.listByEndpoint(app.id, epOk.id, { eventTypes: ['b.x'] });
    assert.deepEqual(byType.data.map((a) => a.msgId), [m2.id]);
    const r = await fetch(`http://127.0.0.1:${h.port}/api/v1/app/${app.id}/attempt/msg/${m.id}?status=9`,
        { headers: { authorization: `Bearer ${h.key}` } });
    assert.equal(r.status, 422);
    assert.deepEqual((await r.json()).detail[0].loc, ['query', 'status']);
});
