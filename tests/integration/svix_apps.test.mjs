// The Svix surface (/api/v1, TENANCY.md §5) driven by the unmodified `svix`
// npm SDK, 2.x and the latest 1.x (installed as `svix1`): health,
// applications and event types, with Svix's error bodies and iterators.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiException as ApiException2 } from 'svix';
import { ApiException as ApiException1 } from 'svix1';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { expectOk, httpRequest, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };

/** Raw request to the Svix surface (validated against docs/openapi.yaml by httpRequest). */
async function raw(h, method, path, body, key = h.key) {
    const headers = { authorization: `Bearer ${key}` };
    let payload;
    if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
    }
    const res = await httpRequest({ port: h.port, method, path, headers, body: payload });
    const text = res.body.toString('utf8');
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text };
}

async function rejectsWith(promise, Exc, code) {
    try {
        await promise;
    } catch (e) {
        assert.ok(e instanceof Exc, `expected ${Exc.name}, got ${e}`);
        assert.equal(e.code, code, JSON.stringify(e.body));
        return e.body;
    }
    assert.fail(`expected an ApiException ${code}`);
}

test('svix: health answers both SDKs', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    await v2.health.get();
    await v1.health.get();
});

test('svix 2.x: applications: create, getOrCreate, get by id and uid, upsert, patch, paging, delete', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);

    const acme = await v2.application.create({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' }, throttleRate: 7 });
    assert.match(acme.id, /^app_[0-9a-z]{26}$/);
    assert.equal(acme.uid, 'acme');
    assert.equal(acme.name, 'Acme');
    assert.equal(acme.throttleRate, 7);
    assert.deepEqual(acme.metadata, { plan: 'pro' });
    assert.ok(acme.createdAt instanceof Date && !isNaN(acme.createdAt));
    assert.ok(Math.abs(acme.createdAt.getTime() - Date.now()) < 60_000);

    // getOrCreate with an existing uid answers that application, unchanged
    const again = await v2.application.getOrCreate({ name: 'Other name', uid: 'acme' });
    assert.equal(again.id, acme.id);
    assert.equal(again.name, 'Acme');
    const fresh = await v2.application.getOrCreate({ name: 'Fresh', uid: 'fresh' });
    assert.notEqual(fresh.id, acme.id);

    assert.equal((await v2.application.get(acme.id)).uid, 'acme');
    assert.equal((await v2.application.get('acme')).id, acme.id);

    // upsert (PUT): replaces the fields (absent metadata and throttleRate are cleared)
    const put = await v2.application.upsert('acme', { name: 'Acme Inc' });
    assert.equal(put.id, acme.id);
    assert.equal(put.name, 'Acme Inc');
    assert.equal(put.throttleRate ?? null, null);
    assert.deepEqual(put.metadata, {});
    // ... and creates a missing one, with the path as its uid
    const created = await v2.application.upsert('beta-co', { name: 'Beta' });
    assert.equal(created.uid, 'beta-co');
    assert.equal((await v2.application.get('beta-co')).id, created.id);

    // patch changes only what is present; null clears
    await v2.application.patch('acme', { throttleRate: 3, metadata: { a: 'b' } });
    const patched = await v2.application.patch('acme', { name: 'Acme 3' });
    assert.equal(patched.throttleRate, 3);
    assert.deepEqual(patched.metadata, { a: 'b' });
    assert.equal(patched.name, 'Acme 3');
    const cleared = await v2.application.patch(acme.id, { throttleRate: null });
    assert.equal(cleared.throttleRate ?? null, null);

    // paging: limit + iterator until done, every application once, in creation order
    const bulk = [];
    for (let i = 0; i < 5; i++) bulk.push((await v2.application.create({ name: `bulk ${i}` })).id);
    const seen = [];
    let iterator = null;
    for (let page = 0; page < 20; page++) {
        const res = await v2.application.list({ limit: 2, iterator });
        assert.ok(res.data.length <= 2);
        seen.push(...res.data.map((a) => a.id));
        if (res.done) break;
        assert.ok(res.iterator, 'iterator is set while not done');
        iterator = res.iterator;
    }
    assert.equal(new Set(seen).size, seen.length);
    // ascending (creation order) by default, the built-in default application first
    assert.deepEqual(seen, ['app_default_live', acme.id, fresh.id, created.id, ...bulk]);
    const desc = await v2.application.list({ limit: 250, order: 'descending' });
    assert.deepEqual(desc.data.map((a) => a.id), [...seen].reverse());

    await v2.application.delete('acme');
    await rejectsWith(v2.application.get('acme'), ApiException2, 404);
    await rejectsWith(v2.application.get(acme.id), ApiException2, 404);
    // the uid is free again
    const reborn = await v2.application.create({ name: 'Acme again', uid: 'acme' });
    assert.notEqual(reborn.id, acme.id);
});

test('svix 1.x: applications with 1.x names (rateLimit), update, list, delete', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1 } = clients(h);
    const app = await v1.application.create({ name: 'One', uid: 'one', rateLimit: 9 });
    assert.equal(app.rateLimit, 9);
    assert.equal(app.throttleRate, 9);
    const upd = await v1.application.update('one', { name: 'One!', rateLimit: 4 });
    assert.equal(upd.name, 'One!');
    assert.equal(upd.rateLimit, 4);
    const got = await v1.application.getOrCreate({ name: 'x', uid: 'one' });
    assert.equal(got.id, app.id);
    const list = await v1.application.list({ limit: 10 });
    assert.equal(list.done, true);
    assert.ok(list.data.some((a) => a.id === app.id));
    await v1.application.delete(app.id);
    await rejectsWith(v1.application.get(app.id), ApiException1, 404);
});

test('svix: bad input is a Svix error and changes nothing', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    await v2.application.create({ name: 'Acme', uid: 'acme' });
    const before = (await v2.application.list({ limit: 250 })).data;

    let body = await rejectsWith(v2.application.create({ name: 'x', uid: 'has space' }), ApiException2, 422);
    assert.deepEqual(body.detail[0].loc, ['body', 'uid']);
    assert.equal(body.detail[0].type, 'value_error');
    body = await rejectsWith(v2.application.create({ name: 'x', throttleRate: -1 }), ApiException2, 422);
    assert.deepEqual(body.detail[0].loc, ['body', 'throttleRate']);
    body = await rejectsWith(v2.application.create({ name: 'x', metadata: { n: 1 } }), ApiException2, 422);
    assert.deepEqual(body.detail[0].loc, ['body', 'metadata']);
    body = await rejectsWith(v2.application.create({ name: 'dup', uid: 'acme' }), ApiException2, 409);
    assert.equal(body.code, 'conflict');
    body = await rejectsWith(v2.application.patch('acme', { uid: 'default' }), ApiException2, 409);
    body = await rejectsWith(v2.application.get('nope'), ApiException2, 404);
    assert.equal(body.code, 'not_found');
    assert.equal(typeof body.detail, 'string');
    await rejectsWith(v2.application.delete('default'), ApiException2, 409);

    // raw: missing name, malformed JSON, a bad limit, an unknown iterator, a bad key
    let r = await raw(h, 'POST', '/api/v1/app', { uid: 'x' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.detail[0].loc, ['body', 'name']);
    r = await raw(h, 'POST', '/api/v1/app', '{"name":');
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'generic_error');
    r = await raw(h, 'GET', '/api/v1/app?limit=251');
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.detail[0].loc, ['query', 'limit']);
    r = await raw(h, 'GET', '/api/v1/app?iterator=app_nope');
    assert.equal(r.status, 422);
    r = await raw(h, 'GET', '/api/v1/app', undefined, 'hk_live_' + '0'.repeat(40));
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'authentication_failed');
    r = await raw(h, 'POST', '/api/v1/app/acme', {});
    assert.equal(r.status, 405);
    assert.equal(typeof r.json.detail, 'string');
    r = await raw(h, 'GET', '/api/v1/nothing/here');
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'not_found');

    assert.deepEqual((await v2.application.list({ limit: 250 })).data, before);
});

test('svix: applications belong to their key\'s mode', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const testKey = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 201).data.key;
    const live = clients(h).v2;
    const tst = clients(h, testKey).v2;
    const a = await live.application.create({ name: 'Live', uid: 'same' });
    const b = await tst.application.create({ name: 'Test', uid: 'same' }); // uids are per mode
    assert.notEqual(a.id, b.id);
    await rejectsWith(tst.application.get(a.id), ApiException2, 404);
    assert.equal((await tst.application.get('same')).id, b.id);
    const ids = (await tst.application.list({ limit: 250 })).data.map((x) => x.id);
    assert.ok(!ids.includes(a.id));
});

test('svix: event types with both SDKs: create, 409, get, upsert, patch, archive, expunge', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);

    const et = await v2.eventType.create({
        name: 'order.created', description: 'An order was created', groupName: 'orders',
        featureFlags: ['beta'], schemas: { 1: { type: 'object', properties: { id: { type: 'string' } } } },
    });
    assert.equal(et.name, 'order.created');
    assert.equal(et.groupName, 'orders');
    assert.deepEqual(et.featureFlags, ['beta']);
    assert.equal(et.archived, false);
    assert.equal(et.schemas['1'].type, 'object');
    assert.ok(et.createdAt instanceof Date && !isNaN(et.createdAt));
    const body = await rejectsWith(v2.eventType.create({ name: 'order.created', description: 'again' }), ApiException2, 409);
    assert.equal(body.code, 'conflict');
    await rejectsWith(v2.eventType.create({ name: 'bad name', description: 'x' }), ApiException2, 422);

    // 1.x: featureFlag (singular) in, both out
    const one = await v1.eventType.create({ name: 'order.paid', description: 'Paid', featureFlag: 'gamma' });
    assert.equal(one.featureFlag, 'gamma');
    assert.deepEqual(one.featureFlags, ['gamma']);

    assert.equal((await v2.eventType.get('order.created')).description, 'An order was created');
    const up = await v2.eventType.upsert('order.created', { description: 'Changed' });
    assert.equal(up.description, 'Changed');
    assert.equal(up.groupName ?? null, null); // PUT replaces: absent fields reset
    const made = await v2.eventType.upsert('order.shipped', { description: 'Shipped' });
    assert.equal(made.name, 'order.shipped');
    const patched = await v2.eventType.patch('order.shipped', { deprecated: true });
    assert.equal(patched.deprecated, true);
    assert.equal(patched.description, 'Shipped');
    await v1.eventType.update('order.paid', { description: 'Paid (1.x)' });
    assert.equal((await v1.eventType.get('order.paid')).description, 'Paid (1.x)');

    // delete archives: hidden from the list unless include_archived, still readable
    await v2.eventType.delete('order.paid');
    const names = async (opts) => (await v2.eventType.list(opts)).data.map((x) => x.name);
    assert.deepEqual(await names({}), ['order.created', 'order.shipped']);
    assert.deepEqual(await names({ includeArchived: true }), ['order.created', 'order.paid', 'order.shipped']);
    assert.equal((await v2.eventType.get('order.paid')).archived, true);
    // unarchive through patch
    await v2.eventType.patch('order.paid', { archived: false });
    assert.deepEqual(await names({}), ['order.created', 'order.paid', 'order.shipped']);
    // paging
    const p1 = await v2.eventType.list({ limit: 2 });
    assert.equal(p1.done, false);
    const p2 = await v2.eventType.list({ limit: 2, iterator: p1.iterator });
    assert.equal(p2.done, true);
    assert.deepEqual([...p1.data, ...p2.data].map((x) => x.name), ['order.created', 'order.paid', 'order.shipped']);

    // expunge removes it for good
    const r = await raw(h, 'DELETE', '/api/v1/event-type/order.shipped?expunge=true');
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    await rejectsWith(v2.eventType.get('order.shipped'), ApiException2, 404);
});

test('svix upserts: PUT makes an application or endpoint named by a missing uid, never one with a chosen id', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v2 } = clients(h);
    const app = await v2.application.upsert('made-by-put', { name: 'Made' });
    assert.equal(app.uid, 'made-by-put');
    await rejectsWith(v2.application.upsert('app_01m8zzzzzzzzzzzzzzzzzzzzzz', { name: 'x' }), ApiException2, 404);
    const ep = await v2.endpoint.upsert(app.id, 'ep-by-put', { url: 'https://example.com/hook' });
    assert.equal(ep.uid, 'ep-by-put');
    const again = await v2.endpoint.upsert(app.id, 'ep-by-put', { url: 'https://example.com/other' });
    assert.equal(again.id, ep.id);
    assert.equal(again.url, 'https://example.com/other');
    await rejectsWith(v2.endpoint.upsert(app.id, 'ep_0123456789abcdef0123456789abcdef', { url: 'https://example.com/x' }), ApiException2, 404);
    assert.equal((await v2.endpoint.list(app.id)).data.length, 1);
});
