// Endpoint secret rotation, custom headers and stats on the Svix surface,
// driven by the real `svix` SDK (2.x and 1.x) and checked with real
// deliveries: after a rotation the new secret signs and the old one still
// verifies during the overlap (then stops); custom headers set, merged and
// removed travel with deliveries; stats count deliveries by state. Bad input
// is a 422 naming the field and changes nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Webhook, WebhookVerificationError, ApiException } from 'svix';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { httpRequest, scaled, sleep, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

async function raw(h, method, path, body, headers = {}) {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const res = await httpRequest({
        port: h.port, method, path, body: payload,
        headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload), ...headers },
    });
    return { status: res.status, json: JSON.parse(res.body.toString('utf8') || 'null') };
}

/** Expects fn to fail with a Svix 422 naming loc (either SDK's ApiException). */
async function expect422(fn, loc) {
    try {
        await fn();
    } catch (e) {
        assert.equal(e.code, 422, `${e}: ${JSON.stringify(e.body)}`);
        assert.deepEqual(e.body.detail[0].loc, loc);
        assert.equal(typeof e.body.detail[0].msg, 'string');
        return e.body;
    }
    assert.fail(`expected a 422 naming ${loc.join('.')}`);
}

/** Whether the delivery rec verifies with secret (the SDK's own Webhook). */
function verifies(secret, rec) {
    try {
        new Webhook(secret).verify(rec.text, rec.headers);
        return true;
    } catch (e) {
        if (e instanceof WebhookVerificationError) return false;
        throw e;
    }
}

const signatures = (rec) => rec.headers['webhook-signature'].split(' ');

test('svix secret rotation: the new secret signs, the old one overlaps, then stops', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rcv = await env.startReceiver({ status: 204 });
    const ep = await v2.endpoint.create(app.id, { url: rcv.url(), uid: 'main' });
    let n = 0;
    const deliver = async () => {
        const m = await v2.message.create(app.id, { eventType: 'order.created', payload: { n: ++n } });
        await rcv.waitUntil(() => rcv.requestsFor(m.id).length === 1, { what: `delivery ${n}` });
        return rcv.requestsFor(m.id)[0];
    };

    const s0 = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    let rec = await deliver();
    assert.ok(verifies(s0, rec));
    assert.equal(signatures(rec).length, 1);

    // 2.x, no body fields: a generated secret; the old one keeps signing beside it
    assert.equal(await v2.endpoint.rotateSecret(app.id, ep.id), undefined);
    const s1 = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    assert.match(s1, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.notEqual(s1, s0);
    rec = await deliver();
    assert.equal(signatures(rec).length, 2);
    assert.ok(verifies(s1, rec), 'the new secret verifies');
    assert.ok(verifies(s0, rec), 'the old secret still verifies during the overlap');

    // 1.x with a given key while two are active: the oldest is dropped at once
    const s2 = 'whsec_' + crypto.randomBytes(32).toString('base64');
    await v1.endpoint.rotateSecret('acme', 'main', { key: s2 });
    assert.equal((await v1.endpoint.getSecret('acme', 'main')).key, s2);
    rec = await deliver();
    assert.equal(signatures(rec).length, 2);
    assert.ok(verifies(s2, rec));
    assert.ok(verifies(s1, rec));
    assert.ok(!verifies(s0, rec), 'at most two keys: the oldest no longer signs');

    // bad input: 422 naming the field, the secret unchanged
    await expect422(() => v2.endpoint.rotateSecret(app.id, ep.id, { key: 'not-a-secret' }), ['body', 'key']);
    await expect422(() => v1.endpoint.rotateSecret('acme', 'main', { key: 'whsec_c2hvcnQ=' }), ['body', 'key']);
    await expect422(() => v2.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: -1 }),
        ['body', 'gracePeriodSeconds']);
    await expect422(() => v2.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: 8 * 86400 }),
        ['body', 'gracePeriodSeconds']);
    assert.equal((await v2.endpoint.getSecret(app.id, ep.id)).key, s2);
    try {
        await v2.endpoint.rotateSecret(app.id, 'ep_nope');
        assert.fail('expected 404');
    } catch (e) {
        assert.ok(e instanceof ApiException);
        assert.equal(e.code, 404);
    }

    // a short overlap: the old key signs until it expires, then never again
    const beforeRotate = Date.now();
    await v2.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: 1 });
    const afterRotate = Date.now();
    const s3 = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    rec = await deliver();
    assert.ok(verifies(s3, rec));
    if (Date.now() - beforeRotate < 900) // the delivery surely started within the overlap
        assert.ok(verifies(s2, rec), 'the old secret verifies within its overlap');
    assert.ok(!verifies(s1, rec));
    await sleep(Math.max(0, afterRotate + 1200 - Date.now()));
    rec = await deliver(); // the dispatcher had the keys cached: it must notice the expiry
    assert.equal(signatures(rec).length, 1);
    assert.ok(verifies(s3, rec));
    assert.ok(!verifies(s2, rec), 'an expired key no longer signs');

    // no overlap: the old key stops at once
    await v2.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: 0 });
    const s4 = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    rec = await deliver();
    assert.equal(signatures(rec).length, 1);
    assert.ok(verifies(s4, rec));
    assert.ok(!verifies(s3, rec));

    // the SDKs resend a POST with its idempotency key: the same key rotates once
    const ik = { 'idempotency-key': 'rotate-once-' + crypto.randomUUID() };
    const path = `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`;
    let r = await raw(h, 'POST', path, {}, ik);
    assert.equal(r.status, 204);
    const s5 = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    assert.notEqual(s5, s4);
    r = await raw(h, 'POST', path, {}, ik);
    assert.equal(r.status, 204);
    assert.equal((await v2.endpoint.getSecret(app.id, ep.id)).key, s5);
    r = await raw(h, 'POST', path, { gracePeriodSeconds: 5 }, ik);
    assert.equal(r.status, 409);
    assert.equal((await v2.endpoint.getSecret(app.id, ep.id)).key, s5);
});

test('svix endpoint headers: get, set, patch (null and deleteHeaders remove); deliveries carry them', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await v2.endpoint.create(app.id, { url: rcv.url(), uid: 'hdr', headers: { 'x-first': '1' } });

    assert.deepEqual(await v2.endpoint.getHeaders(app.id, ep.id), { headers: { 'x-first': '1' }, sensitive: [] });
    const bare = await v2.endpoint.create(app.id, { url: rcv.url('/bare') });
    assert.deepEqual(await v1.endpoint.getHeaders('acme', bare.id), { headers: {}, sensitive: [] });

    // PUT replaces (2.x setHeaders, 1.x updateHeaders)
    assert.equal(await v2.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Tenant': 'acme', 'x-b': '2' } }),
        undefined);
    assert.deepEqual((await v2.endpoint.getHeaders(app.id, ep.id)).headers, { 'X-Tenant': 'acme', 'x-b': '2' });
    await v1.endpoint.updateHeaders('acme', 'hdr', { headers: { 'X-Tenant': 'acme', 'x-b': '2', 'x-c': '3' } });
    assert.deepEqual((await v1.endpoint.getHeaders('acme', 'hdr')).headers,
        { 'X-Tenant': 'acme', 'x-b': '2', 'x-c': '3' });

    // PATCH merges: a value sets (any case replaces), deleteHeaders and null remove
    await v2.endpoint.patchHeaders(app.id, ep.id, { headers: { 'x-d': '4', 'X-C': 'three' }, deleteHeaders: ['X-B'] });
    assert.deepEqual((await v2.endpoint.getHeaders(app.id, ep.id)).headers,
        { 'X-Tenant': 'acme', 'X-C': 'three', 'x-d': '4' });
    await v1.endpoint.patchHeaders('acme', 'hdr', { headers: { 'x-d': null } });
    assert.deepEqual((await v1.endpoint.getHeaders('acme', 'hdr')).headers, { 'X-Tenant': 'acme', 'X-C': 'three' });

    // a delivery carries them (and still verifies)
    const m = await v2.message.create(app.id, { eventType: 'user.created', payload: { id: 7 } });
    await rcv.waitUntil(() => rcv.requestsFor(m.id).length === 2, { what: 'deliveries to both endpoints' });
    const rec = rcv.requests.find((x) => x.webhookId === m.id && x.path === '/hook');
    assert.equal(rec.headers['x-tenant'], 'acme');
    assert.equal(rec.headers['x-c'], 'three');
    assert.equal(rec.headers['x-b'], undefined);
    assert.equal(rec.headers['x-d'], undefined);
    assert.equal(rec.headers['x-first'], undefined);
    const secret = (await v2.endpoint.getSecret(app.id, ep.id)).key;
    new Webhook(secret).verify(rec.text, rec.headers);
    // the other endpoint has none
    const other = rcv.requests.find((x) => x.webhookId === m.id && x.path === '/bare');
    assert.ok(other);
    assert.equal(other.headers['x-tenant'], undefined);

    // a change reaches the dispatcher, which had the endpoint's settings cached
    await v2.endpoint.patchHeaders(app.id, ep.id, { headers: { 'x-late': 'yes' } });
    const m2 = await v2.message.create(app.id, { eventType: 'user.created', payload: { id: 8 } });
    await rcv.waitUntil(() => rcv.requestsFor(m2.id).length === 2, { what: 'second deliveries' });
    const rec2 = rcv.requestsFor(m2.id).find((x) => x.path === '/hook');
    assert.equal(rec2.headers['x-late'], 'yes');
    assert.equal(rec2.headers['x-tenant'], 'acme');

    // bad input: 422 naming the field, nothing changed
    const before = await v2.endpoint.getHeaders(app.id, ep.id);
    await expect422(() => v2.endpoint.setHeaders(app.id, ep.id, { headers: { 'bad name': 'x' } }), ['body', 'headers']);
    await expect422(() => v1.endpoint.updateHeaders('acme', 'hdr', { headers: { host: 'evil' } }), ['body', 'headers']);
    await expect422(() => v2.endpoint.patchHeaders(app.id, ep.id, { headers: { 'x-ok': '1', 'bad:name': 'x' } }),
        ['body', 'headers']);
    await expect422(() => v2.endpoint.patchHeaders(app.id, ep.id, { headers: { 'x-v': 7 } }), ['body', 'headers']);
    await expect422(() => v2.endpoint.setHeaders(app.id, ep.id, {}), ['body', 'headers']);
    let r = await raw(h, 'PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}/headers`,
        { headers: {}, deleteHeaders: 'x-c' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.detail[0].loc, ['body', 'deleteHeaders']);
    // the merged whole must fit too: 50 headers at most
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`x-h${i}`, 'v']));
    await expect422(() => v2.endpoint.patchHeaders(app.id, ep.id, { headers: many }), ['body', 'headers']);
    assert.deepEqual(await v2.endpoint.getHeaders(app.id, ep.id), before);

    // PUT {} clears; unknown endpoint is 404
    await v2.endpoint.setHeaders(app.id, ep.id, { headers: {} });
    assert.deepEqual((await v2.endpoint.getHeaders(app.id, ep.id)).headers, {});
    r = await raw(h, 'GET', `/api/v1/app/${app.id}/endpoint/ep_nope/headers`);
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'not_found');
});

test('svix endpoint stats: success, pending and fail counts, since and until', T, async (t) => {
    const env = await setup(t);
    // retries 200 ms and 400 ms apart: a failing endpoint fails for good within a second
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const ok = await env.startReceiver({ status: 200 });
    const bad = await env.startReceiver({ status: 500 });
    const slow = await env.startReceiver({ hang: true });
    const epOk = await v2.endpoint.create(app.id, { url: ok.url(), uid: 'ok' });
    const epBad = await v2.endpoint.create(app.id, { url: bad.url(), uid: 'bad', eventTypes: ['order.created'] });
    const zero = { success: 0, pending: 0, sending: 0, fail: 0, canceled: 0 };
    assert.deepEqual(await v2.endpoint.getStats(app.id, epOk.id), zero);

    const start = new Date();
    for (let i = 0; i < 3; i++)
        await v2.message.create(app.id, { eventType: 'order.created', payload: { i } });
    await v2.message.create(app.id, { eventType: 'user.created', payload: {} });

    const okStats = await waitFor(async () => {
        const s = await v2.endpoint.getStats(app.id, epOk.id);
        return s.success === 4 && s;
    }, { what: 'four successes counted' });
    assert.deepEqual(okStats, { ...zero, success: 4 });
    const badStats = await waitFor(async () => {
        const s = await v1.endpoint.getStats('acme', 'bad');
        return s.fail === 3 && s.pending === 0 && s;
    }, { what: 'three failures counted' });
    assert.deepEqual(badStats, { ...zero, fail: 3 });
    assert.ok(bad.requests.length >= 6); // retried before failing for good

    // a message still being attempted (its receiver never answers) is pending
    const epSlow = await v2.endpoint.create(app.id, { url: slow.url(), uid: 'slow' });
    await v2.message.create(app.id, { eventType: 'user.created', payload: {} });
    const slowStats = await v2.endpoint.getStats(app.id, epSlow.id);
    assert.equal(slowStats.pending, 1, JSON.stringify(slowStats));
    assert.equal(slowStats.success + slowStats.fail, 0);

    // the window: since/until as the SDKs send them
    const later = new Date(Date.now() + 3_600_000);
    assert.deepEqual(await v2.endpoint.getStats(app.id, epOk.id, { since: later }), zero);
    assert.deepEqual(await v1.endpoint.getStats('acme', 'bad', { since: new Date(start.getTime() - 120_000),
        until: later }), { ...zero, fail: 3 });
    assert.deepEqual(await v2.endpoint.getStats(app.id, epOk.id, { until: new Date(start.getTime() - 120_000) }), zero);
    assert.equal((await v2.endpoint.getStats(app.id, epSlow.id, { since: later })).pending, 0);

    // bad input: 422 naming the query parameter; unknown endpoint: 404
    let r = await raw(h, 'GET', `/api/v1/app/${app.id}/endpoint/${epOk.id}/stats?since=yesterday`);
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.detail[0].loc, ['query', 'since']);
    try {
        await v2.endpoint.getStats(app.id, epOk.id, { since: later, until: start });
        assert.fail('expected 422');
    } catch (e) {
        assert.equal(e.code, 422);
        assert.deepEqual(e.body.detail[0].loc, ['query', 'until']);
    }
    r = await raw(h, 'GET', `/api/v1/app/${app.id}/endpoint/ep_nope/stats`);
    assert.equal(r.status, 404);
});
