// Hookbase's portal tokens, magic links and the /portal/... routes
// (TENANCY.md §4, §6): scoped to one application, read-only tokens refused on
// writes, allowedIps, CORS on every answer, bodiless POSTs, message views.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { hookbase, ok, fails } from './lib/hookbase.mjs';
import { httpRequest, scaled, waitFor, RFC3339 } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const DAY = 86_400_000;

test('hookbase portal tokens and magic links: scopes, lifetimes, allowedIps, bad input', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);
    const app = ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);

    const before = Date.now();
    const tok = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, { name: 'dash', scopes: ['read'], expiresInDays: 7 }), 201);
    assert.match(tok.token, /^whpt_[0-9a-f]{48}$/);
    assert.ok(tok.token.startsWith(tok.tokenPrefix));
    assert.ok(tok.tokenPrefix.length < tok.token.length);
    assert.equal(tok.applicationId, app.id);
    assert.equal(tok.name, 'dash');
    assert.deepEqual(tok.scopes, ['read']);
    assert.match(tok.createdAt, RFC3339);
    const exp = Date.parse(tok.expiresAt);
    assert.ok(exp >= before + 7 * DAY - 5000 && exp <= Date.now() + 7 * DAY + 5000, tok.expiresAt);
    const def = ok(await api('POST', '/api/portal/webhook-applications/acme/tokens'), 201);
    assert.deepEqual(def.scopes, ['read', 'write']);
    assert.ok(Math.abs(Date.parse(def.expiresAt) - Date.now() - 30 * DAY) < 10_000, 'default 30 days');

    for (const bad of [{ expiresInDays: 0 }, { expiresInDays: 366 }, { expiresInDays: 'x' }]) {
        const e = fails(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, bad), 400, 'VALIDATION_ERROR');
        assert.equal(e.validationErrors[0].field, 'expiresInDays');
    }
    fails(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, { scopes: ['admin'] }), 400);
    fails(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, { allowedIps: ['not-an-ip'] }), 400);
    fails(await api('POST', '/api/portal/webhook-applications/app_none/tokens', {}), 404);

    // magic links
    const link = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/magic-link`, { expiresInMinutes: 15 }), 201);
    assert.match(link.token, /^whpt_/);
    assert.equal(link.url, `http://127.0.0.1:${h.port}/portal/?token=${link.token}`);
    assert.ok(Math.abs(Date.parse(link.expiresAt) - Date.now() - 15 * 60_000) < 10_000);
    const linkDefault = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/magic-link`), 201);
    assert.ok(Math.abs(Date.parse(linkDefault.expiresAt) - Date.now() - 60 * 60_000) < 10_000, 'default 60 minutes');
    fails(await api('POST', `/api/portal/webhook-applications/${app.id}/magic-link`, { expiresInMinutes: 1441 }), 400);
    const portal = hookbase(h, link.token);
    assert.equal(ok(await portal('GET', '/portal/application')).id, app.id);

    // a read token reads, and gets 403 on every write
    const ro = hookbase(h, tok.token);
    assert.deepEqual(ok(await ro('GET', '/portal/application')), { id: app.id, name: 'Acme', organizationId: null });
    fails(await ro('POST', '/portal/endpoints', { url: 'http://127.0.0.1:9/x' }), 403, 'FORBIDDEN');
    const rw = hookbase(h, def.token);
    const ep = ok(await rw('POST', '/portal/endpoints', { url: 'http://127.0.0.1:9/x' }), 201);
    fails(await ro('PATCH', `/portal/endpoints/${ep.id}`, { description: 'x' }), 403);
    fails(await ro('DELETE', `/portal/endpoints/${ep.id}`), 403);
    fails(await ro('POST', `/portal/endpoints/${ep.id}/rotate-secret`), 403);
    fails(await ro('POST', `/portal/messages/x/replay`), 403);
    assert.equal(ok(await ro('GET', `/portal/endpoints/${ep.id}`)).id, ep.id);

    // allowedIps: the client here is 127.0.0.1
    const far = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, { allowedIps: ['10.1.2.3', '192.168.0.0/16'] }), 201);
    fails(await hookbase(h, far.token)('GET', '/portal/application'), 403);
    const near = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/tokens`, { allowedIps: ['10.1.2.3', '127.0.0.0/8'] }), 201);
    ok(await hookbase(h, near.token)('GET', '/portal/application'));

    // the application's tokens are listed without their secrets; a revoked one is 401 at once
    const listed = ok(await api('GET', `/api/portal/webhook-applications/${app.id}/tokens`));
    assert.equal(listed.length, 4 + 2, 'four tokens and two magic links');
    assert.ok(listed.every((x) => x.applicationId === app.id && !('token' in x)));
    assert.deepEqual([listed[0].id, listed[1].id], [near.id, far.id], 'newest first');
    assert.deepEqual(listed.slice(-2).map((x) => x.id), [def.id, tok.id], 'oldest last');
    const dash = listed.find((x) => x.id === tok.id);
    assert.equal(dash.tokenPrefix, tok.tokenPrefix);
    assert.equal(dash.name, 'dash');
    assert.deepEqual(dash.scopes, ['read']);
    assert.equal(dash.isExpired, false);
    assert.equal(dash.isRevoked, false);
    assert.deepEqual(ok(await api('GET', '/api/portal/webhook-applications/acme/tokens')).map((x) => x.id), listed.map((x) => x.id));
    fails(await api('GET', '/api/portal/webhook-applications/app_none/tokens'), 404);
    const res = await api('DELETE', `/api/portal/tokens/${def.id}`);
    assert.equal(res.status, 204);
    fails(await rw('GET', '/portal/application'), 401);
    ok(await ro('GET', '/portal/application'));
    const after = ok(await api('GET', `/api/portal/webhook-applications/${app.id}/tokens`)).find((x) => x.id === def.id);
    assert.equal(after.isRevoked, true);
    assert.match(after.revokedAt, RFC3339);
    assert.equal((await api('DELETE', `/api/portal/tokens/${def.id}`)).status, 204, 'revoking again is harmless');
    fails(await api('DELETE', '/api/portal/tokens/ptok_none'), 404);
    fails(await rw('DELETE', `/api/portal/tokens/${tok.id}`), 401);
    ok(await ro('GET', '/portal/application'));

    // unknown tokens and API keys
    fails(await hookbase(h, 'whpt_' + '0'.repeat(48))('GET', '/portal/application'), 401);
    fails(await api('GET', '/portal/application'), 403, 'FORBIDDEN');
    fails(await hookbase(h, null)('GET', '/portal/endpoints'), 401);
});

test('hookbase portal CORS: preflights without a token, Allow-Origin on every answer, --portal-origins', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--portal-origins', 'https://app.example.com'] });
    const api = hookbase(h);
    ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);
    const tok = ok(await api('POST', '/api/portal/webhook-applications/acme/tokens', {}), 201);
    const origin = 'https://app.example.com';

    const pre = await httpRequest({ port: h.port, method: 'OPTIONS', path: '/portal/endpoints', validate: false,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], origin);
    for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) assert.match(pre.headers['access-control-allow-methods'], new RegExp(`\\b${m}\\b`));
    for (const hd of ['Authorization', 'Content-Type', 'Idempotency-Key']) assert.ok(pre.headers['access-control-allow-headers'].split(/,\s*/).includes(hd), pre.headers['access-control-allow-headers']);

    const portal = hookbase(h, tok.token);
    const good = await portal('GET', '/portal/application', undefined, { headers: { origin } });
    assert.equal(good.headers['access-control-allow-origin'], origin);
    // errors carry it too: no token, bad token, 404
    const e401 = await hookbase(h, null)('GET', '/portal/endpoints', undefined, { headers: { origin } });
    fails(e401, 401);
    assert.equal(e401.headers['access-control-allow-origin'], origin);
    const bad = await hookbase(h, 'whpt_' + 'f'.repeat(48))('GET', '/portal/endpoints', undefined, { headers: { origin } });
    fails(bad, 401);
    assert.equal(bad.headers['access-control-allow-origin'], origin);
    const e404 = await portal('GET', '/portal/endpoints/ep_nope', undefined, { headers: { origin } });
    fails(e404, 404);
    assert.equal(e404.headers['access-control-allow-origin'], origin);
    // an origin not configured gets none
    const stranger = await portal('GET', '/portal/application', undefined, { headers: { origin: 'https://evil.example' } });
    assert.equal(stranger.status, 200);
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
});

test('hookbase portal: one application only, endpoints, subscriptions, event types, messages, replay, test and verify', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'] });
    const api = hookbase(h);
    const rcv = await env.startReceiver((rec) => (rec.path.startsWith('/fail') ? { status: 503 } : { status: 200 }));
    const a = ok(await api('POST', '/api/webhook-applications', { name: 'A', externalId: 'a' }), 201);
    const b = ok(await api('POST', '/api/webhook-applications', { name: 'B', externalId: 'b' }), 201);
    const created = ok(await api('POST', '/api/event-types', { name: 'order.created', displayName: 'Order created', schema: '{"type":"object"}', examplePayload: '{"id":1}' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'order.paid' }), 201);
    const hidden = ok(await api('POST', '/api/event-types', { name: 'internal.thing' }), 201);
    ok(await api('PATCH', `/api/event-types/${hidden.id}`, { isEnabled: false }));
    const bEp = ok(await api('POST', '/api/webhook-endpoints', { applicationId: b.id, url: rcv.url('/b'), filterTypes: ['order.created'] }), 201);
    const tokA = ok(await api('POST', `/api/portal/webhook-applications/${a.id}/tokens`, {}), 201);
    const p = hookbase(h, tokA.token);

    // endpoints: POST shows the secret once; lists are not paged; other applications are invisible
    const ep = ok(await p('POST', '/portal/endpoints', { url: rcv.url('/a'), description: 'mine' }), 201);
    assert.match(ep.secret, /^whsec_/);
    assert.equal(ep.applicationId, a.id);
    assert.equal(ep.isVerified, false);
    assert.deepEqual(ep.filterTypes, []);
    const eps = ok(await p('GET', '/portal/endpoints'));
    assert.deepEqual(eps.map((x) => x.id), [ep.id]);
    assert.equal(eps[0].secret, undefined);
    assert.equal(ok(await p('GET', `/portal/endpoints/${ep.id}`)).secret, undefined);
    fails(await p('GET', `/portal/endpoints/${bEp.id}`), 404);
    fails(await p('PATCH', `/portal/endpoints/${bEp.id}`, { description: 'hijack' }), 404);
    fails(await p('DELETE', `/portal/endpoints/${bEp.id}`), 404);
    fails(await p('POST', `/portal/endpoints/${bEp.id}/rotate-secret`), 404);
    assert.equal(ok(await api('GET', `/api/webhook-endpoints/${bEp.id}`)).description, null, 'B untouched');
    fails(await p('POST', '/portal/endpoints', { url: 'nope' }), 400);
    assert.equal(ok(await p('GET', '/portal/endpoints')).length, 1, 'bad input made nothing');
    assert.equal(ok(await p('PATCH', `/portal/endpoints/${ep.id}`, { description: 'changed' })).description, 'changed');

    // event types: enabled only, strings for schema and example
    const types = ok(await p('GET', '/portal/event-types'));
    assert.deepEqual(types.map((x) => x.name).sort(), ['order.created', 'order.paid']);
    const oc = types.find((x) => x.name === 'order.created');
    assert.deepEqual(oc, { id: created.id, name: 'order.created', displayName: 'Order created', description: '', category: null,
        schema: '{"type":"object"}', examplePayload: '{"id":1}', documentationUrl: null });

    // subscriptions: the portal's switches, scoped
    const sub = ok(await p('POST', '/portal/subscriptions', { endpointId: ep.id, eventTypeId: oc.id }), 201);
    assert.equal(sub.eventTypeId, oc.id);
    assert.equal(sub.eventTypeName, 'order.created');
    assert.match(sub.createdAt, RFC3339);
    fails(await p('POST', '/portal/subscriptions', { endpointId: bEp.id, eventTypeId: oc.id }), 404);
    assert.deepEqual(ok(await p('GET', `/portal/subscriptions?endpointId=${ep.id}`)).map((x) => x.id), [sub.id]);
    assert.deepEqual(ok(await p('GET', '/portal/subscriptions')).map((x) => x.id), [sub.id], 'B\'s subscription is not listed');
    fails(await p('DELETE', `/portal/subscriptions/sub_${bEp.id}.${oc.id}`), 404);
    // one made through the API shows here too
    const apiSub = ok(await api('POST', '/api/webhook-subscriptions', { endpointId: ep.id, eventTypeId: 'order.paid' }), 201);
    assert.equal(ok(await p('GET', `/portal/subscriptions?endpointId=${ep.id}`)).length, 2);
    assert.equal((await p('DELETE', `/portal/subscriptions/${apiSub.id}`)).status, 204);

    // messages: deliveries of A only; status names; total; absolute endpointUrl
    const failEp = ok(await p('POST', '/portal/endpoints', { url: rcv.url('/fail') }), 201);
    ok(await p('POST', '/portal/subscriptions', { endpointId: failEp.id, eventTypeId: oc.id }), 201);
    const sentA = [];
    for (let i = 0; i < 3; i++) sentA.push(ok(await api('POST', '/api/send-event', { applicationId: a.id, eventType: 'order.created', payload: { i } }), 202));
    const sentB = ok(await api('POST', '/api/send-event', { applicationId: b.id, eventType: 'order.created', payload: { b: 1 } }), 202);
    await rcv.waitUntil(() => sentA.every((s) => rcv.requestsFor(s.eventId).length >= 1) && rcv.requestsFor(sentB.eventId).length === 1, { what: 'deliveries' });
    const all = await waitFor(async () => {
        const r = await p('GET', '/portal/messages?limit=50');
        const bodyOk = r.status === 200 && r.json.data.length === 6 && r.json.data.every((m) => m.status !== 'pending');
        return bodyOk ? r.json : null;
    }, { what: 'six finished messages' });
    assert.equal(all.total, 6);
    assert.equal(all.limit, 50);
    assert.equal(all.offset, 0);
    assert.deepEqual(Object.keys(all.data[0]).sort(), ['attempts', 'createdAt', 'endpointId', 'endpointUrl', 'eventType', 'id', 'lastAttemptAt', 'nextAttemptAt', 'status'].sort());
    assert.ok(all.data.every((m) => new URL(m.endpointUrl).origin === `http://127.0.0.1:${rcv.port}`));
    assert.ok(all.data.every((m) => m.endpointId !== bEp.id));
    assert.deepEqual(all.data.filter((m) => m.endpointId === failEp.id).map((m) => m.status), ['exhausted', 'exhausted', 'exhausted']);
    assert.deepEqual(all.data.filter((m) => m.endpointId === ep.id).map((m) => m.status), ['success', 'success', 'success']);
    const page = (await p('GET', '/portal/messages?limit=2&offset=2')).json;
    assert.equal(page.total, 6);
    assert.equal(page.offset, 2);
    assert.deepEqual(page.data.map((m) => m.id), all.data.slice(2, 4).map((m) => m.id));
    const failed = (await p('GET', `/portal/messages?endpointId=${failEp.id}&status=exhausted`)).json;
    assert.equal(failed.total, 3);
    assert.equal((await p('GET', '/portal/messages?status=success')).json.total, 3);
    const one = ok(await p('GET', `/portal/messages/${failed.data[0].id}`));
    assert.equal(one.status, 'exhausted');
    assert.equal(one.attempts, 2);
    const oneAttempts = ok(await p('GET', `/portal/messages/${one.id}/attempts`));
    assert.deepEqual(oneAttempts, ok(await api('GET', `/api/outbound-messages/${one.id}/attempts`)));
    assert.deepEqual(oneAttempts.map((a) => a.attemptNumber), [1, 2]);
    const bMsg = (await api('GET', `/api/outbound-messages?endpointId=${bEp.id}`)).json.data[0];
    fails(await p('GET', `/portal/messages/${bMsg.id}`), 404);
    fails(await p('GET', `/portal/messages/${bMsg.id}/attempts`), 404);
    fails(await p('POST', `/portal/messages/${bMsg.id}/replay`), 404);

    // bodiless POSTs (no body, no Content-Type): replay, replay-failed, rotate-secret, verify
    rcv.respond({ status: 200 });
    const rep = ok(await p('POST', `/portal/messages/${one.id}/replay`));
    assert.equal(rep.originalMessageId, one.id);
    assert.notEqual(rep.newMessageId, one.id);
    const rf = ok(await p('POST', `/portal/endpoints/${failEp.id}/replay-failed`));
    assert.equal(rf.replayed, 3);
    assert.equal(rf.newMessageIds.length, 3);
    await waitFor(async () => {
        const r = (await p('GET', `/portal/messages?endpointId=${failEp.id}&status=success`)).json;
        return r.total === 4;
    }, { what: 'replays delivered' });
    const rot = ok(await p('POST', `/portal/endpoints/${ep.id}/rotate-secret`));
    assert.match(rot.secret, /^whsec_/);
    assert.notEqual(rot.secret, ep.secret);
    rcv.respond({ status: 500, body: 'down' });
    const verBad = ok(await p('POST', `/portal/endpoints/${ep.id}/verify`));
    assert.equal(verBad.verified, false);
    assert.match(verBad.error, /500/);
    assert.equal(ok(await p('GET', `/portal/endpoints/${ep.id}`)).isVerified, false, 'a failed verify verifies nothing');
    rcv.respond({ status: 200 });
    const beforeVerify = Date.now();
    const ver = ok(await p('POST', `/portal/endpoints/${ep.id}/verify`));
    assert.deepEqual(ver, { verified: true });
    // the mark is written right after the answer (a fire-and-forget write)
    const marked = await waitFor(async () => {
        const e = ok(await p('GET', `/portal/endpoints/${ep.id}`));
        return e.isVerified ? e : null;
    }, { what: 'the endpoint marked verified' });
    assert.ok(Date.parse(marked.verifiedAt) >= beforeVerify - 1000, marked.verifiedAt);
    assert.equal(ok(await p('GET', '/portal/endpoints')).find((e) => e.id === ep.id).isVerified, true);
    assert.equal(ok(await p('PATCH', `/portal/endpoints/${ep.id}`, { description: 'same url' })).isVerified, true);
    const moved = ok(await p('PATCH', `/portal/endpoints/${ep.id}`, { url: rcv.url('/moved') }));
    assert.equal(moved.isVerified, false, 'a new URL is not verified');
    assert.equal(moved.verifiedAt, null);
    ok(await p('PATCH', `/portal/endpoints/${ep.id}`, { url: ep.url }));
    rcv.respond({ status: 500, body: 'down' });

    // test: unwrapped
    rcv.respond({ status: 200, body: 'hi' });
    const tr = await p('POST', `/portal/endpoints/${ep.id}/test`, { eventType: 'order.created' });
    assert.equal(tr.status, 200, tr.text);
    assert.equal(tr.json.data, undefined);
    assert.equal(tr.json.success, true);
    assert.equal(tr.json.testEvent.type, 'order.created');
    assert.match(tr.json.testEvent.timestamp, RFC3339);
    assert.equal(tr.json.delivery.status, 'success');
    assert.equal(tr.json.delivery.responseStatus, 200);
    assert.equal(tr.json.delivery.responseBody, 'hi');
    assert.equal(tr.json.signature.header, 'webhook-signature');
    const testRec = rcv.requests.find((r) => r.webhookId === tr.json.testEvent.id);
    assert.equal(tr.json.signature.value, testRec.headers['webhook-signature']);

    // delete
    assert.equal((await p('DELETE', `/portal/endpoints/${ep.id}`)).status, 204);
    fails(await p('GET', `/portal/endpoints/${ep.id}`), 404);
});
