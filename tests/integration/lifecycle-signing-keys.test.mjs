// Endpoint signing keys (API.md §3.6, checklist 28, 19 and 9): create / list /
// delete with at most two active keys and never zero; while two are active
// every delivery carries a signature from each key in both header families;
// rotation (add new, delete old) leaves only the new key's signatures.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { setup, setupDelivery, phpPost } from './lib/hookd.mjs';
import { RFC3339, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };
const UNKNOWN_EP = 'ep_' + '0'.repeat(32);


async function createKey(h, epId) {
    const res = expectOk(await phpPost(h, `/v1/endpoints/${epId}/signing-keys`), 201);
    const k = res.data;
    assert.deepEqual(Object.keys(k).sort(), ['created_at', 'id', 'key_hint', 'signing_secret']);
    assert.match(k.id, /^sk_[0-9a-f]+$/);
    assert.match(k.signing_secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(k.signing_secret.slice(6), 'base64').length, 24);
    assert.equal(k.key_hint, k.signing_secret.slice(-4));
    assert.match(k.created_at, RFC3339);
    return k;
}

async function listKeys(h, epId) {
    const res = expectOk(await h.api('GET', `/v1/endpoints/${epId}/signing-keys`));
    assert.ok(Array.isArray(res.data));
    assert.deepEqual(Object.keys(res.meta), ['request_id'], 'a plain list: no paging meta');
    for (const k of res.data) {
        assert.deepEqual(Object.keys(k).sort(), ['created_at', 'id', 'key_hint']);
        assert.match(k.created_at, RFC3339);
    }
    return res.data;
}

const hexSig = (secret, ts, body) =>
    'sha256=' + crypto.createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${ts}.`), body])).digest('hex');

const v1Sig = (secret, id, ts, body) =>
    'v1,' + crypto.createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
        .update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).digest('base64');

/** Asserts that req is signed by exactly the given secrets, in both header families. */
function assertSignedBy(req, secrets) {
    const ts = req.headers['x-webhook-timestamp'];
    const hb = req.headers['x-webhook-signature'].split(',');
    assert.equal(hb.length, secrets.length, `X-Webhook-Signature: ${req.headers['x-webhook-signature']}`);
    for (const s of hb) assert.match(s, /^sha256=[0-9a-f]{64}$/);
    assert.deepEqual([...hb].sort(), secrets.map((s) => hexSig(s, ts, req.body)).sort());

    const sw = req.headers['webhook-signature'].split(' ');
    assert.equal(sw.length, secrets.length, `webhook-signature: ${req.headers['webhook-signature']}`);
    for (const s of sw) assert.match(s, /^v1,[A-Za-z0-9+/]+=*$/);
    const id = req.headers['webhook-id'];
    const wts = req.headers['webhook-timestamp'];
    assert.deepEqual([...sw].sort(), secrets.map((s) => v1Sig(s, id, wts, req.body)).sort());
    // The reference verifier accepts the delivery with each secret on its own.
    for (const s of secrets) assert.deepEqual(new Webhook(s).verify(req.body, req.headers), JSON.parse(req.text));
}

async function deliver(h, rcv, epId, payload) {
    const before = rcv.requests.length;
    const { message_id } = await h.send({ endpoint_id: epId, payload });
    await rcv.waitForRequests(before + 1);
    const req = rcv.requestsFor(message_id)[0];
    assert.ok(req, `delivery of ${message_id}`);
    return req;
}

test('checklist 28: signing keys create / list / delete, at most two active, never the last', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver();
    const ep = await h.createEndpoint({ url: rcv.url('/a') });
    const otherEp = await h.createEndpoint({ url: rcv.url('/b') });

    const initial = await listKeys(h, ep.id);
    assert.equal(initial.length, 1);
    assert.equal(initial[0].id, ep.signing_key_id);
    assert.equal(initial[0].key_hint, ep.signing_secret.slice(-4));
    assert.equal(initial[0].signing_secret, undefined);

    const second = await createKey(h, ep.id);
    assert.notEqual(second.signing_secret, ep.signing_secret);
    const both = await listKeys(h, ep.id);
    assert.deepEqual(both.map((k) => k.id), [ep.signing_key_id, second.id], 'oldest first');
    assert.equal(both[1].key_hint, second.key_hint);
    assert.equal(both[1].created_at, second.created_at);
    assert.ok(!JSON.stringify(both).includes('whsec_'), 'list never shows secrets');

    // A third active key is refused and nothing changes.
    expectError(await phpPost(h, `/v1/endpoints/${ep.id}/signing-keys`), 409, 'SIGNING_KEY_LIMIT');
    assert.equal((await listKeys(h, ep.id)).length, 2);

    // Unknown key, a key of another endpoint: 404, nothing deleted.
    expectError(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/sk_${'0'.repeat(24)}`), 404, 'SIGNING_KEY_NOT_FOUND');
    expectError(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${otherEp.signing_key_id}`), 404, 'SIGNING_KEY_NOT_FOUND');
    expectError(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${'k'.repeat(200)}`), 404, 'SIGNING_KEY_NOT_FOUND');
    assert.equal((await listKeys(h, ep.id)).length, 2);
    assert.equal((await listKeys(h, otherEp.id)).length, 1);

    const del = expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${ep.signing_key_id}`));
    assert.deepEqual(del.data, { id: ep.signing_key_id, deleted: true });
    assert.deepEqual((await listKeys(h, ep.id)).map((k) => k.id), [second.id]);
    // Deleted twice: it is no longer an active key.
    expectError(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${ep.signing_key_id}`), 404, 'SIGNING_KEY_NOT_FOUND');

    // The last active key cannot be deleted.
    expectError(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${second.id}`), 409, 'LAST_SIGNING_KEY');
    assert.deepEqual((await listKeys(h, ep.id)).map((k) => k.id), [second.id]);

    // With one slot free again, a new key can be added.
    const third = await createKey(h, ep.id);
    assert.deepEqual((await listKeys(h, ep.id)).map((k) => k.id), [second.id, third.id]);
});

test('checklist 19: with two active keys every delivery carries both signatures, in both header families', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, { receiver: [{ status: 500 }, { status: 200 }] });
    const second = await createKey(h, ep.id);
    const secrets = [ep.signing_secret, second.signing_secret];
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { rotate: 'both', n: 1 } });
    const reqs = await rcv.waitForRequests(2); // a failed attempt and its retry: each signed afresh
    await h.waitForMessage(message_id, 'succeeded');
    for (const req of reqs) {
        assert.equal(req.webhookId, message_id);
        assertSignedBy(req, secrets);
    }
});

test('signing-key rotation: add a key, delete the old one, deliveries carry only the new key', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const oldSecret = ep.signing_secret;

    const r1 = await deliver(h, rcv, ep.id, { step: 1 });
    assertSignedBy(r1, [oldSecret]);

    const next = await createKey(h, ep.id);
    const r2 = await deliver(h, rcv, ep.id, { step: 2 });
    assertSignedBy(r2, [oldSecret, next.signing_secret]);

    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${ep.signing_key_id}`));
    const r3 = await deliver(h, rcv, ep.id, { step: 3 });
    assertSignedBy(r3, [next.signing_secret]);
    assert.throws(() => new Webhook(oldSecret).verify(r3.body, r3.headers), 'the retired key no longer verifies');
});

test('signing keys survive a restart', T, async (t) => {
    const { env, h, rcv, ep } = await setupDelivery(t);
    const next = await createKey(h, ep.id);
    assert.equal((await h.stop('SIGTERM')).code, 0);
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    assert.deepEqual((await listKeys(h2, ep.id)).map((k) => k.id), [ep.signing_key_id, next.id]);
    assertSignedBy(await deliver(h2, rcv, ep.id, { after: 'restart' }), [ep.signing_secret, next.signing_secret]);
});

test('checklist 9: signing-keys create accepts a body-less POST declaring JSON, {} and null', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const k = await createKey(h, ep.id); // PHP style (see createKey)
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${k.id}`));
    const k2 = expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`), 201).data; // Go: no body
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${k2.id}`));
    const k3 = expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`, {}), 201).data;
    expectOk(await h.api('DELETE', `/v1/endpoints/${ep.id}/signing-keys/${k3.id}`));
    expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`, null), 201);
    // A body that is not JSON (or not an object) is refused and creates nothing.
    const before = (await listKeys(h, ep.id)).length;
    expectError(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`, undefined, { raw: '{' }), 400, 'INVALID_REQUEST');
    expectError(await h.api('POST', `/v1/endpoints/${ep.id}/signing-keys`, 'text'), 400, 'INVALID_REQUEST');
    assert.equal((await listKeys(h, ep.id)).length, before);
});

test('signing keys: unknown, deleted and other-mode endpoints are 404 ENDPOINT_NOT_FOUND', T, async (t) => {
    const env = await setup(t);
    const dir = env.dataDir();
    const { live: liveKey, test: testKey } = await env.createKeys(dir);
    const h = await env.startHookd({ dataDir: dir, bootstrapKey: liveKey });
    const rcv = await env.startReceiver();
    const ep = await h.createEndpoint({ url: rcv.url('/live') });
    const gone = await h.createEndpoint({ url: rcv.url('/gone') });
    expectOk(await h.api('DELETE', `/v1/endpoints/${gone.id}`));

    const calls = (id, key) => [
        h.api('POST', `/v1/endpoints/${id}/signing-keys`, undefined, { key }),
        h.api('GET', `/v1/endpoints/${id}/signing-keys`, undefined, { key }),
        h.api('DELETE', `/v1/endpoints/${id}/signing-keys/sk_${'0'.repeat(24)}`, undefined, { key }),
    ];
    for (const [id, key] of [[UNKNOWN_EP, liveKey], [gone.id, liveKey], [ep.id, testKey], ['x'.repeat(300), liveKey]]) {
        for (const res of await Promise.all(calls(id, key))) expectError(res, 404, 'ENDPOINT_NOT_FOUND');
    }
    // The other mode could neither add nor remove keys.
    assert.deepEqual((await listKeys(h, ep.id)).map((k) => k.id), [ep.signing_key_id]);
});
