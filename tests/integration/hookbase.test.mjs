// The Hookbase wire API (/api/..., TENANCY.md §6): applications, event types,
// endpoints, subscriptions, send-event with a real delivery, outbound messages
// and replay; its error shape, both list shapes, and its place beside Svix's
// /api/v1.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setup } from './lib/hookd.mjs';
import { hookbase, ok, fails, list } from './lib/hookbase.mjs';
import { scaled, waitFor, RFC3339 } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

test('hookbase applications: create, read, by-external-id, list pages, search, patch, upsert, delete', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);

    // x-api-key as well as Bearer
    const acme = ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme', metadata: { plan: 'pro' } }, { xApiKey: true }), 201);
    assert.match(acme.id, /^app_/);
    assert.deepEqual({ name: acme.name, externalId: acme.externalId, metadata: acme.metadata },
        { name: 'Acme', externalId: 'acme', metadata: { plan: 'pro' } });
    assert.match(acme.createdAt, RFC3339);
    assert.match(acme.updatedAt, RFC3339);
    assert.deepEqual(ok(await api('GET', `/api/webhook-applications/${acme.id}`)), acme);
    assert.deepEqual(ok(await api('GET', '/api/webhook-applications/by-external-id/acme')), acme);
    fails(await api('GET', '/api/webhook-applications/by-external-id/nobody'), 404, 'NOT_FOUND');
    fails(await api('GET', '/api/webhook-applications/app_nope'), 404);

    // no key, a wrong key: 401 in Hookbase's shape
    fails(await api('GET', '/api/webhook-applications', undefined, { key: null }), 401, 'UNAUTHORIZED');
    fails(await api('GET', '/api/webhook-applications', undefined, { key: 'hk_live_' + '0'.repeat(40), xApiKey: true }), 401);

    // bad input: 400 naming the field, nothing stored
    let e = fails(await api('POST', '/api/webhook-applications', { externalId: 'x1' }), 400, 'VALIDATION_ERROR');
    assert.equal(e.validationErrors[0].field, 'name');
    e = fails(await api('POST', '/api/webhook-applications', { name: 'bad', externalId: 'has space' }), 400);
    assert.equal(e.validationErrors[0].field, 'externalId');
    fails(await api('POST', '/api/webhook-applications', undefined, { raw: '{"name":' }), 400);
    fails(await api('POST', '/api/webhook-applications', { name: 'again', externalId: 'acme' }), 409, 'CONFLICT');
    assert.equal(list(await api('GET', '/api/webhook-applications')).total, 1, 'nothing made by bad requests (the built-in application is not listed)');

    for (let i = 0; i < 4; i++) ok(await api('POST', '/api/webhook-applications', { name: `Shop ${i}`, externalId: `shop-${i}` }), 201);
    // offset paging, total, both shapes
    const p1 = list(await api('GET', '/api/webhook-applications?limit=2'));
    assert.equal(p1.total, 5);
    assert.equal(p1.data.length, 2);
    assert.equal(p1.hasMore, true);
    const p2 = list(await api('GET', '/api/webhook-applications?limit=2&offset=2'));
    assert.equal(p2.offset, 2);
    const p3 = list(await api('GET', '/api/webhook-applications?limit=2&offset=4'));
    assert.equal(p3.hasMore, false);
    const ids = [...p1.data, ...p2.data, ...p3.data].map((a) => a.id);
    assert.equal(new Set(ids).size, 5);
    // cursor paging gives the same order
    const c2 = list(await api('GET', `/api/webhook-applications?limit=2&cursor=${p1.pagination.nextCursor}`));
    assert.deepEqual(c2.data.map((a) => a.id), p2.data.map((a) => a.id));
    fails(await api('GET', '/api/webhook-applications?limit=0'), 400);
    fails(await api('GET', '/api/webhook-applications?offset=-1'), 400);
    // search by name or externalId
    const s = list(await api('GET', '/api/webhook-applications?search=SHOP-2'));
    assert.deepEqual(s.data.map((a) => a.externalId), ['shop-2']);

    // patch name/metadata only
    const patched = ok(await api('PATCH', `/api/webhook-applications/${acme.id}`, { name: 'Acme Inc' }));
    assert.equal(patched.name, 'Acme Inc');
    assert.deepEqual(patched.metadata, { plan: 'pro' });
    assert.equal(patched.externalId, 'acme');

    // both upsert paths: {data, created}
    let u = await api('PUT', '/api/webhook-applications/upsert', { externalId: 'new-co', name: 'New Co' });
    assert.equal(u.status, 201, u.text);
    assert.equal(u.json.created, true);
    assert.equal(u.json.data.externalId, 'new-co');
    u = await api('PUT', '/api/webhook-applications', { externalId: 'new-co', name: 'New Co 2' });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.created, false);
    assert.equal(u.json.data.name, 'New Co 2');
    fails(await api('PUT', '/api/webhook-applications', { name: 'no id' }), 400);

    // delete: 204, then 404
    const d = await api('DELETE', `/api/webhook-applications/${u.json.data.id}`);
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    fails(await api('GET', `/api/webhook-applications/${u.json.data.id}`), 404);
});

test('hookbase routing: /api/v1 stays Svix, the rest of /api is Hookbase, a portal token cannot use /api', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);
    const svix = await api('GET', '/api/v1/app/nope');
    assert.equal(svix.status, 404);
    assert.equal(svix.json.code, 'not_found');
    assert.equal(svix.json.error, undefined);
    fails(await api('GET', '/api/no-such-route'), 404, 'NOT_FOUND');
    fails(await api('DELETE', '/api/send-event'), 405);
    // a Svix list still works next to Hookbase's
    ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);
    const apps = await api('GET', '/api/v1/app');
    assert.equal(apps.status, 200);
    assert.ok(apps.json.data.some((a) => a.uid === 'acme'));
    const tok = ok(await api('POST', '/api/portal/webhook-applications/acme/tokens', {}), 201);
    fails(await api('GET', '/api/webhook-applications', undefined, { key: tok.token }), 403, 'FORBIDDEN');
});

test('hookbase event types: schema strings, duplicates, filters, enable/disable, delete', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);
    const schema = JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } });
    const et = ok(await api('POST', '/api/event-types', {
        name: 'order.created', displayName: 'Order created', description: 'an order', category: 'orders',
        schema, examplePayload: '{"id":"o_1"}',
    }), 201);
    assert.match(et.id, /^et_/);
    assert.equal(et.displayName, 'Order created');
    assert.equal(et.category, 'orders');
    assert.deepEqual(JSON.parse(et.schema), JSON.parse(schema));
    assert.equal(typeof et.schema, 'string');
    assert.equal(et.examplePayload, '{"id":"o_1"}');
    assert.equal(et.isEnabled, true);
    fails(await api('POST', '/api/event-types', { name: 'order.created' }), 409, 'CONFLICT');
    let e = fails(await api('POST', '/api/event-types', { name: 'x.bad', schema: '{not json' }), 400, 'VALIDATION_ERROR');
    assert.equal(e.validationErrors[0].field, 'schema');
    e = fails(await api('POST', '/api/event-types', { name: 'bad name!' }), 400);
    assert.equal(e.validationErrors[0].field, 'name');
    ok(await api('POST', '/api/event-types', { name: 'user.signup', category: 'users' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'user.deleted', category: 'users' }), 201);
    assert.equal(list(await api('GET', '/api/event-types')).total, 3, 'bad requests made nothing');

    assert.deepEqual(ok(await api('GET', `/api/event-types/${et.id}`)), et);
    assert.equal(ok(await api('GET', '/api/event-types/order.created')).id, et.id);
    const users = list(await api('GET', '/api/event-types?category=users'));
    assert.deepEqual(users.data.map((x) => x.name).sort(), ['user.deleted', 'user.signup']);
    assert.deepEqual(list(await api('GET', '/api/event-types?search=signup')).data.map((x) => x.name), ['user.signup']);

    const off = ok(await api('PATCH', `/api/event-types/${et.id}`, { isEnabled: false }));
    assert.equal(off.isEnabled, false);
    assert.deepEqual(list(await api('GET', '/api/event-types?isEnabled=false')).data.map((x) => x.name), ['order.created']);
    assert.equal(list(await api('GET', '/api/event-types?isEnabled=true')).total, 2);
    fails(await api('PATCH', `/api/event-types/${et.id}`, { isEnabled: 'no' }), 400);
    assert.equal(ok(await api('PATCH', `/api/event-types/${et.id}`, { isEnabled: true })).isEnabled, true);

    const del = await api('DELETE', `/api/event-types/${et.id}`);
    assert.equal(del.status, 204);
    fails(await api('GET', `/api/event-types/${et.id}`), 404);
});

test('hookbase endpoints and subscriptions: secret once, filterTypes, rotate-secret, reset-circuit, subscriptions by id and in bulk', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);
    const rcv = await env.startReceiver({ status: 200 });
    const app = ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);
    const other = ok(await api('POST', '/api/webhook-applications', { name: 'Other', externalId: 'other' }), 201);
    const t1 = ok(await api('POST', '/api/event-types', { name: 'order.created' }), 201);
    const t2 = ok(await api('POST', '/api/event-types', { name: 'order.paid' }), 201);
    const t3 = ok(await api('POST', '/api/event-types', { name: 'user.signup' }), 201);

    fails(await api('POST', '/api/webhook-endpoints', { url: rcv.url('/a') }), 400);
    let e = fails(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: 'not a url' }), 400);
    assert.equal(e.validationErrors[0].field, 'url');
    fails(await api('POST', '/api/webhook-endpoints', { applicationId: 'app_none', url: rcv.url('/a') }), 404);
    fails(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/a'), rateLimit: 7, rateLimitPeriod: 'minute' }), 400);
    assert.equal(list(await api('GET', `/api/webhook-endpoints?applicationId=${app.id}`)).total, 0, 'bad requests made nothing');

    const ep = ok(await api('POST', '/api/webhook-endpoints', {
        applicationId: app.id, url: rcv.url('/a'), description: 'main', headers: { 'x-team': 'blue' },
        metadata: { k: 'v' }, rateLimit: 120, rateLimitPeriod: 'minute',
    }), 201);
    assert.match(ep.secret, /^whsec_/);
    assert.equal(ep.applicationId, app.id);
    assert.equal(ep.isDisabled, false);
    assert.equal(ep.circuitState, 'closed');
    assert.deepEqual(ep.filterTypes, [], 'a Hookbase endpoint starts subscribed to nothing');
    assert.equal(ep.rateLimit, 2);
    assert.equal(ep.rateLimitPeriod, 'second');
    assert.deepEqual(ep.headers, { 'x-team': 'blue' });
    assert.equal(ep.totalMessages, 0);
    const got = ok(await api('GET', `/api/webhook-endpoints/${ep.id}`));
    assert.equal(got.secret, undefined, 'the secret is shown in the create answer only');
    const ep2 = ok(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/b'), filterTypes: ['order.paid'] }), 201);
    assert.deepEqual(ep2.filterTypes, ['order.paid']);
    const ep3 = ok(await api('POST', '/api/webhook-endpoints', { applicationId: other.id, url: rcv.url('/c') }), 201);

    // lists: by application, isDisabled
    assert.deepEqual(list(await api('GET', `/api/webhook-endpoints?applicationId=${app.id}`)).data.map((x) => x.id).sort(), [ep.id, ep2.id].sort());
    assert.ok(list(await api('GET', '/api/webhook-endpoints')).data.every((x) => x.secret === undefined));
    assert.equal(ok(await api('PATCH', `/api/webhook-endpoints/${ep2.id}`, { isDisabled: true })).isDisabled, true);
    assert.deepEqual(list(await api('GET', `/api/webhook-endpoints?applicationId=${app.id}&isDisabled=true`)).data.map((x) => x.id), [ep2.id]);
    assert.equal(ok(await api('PATCH', `/api/webhook-endpoints/${ep2.id}`, { isDisabled: false, description: 'second' })).description, 'second');

    // rotate-secret: both placements, a new secret
    const rot = await api('POST', `/api/webhook-endpoints/${ep.id}/rotate-secret`, { gracePeriod: 0 });
    assert.equal(rot.status, 200, rot.text);
    assert.match(rot.json.secret, /^whsec_/);
    assert.equal(rot.json.data.secret, rot.json.secret);
    assert.notEqual(rot.json.secret, ep.secret);
    fails(await api('POST', `/api/webhook-endpoints/${ep.id}/rotate-secret`, { gracePeriod: 'soon' }), 400);
    assert.equal(ok(await api('POST', `/api/webhook-endpoints/${ep.id}/reset-circuit`)).circuitState, 'closed');

    // subscriptions
    const s1 = ok(await api('POST', '/api/webhook-subscriptions', { endpointId: ep.id, eventTypeId: t1.id }), 201);
    assert.match(s1.id, /^sub_/);
    assert.deepEqual({ endpointId: s1.endpointId, eventTypeId: s1.eventTypeId, eventTypeName: s1.eventTypeName, isEnabled: s1.isEnabled },
        { endpointId: ep.id, eventTypeId: t1.id, eventTypeName: 'order.created', isEnabled: true });
    fails(await api('POST', '/api/webhook-subscriptions', { endpointId: ep.id, eventTypeId: t1.id }), 409);
    fails(await api('POST', '/api/webhook-subscriptions', { endpointId: ep.id, eventTypeId: 'et_missing' }), 404);
    fails(await api('POST', '/api/webhook-subscriptions', { endpointId: ep.id }), 400);
    assert.deepEqual(ok(await api('GET', `/api/webhook-subscriptions/${s1.id}`)), s1);
    assert.deepEqual(ok(await api('GET', `/api/webhook-endpoints/${ep.id}`)).filterTypes, ['order.created']);

    const bulk = await api('POST', '/api/webhook-subscriptions/bulk', { endpointId: ep.id, eventTypeIds: [t1.id, t2.id, t3.id] });
    assert.equal(bulk.status, 200, bulk.text);
    assert.equal(bulk.json.data, undefined, 'bulk answers unwrapped');
    assert.equal(bulk.json.created, 2);
    assert.equal(bulk.json.skipped, 1);
    assert.equal(bulk.json.subscriptions.length, 3);

    const all = list(await api('GET', `/api/webhook-subscriptions?endpointId=${ep.id}`));
    assert.deepEqual(all.data.map((x) => x.eventTypeName).sort(), ['order.created', 'order.paid', 'user.signup']);
    assert.equal(list(await api('GET', `/api/webhook-subscriptions?applicationId=${app.id}`)).total, 4, 'ep2 subscribes to order.paid');
    assert.equal(list(await api('GET', `/api/webhook-subscriptions?eventTypeId=${t2.id}`)).total, 2);
    assert.equal(list(await api('GET', `/api/webhook-subscriptions?applicationId=${other.id}`)).total, 0);

    const off = ok(await api('PATCH', `/api/webhook-subscriptions/${s1.id}`, { isEnabled: false }));
    assert.equal(off.isEnabled, false);
    fails(await api('GET', `/api/webhook-subscriptions/${s1.id}`), 404);
    assert.equal(ok(await api('PATCH', `/api/webhook-subscriptions/${s1.id}`, { isEnabled: true })).isEnabled, true);
    const del = await api('DELETE', `/api/webhook-subscriptions/${s1.id}`);
    assert.equal(del.status, 204);
    fails(await api('DELETE', `/api/webhook-subscriptions/${s1.id}`), 404);
    fails(await api('GET', '/api/webhook-subscriptions/garbage'), 404);

    // removing the last subscription leaves nothing, not everything
    for (const s of list(await api('GET', `/api/webhook-subscriptions?endpointId=${ep.id}`)).data)
        assert.equal((await api('DELETE', `/api/webhook-subscriptions/${s.id}`)).status, 204);
    assert.deepEqual(ok(await api('GET', `/api/webhook-endpoints/${ep.id}`)).filterTypes, []);

    const gone = await api('DELETE', `/api/webhook-endpoints/${ep3.id}`);
    assert.equal(gone.status, 204);
    fails(await api('GET', `/api/webhook-endpoints/${ep3.id}`), 404);
});

/** Verify a Standard Webhooks signature of a delivery with secret. */
function signed(rec, secret) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const mac = crypto.createHmac('sha256', key)
        .update(`${rec.headers['webhook-id']}.${rec.headers['webhook-timestamp']}.${rec.text}`).digest('base64');
    return rec.headers['webhook-signature'].split(' ').some((s) => s === `v1,${mac}`);
}

test('hookbase send-event: fan-out to subscribers, envelope, targeting, dedupe, outbound messages, attempts, replay', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '3'] });
    const api = hookbase(h);
    const rcv = await env.startReceiver((rec) => (rec.path === '/bad' ? { status: 500, body: 'nope' } : { status: 200, body: 'thanks' }));
    const app = ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'order.created' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'order.paid' }), 201);
    const sub = ok(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/a'), filterTypes: ['order.created'] }), 201);
    const sub2 = ok(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/b2'), filterTypes: ['order.created', 'order.paid'] }), 201);
    const none = ok(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/none') }), 201);
    const bad = ok(await api('POST', '/api/webhook-endpoints', { applicationId: app.id, url: rcv.url('/bad'), filterTypes: ['order.paid'] }), 201);

    // 404 for unknown and disabled types; bad input 400; nothing sent
    fails(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'nope.nope', payload: {} }), 404, 'NOT_FOUND');
    const dis = ok(await api('POST', '/api/event-types', { name: 'order.void' }), 201);
    ok(await api('PATCH', `/api/event-types/${dis.id}`, { isEnabled: false }));
    fails(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.void', payload: {} }), 404);
    fails(await api('POST', '/api/send-event', { eventType: 'order.created', payload: {} }), 400);
    fails(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created' }), 400);
    fails(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: {}, endpointIds: 'x' }), 400);
    fails(await api('POST', '/api/send-event', { applicationId: 'app_none', eventType: 'order.created', payload: {} }), 404);

    const raw = '{"applicationId":"' + app.id + '","eventType":"order.created","payload":{"id":"o_1","total":10.50,"s":"\\u00e9"}}';
    const sent = await api('POST', '/api/send-event', undefined, { raw, xApiKey: true });
    const data = ok(sent, 202);
    assert.match(data.eventId, /^msg_/);
    assert.equal(data.messagesQueued, 2);
    assert.deepEqual(data.endpoints.map((x) => x.id).sort(), [sub.id, sub2.id].sort());
    assert.ok(data.endpoints.every((x) => x.url.startsWith('http://127.0.0.1:')));
    await rcv.waitUntil(() => rcv.requestsFor(data.eventId).length === 2, { what: 'two deliveries' });
    const rec = rcv.requestsFor(data.eventId).find((r) => r.path === '/a');
    // the envelope, with the payload bytes as sent
    assert.ok(rec.text.includes('"data":{"id":"o_1","total":10.50,"s":"\\u00e9"}'), rec.text);
    const env1 = JSON.parse(rec.text);
    assert.equal(env1.type, 'order.created');
    assert.equal(env1.webhookId, data.eventId);
    assert.match(env1.timestamp, RFC3339);
    assert.ok(signed(rec, sub.secret), 'signed with the endpoint secret');
    assert.equal(rcv.requests.filter((r) => r.path === '/none').length, 0);

    // endpointIds narrows the fan-out
    const targeted = ok(await api('POST', '/api/send-event', { applicationId: 'acme', eventType: 'order.created', payload: { n: 2 }, endpointIds: [sub2.id] }), 202);
    assert.deepEqual(targeted.endpoints.map((x) => x.id), [sub2.id]);
    await rcv.waitUntil(() => rcv.requestsFor(targeted.eventId).length === 1, { what: 'targeted delivery' });

    // eventId dedupe: the first event again, nothing new
    const first = ok(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: { n: 3 }, eventId: 'evt-3' }), 202);
    const again = ok(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: { n: 3 }, eventId: 'evt-3' }), 200);
    assert.equal(again.eventId, first.eventId);
    assert.equal(again.messagesQueued, 2);
    // the Idempotency-Key header gives the first answer again
    const idem = { headers: { 'idempotency-key': 'k-1' } };
    const i1 = ok(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: { n: 4 } }, idem), 202);
    const i2 = await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: { n: 4 } }, idem);
    assert.equal(i2.json.data.eventId, i1.eventId);
    fails(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.created', payload: { n: 5 } }, idem), 409);
    await rcv.waitUntil(() => rcv.requestsFor(first.eventId).length === 2 && rcv.requestsFor(i1.eventId).length === 2, { what: 'deduplicated deliveries' });
    assert.equal(rcv.requestsFor(first.eventId).length, 2);

    // a failing endpoint: its message ends exhausted after --max-attempts
    const paid = ok(await api('POST', '/api/send-event', { applicationId: app.id, eventType: 'order.paid', payload: { p: 1 } }), 202);
    assert.equal(paid.messagesQueued, 2);
    const failing = await waitFor(async () => {
        const l = list(await api('GET', `/api/outbound-messages?endpointId=${bad.id}`));
        return l.data.length === 1 && l.data[0].status === 'exhausted' ? l.data[0] : null;
    }, { what: 'an exhausted outbound message' });
    assert.equal(failing.attempts, 3);
    assert.equal(failing.maxAttempts, 3);
    assert.equal(failing.lastResponseStatus, 500);
    assert.equal(failing.lastResponseBody, 'nope');
    assert.equal(failing.messageId, paid.eventId);
    assert.equal(failing.eventType, 'order.paid');
    assert.equal(failing.endpointUrl, rcv.url('/bad'));
    assert.equal(failing.nextAttemptAt, null);
    assert.match(failing.lastAttemptAt, RFC3339);

    // outbound-messages: filters and views
    await waitFor(async () => list(await api('GET', '/api/outbound-messages?status=success')).total === 8, { what: '8 successes' });
    const byEvent = list(await api('GET', `/api/outbound-messages?messageId=${data.eventId}`));
    assert.deepEqual(byEvent.data.map((x) => x.endpointId).sort(), [sub.id, sub2.id].sort());
    const one = byEvent.data.find((x) => x.endpointId === sub.id);
    assert.equal(one.status, 'success');
    assert.equal(one.attempts, 1);
    assert.equal(one.lastResponseStatus, 200);
    assert.match(one.deliveredAt, RFC3339);
    assert.deepEqual(ok(await api('GET', `/api/outbound-messages/${one.id}`)), one);
    assert.equal(list(await api('GET', '/api/outbound-messages?eventType=order.paid')).total, 2);
    assert.equal(list(await api('GET', `/api/outbound-messages?applicationId=${app.id}`)).total, 9);
    const paged = list(await api('GET', '/api/outbound-messages?limit=4'));
    assert.equal(paged.total, 9);
    assert.equal(paged.data.length, 4);
    const next = list(await api('GET', `/api/outbound-messages?limit=4&cursor=${paged.pagination.nextCursor}`));
    assert.equal(next.data.length, 4);
    assert.ok(next.data.every((x) => !paged.data.some((y) => y.id === x.id)));
    assert.equal(list(await api('GET', `/api/outbound-messages?startDate=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).total, 0);
    fails(await api('GET', '/api/outbound-messages?status=weird'), 400);
    fails(await api('GET', '/api/outbound-messages?startDate=yesterday'), 400);
    fails(await api('GET', '/api/outbound-messages/not-a-message'), 404);

    const attempts = ok(await api('GET', `/api/outbound-messages/${failing.id}/attempts`));
    assert.equal(attempts.length, 3);
    assert.deepEqual(attempts.map((a) => a.attemptNumber), [1, 2, 3]);
    assert.ok(attempts.every((a) => a.outboundMessageId === failing.id && a.responseStatus === 500 && a.responseBody === 'nope'));
    assert.match(attempts[0].attemptedAt, RFC3339);

    // replay: a new message of the same event to the same endpoint
    rcv.respond({ status: 200 });
    const rep = ok(await api('POST', `/api/outbound-messages/${failing.id}/replay`));
    assert.equal(rep.originalMessageId, failing.id);
    assert.notEqual(rep.newMessageId, failing.id);
    assert.equal(rep.status, 'pending');
    await waitFor(async () => ok(await api('GET', `/api/outbound-messages/${rep.newMessageId}`)).status === 'success', { what: 'the replay delivered' });
    assert.equal(ok(await api('GET', `/api/outbound-messages/${failing.id}`)).status, 'exhausted', 'the original keeps its history');
    const replayed = rcv.requestsFor(paid.eventId).filter((r) => r.path === '/bad');
    assert.equal(replayed.at(-1).webhookId, paid.eventId, 'the same webhook-id');
    fails(await api('POST', '/api/outbound-messages/nope/replay'), 404);

    // the endpoint's counters
    const counted = ok(await api('GET', `/api/webhook-endpoints/${bad.id}`));
    assert.deepEqual([counted.totalMessages, counted.totalSuccesses, counted.totalFailures], [2, 1, 1]);

    // test and verify: a signed delivery now
    const tst = ok(await api('POST', `/api/webhook-endpoints/${sub.id}/test`, { eventType: 'order.created' }));
    assert.equal(tst.success, true);
    assert.equal(tst.delivery.responseStatus, 200);
    assert.equal(tst.signature.header, 'webhook-signature');
    const ver = ok(await api('POST', `/api/webhook-endpoints/${sub.id}/verify`));
    assert.equal(ver.verified, true);
});
