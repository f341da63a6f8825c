// Svix app-portal-access tokens (TENANCY.md §4): a token made with the SDK acts
// for its application only, until it expires; a read-only one cannot write;
// it never reaches /v1 or another application.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from 'svix';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { httpRequest, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };
const sdk = (h, token) => clients(h, token).v2;

async function code(promise) {
    try {
        await promise;
        return 'ok';
    } catch (e) {
        assert.ok(e instanceof ApiException, String(e));
        return e.code;
    }
}

test('svix app-portal-access: scoped, read-only, and never reaching /v1 or other applications', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const admin = sdk(h, h.key);
    const app = await admin.application.create({ name: 'Acme', uid: 'acme' });
    const other = await admin.application.create({ name: 'Other', uid: 'other' });
    const rcv = await env.startReceiver({ status: 204 });
    const otherEp = await admin.endpoint.create(other.id, { url: rcv.url() });
    await admin.eventType.create({ name: 'order.created', description: 'x' });

    const access = await admin.authentication.appPortalAccess('acme', {});
    assert.match(access.token, /^whpt_[0-9a-f]{48}$/);
    assert.ok(access.url.includes(access.token));
    const p = sdk(h, access.token);

    // inside its application: read and write
    const ep = await p.endpoint.create('acme', { url: rcv.url('/portal') });
    assert.equal((await p.endpoint.get(app.id, ep.id)).url, rcv.url('/portal'));
    const m = await p.message.create('acme', { eventType: 'order.created', payload: { a: 1 } });
    await rcv.waitUntil(() => rcv.requestsFor(m.id).length === 1, { what: 'delivery from a portal publish' });
    assert.equal((await p.eventType.list()).data[0].name, 'order.created');
    const apps = await p.application.list();
    assert.deepEqual(apps.data.map((a) => a.id), [app.id]);

    // outside it: 403
    assert.equal(await code(p.endpoint.list(other.id)), 403);
    assert.equal(await code(p.endpoint.get('other', otherEp.id)), 403);
    assert.equal(await code(p.application.create({ name: 'mine now' })), 403);
    assert.equal(await code(p.application.patch('acme', { name: 'renamed' })), 403);
    assert.equal(await code(p.application.delete('acme')), 403);
    assert.equal(await code(p.eventType.create({ name: 'x.y', description: 'x' })), 403);
    assert.equal(await code(p.authentication.appPortalAccess('acme', {})), 403);
    let r = await httpRequest({ port: h.port, method: 'GET', path: '/v1/endpoints', headers: { authorization: `Bearer ${access.token}` } });
    assert.equal(r.status, 403);
    r = await httpRequest({ port: h.port, method: 'GET', path: '/v1/api-keys', headers: { authorization: `Bearer ${access.token}` } });
    assert.equal(r.status, 403);

    // a read-only token (readOnly, or only View* capabilities) reads but never writes
    for (const body of [{ readOnly: true }, { capabilities: ['ViewBase', 'ViewEndpointSecret'] }]) {
        const ro = sdk(h, (await admin.authentication.appPortalAccess(app.id, body)).token);
        assert.equal((await ro.endpoint.list('acme')).data.length, 1);
        assert.equal(await code(ro.endpoint.create('acme', { url: rcv.url('/ro') })), 403);
        assert.equal(await code(ro.message.create('acme', { eventType: 'order.created', payload: {} })), 403);
        assert.equal(await code(ro.endpoint.delete('acme', ep.id)), 403);
    }
    assert.equal((await admin.endpoint.list('acme')).data.length, 1);

    // unknown or badly made tokens: 401; expiry out of range: 422
    assert.equal(await code(sdk(h, 'whpt_' + '0'.repeat(48)).endpoint.list('acme')), 401);
    assert.equal(await code(admin.authentication.appPortalAccess('acme', { expiry: 5 })), 422);
    assert.equal(await code(admin.authentication.appPortalAccess('nope', {})), 404);
});

test('svix CORS: preflights answered without a token; every answer, errors included, carries the allowed origin', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--portal-origins', 'https://portal.example, https://b.example'] });
    const req = (method, path, origin, key = h.key) => httpRequest({ port: h.port, method, path,
        headers: { origin, ...(key ? { authorization: `Bearer ${key}` } : {}) } });
    let r = await req('OPTIONS', '/api/v1/app/acme/endpoint', 'https://portal.example', null);
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], 'https://portal.example');
    assert.match(r.headers['access-control-allow-headers'], /Authorization/);
    assert.match(r.headers['access-control-allow-headers'], /Idempotency-Key/);
    assert.match(r.headers['access-control-allow-methods'], /PATCH/);
    r = await req('GET', '/api/v1/app', 'https://b.example');
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://b.example');
    r = await req('GET', '/api/v1/app/nope', 'https://portal.example');
    assert.equal(r.status, 404);
    assert.equal(r.headers['access-control-allow-origin'], 'https://portal.example');
    r = await req('GET', '/api/v1/app', 'https://portal.example', 'whpt_' + '1'.repeat(48));
    assert.equal(r.status, 401);
    assert.equal(r.headers['access-control-allow-origin'], 'https://portal.example');
    r = await req('GET', '/api/v1/app', 'https://evil.example');
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);

    const any = await env.startHookd(); // default: any origin
    r = await httpRequest({ port: any.port, method: 'GET', path: '/api/v1/app',
        headers: { origin: 'https://x.example', authorization: `Bearer ${any.key}` } });
    assert.equal(r.headers['access-control-allow-origin'], '*');
});
