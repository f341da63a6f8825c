// Svix message list filters (TENANCY.md §5 GET /api/v1/app/{app}/msg): channel,
// tag, before, after and event_types, through the real SDK.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from 'svix';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { scaled } from './lib/util.mjs';

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
