// Delivery policies on /v1/endpoints (POLICIES.md §8): every field written and
// read back in its canonical form, secrets never returned, key pairs made for
// ed25519 and bridge-rsa, bad values named and changing nothing, the
// lifecycle fields (status, disabled_reason, disabled_at, circuit_state),
// url_locked_while_active, and a Svix PUT that keeps what Svix cannot show.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { RFC3339, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const url = (i) => `http://127.0.0.1:9/policy-${i}`;
const strip = ({ signing_key_id: _a, signing_secret: _b, key_hint: _c, updated_at: _d, ...rest }) => rest;

test('policies: written, read back canonical, secrets hidden, null resets', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({
        url: url(1),
        retry: { strategy: 'exponential', count: 3, interval_ms: 2000, status_codes: ['500-599', '!503', '429'] },
        delay_ms: 1500,
        deduplicate: { window_ms: 60000, include_fields: ['body.id'] },
        rate_limit: { rate: 10, period: 'minute' },
        max_concurrency: 4,
        fifo: true,
        http_method: 'PUT',
        transformation: '.body.seen = true',
        auth: { type: 'basic', username: 'ops', password: 'correct-horse-battery' },
        header_prefix: 'X-Acme-',
        svix_headers: true,
    });
    assert.deepEqual(ep.retry, { strategy: 'exponential', count: 3, interval_ms: 2000, status_codes: ['500-599', '!503', '429'] });
    assert.equal(ep.delay_ms, 1500);
    assert.equal(ep.deduplicate.window_ms, 60000);
    assert.deepEqual(ep.deduplicate.include_fields, ['body.id']);
    assert.deepEqual(ep.rate_limit, { rate: 10, period: 'minute' });
    assert.equal(ep.max_concurrency, 4);
    assert.equal(ep.fifo, true);
    assert.equal(ep.http_method, 'PUT');
    assert.equal(ep.transformation, '.body.seen = true');
    assert.equal(ep.auth.type, 'basic');
    assert.equal(ep.auth.username, 'ops');
    assert.equal(ep.auth.password, undefined, 'a secret is never read back');
    assert.equal(ep.auth.hint, 'tery');
    assert.equal(ep.header_prefix, 'X-Acme-');
    assert.equal(ep.svix_headers, true);
    assert.equal(ep.signature_scheme, 'standard');
    assert.equal(ep.public_key, null);
    assert.equal(ep.status, 'active');
    assert.equal(ep.circuit_state, 'closed');
    assert.ok(!JSON.stringify(await h.getEndpoint(ep.id)).includes('correct-horse'), 'GET never shows the password');

    // PATCH changes what it names; auth without its secret keeps the stored one.
    const patched = expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, {
        auth: { type: 'basic', username: 'ops2' }, fifo: null, retry: null, http_method: 'PATCH',
    })).data;
    assert.equal(patched.auth.username, 'ops2');
    assert.equal(patched.auth.hint, 'tery', 'the password stayed');
    assert.equal(patched.fifo, false, 'null goes back to the default');
    assert.equal(patched.retry, null);
    assert.equal(patched.http_method, 'PATCH');
    assert.equal(patched.max_concurrency, 4, 'members not named are kept');

    // A PUT through the Svix surface replaces what Svix shows and keeps the policies.
    const { v2 } = clients(h);
    await v2.endpoint.upsert('default', ep.id, { url: url(2) });
    const after = await h.getEndpoint(ep.id);
    assert.equal(after.url, url(2));
    assert.equal(after.max_concurrency, 4);
    assert.equal(after.auth.username, 'ops2');
});

test('policies: every bad value is a 400 naming the field, and nothing changes', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: url(1), fifo: true, auth: { type: 'bearer', token: 'tok-abcdef' } });
    const before = strip(await h.getEndpoint(ep.id));
    const bad = [
        [{ retry: { strategy: 'zigzag' } }, /retry\.strategy/],
        [{ retry: { strategy: 'linear', count: 51, interval_ms: 1000 } }, /retry\.count/],
        [{ retry: { strategy: 'linear', count: 2, interval_ms: 10 } }, /retry\.interval_ms/],
        [{ retry: { status_codes: ['5xx'] } }, /retry\.status_codes/],
        [{ delay_ms: -1 }, /delay_ms/],
        [{ deduplicate: { window_ms: 10 } }, /deduplicate/],
        [{ rate_limit: { rate: 5, period: 'day' } }, /rate_limit\.period/],
        [{ rate_limit: { rate: 0, period: 'second' } }, /rate_limit\.rate/],
        [{ max_concurrency: 0 }, /max_concurrency/],
        [{ fifo: 'yes' }, /fifo/],
        [{ http_method: 'GET' }, /http_method/],
        [{ transformation: '' }, /transformation/],
        [{ auth: { type: 'kerberos' } }, /auth\.type/],
        [{ auth: { type: 'basic', username: 'u' } }, /auth\.password/],
        [{ auth: { type: 'api_key', name: 'Content-Type', key: 'k' } }, /auth\.name/],
        [{ auth: { type: 'oauth2_client_credentials', token_url: 'ftp://x', client_id: 'c', client_secret: 's' } }, /auth\.token_url/],
        [{ signature_scheme: 'rsa' }, /signature_scheme/],
        [{ header_prefix: 'webhook-' }, /header_prefix/],
        [{ svix_headers: 1 }, /svix_headers/],
        [{ status: 'gone' }, /status/],
        [{ url_locked_while_active: 'no' }, /url_locked_while_active/],
    ];
    for (const [body, re] of bad) {
        const err = expectError(await h.api('PATCH', `/v1/endpoints/${ep.id}`, body), 400, 'INVALID_REQUEST');
        assert.match(err.message, re, JSON.stringify(body));
        expectError(await h.api('POST', '/v1/endpoints', { url: url(9), ...body }), 400);
    }
    assert.deepEqual(strip(await h.getEndpoint(ep.id)), before, 'nothing changed');
    assert.equal((await h.listAllEndpoints()).length, 1, 'nothing was made');
});

test('signature schemes: key pairs made and shown public only; none is hmac_enabled false', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ed = await h.createEndpoint({ url: url(1), signature_scheme: 'ed25519' });
    assert.match(ed.public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(ed.public_key.slice(5), 'base64').length, 32);
    const rsa = await h.createEndpoint({ url: url(2), signature_scheme: 'bridge-rsa' });
    assert.match(rsa.public_key, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(crypto.createPublicKey(rsa.public_key).asymmetricKeyDetails.modulusLength, 2048);
    assert.ok(!/PRIVATE/.test(JSON.stringify(await h.getEndpoint(rsa.id))));
    // The key pair stays while the scheme stays; a new scheme makes a new one.
    const same = expectOk(await h.api('PATCH', `/v1/endpoints/${ed.id}`, { signature_scheme: 'ed25519', fifo: true })).data;
    assert.equal(same.public_key, ed.public_key);
    const none = expectOk(await h.api('PATCH', `/v1/endpoints/${ed.id}`, { signature_scheme: 'none' })).data;
    assert.equal(none.hmac_enabled, false);
    assert.equal(none.public_key, null);
    const again = expectOk(await h.api('PATCH', `/v1/endpoints/${ed.id}`, { signature_scheme: 'ed25519' })).data;
    assert.notEqual(again.public_key, ed.public_key);
    assert.equal(again.hmac_enabled, true);
    const back = expectOk(await h.api('PATCH', `/v1/endpoints/${ed.id}`, { hmac_enabled: true })).data;
    assert.equal(back.signature_scheme, 'standard', 'hmac_enabled picks standard over a stored scheme');
    const off = expectOk(await h.api('PATCH', `/v1/endpoints/${ed.id}`, { hmac_enabled: false })).data;
    assert.equal(off.signature_scheme, 'none');
});

test('lifecycle: created disabled (manual), enabled again; url_locked_while_active', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: url(1), status: 'disabled', url_locked_while_active: true });
    assert.equal(ep.status, 'disabled');
    assert.equal(ep.disabled, true);
    assert.equal(ep.disabled_reason, 'manual');
    assert.match(ep.disabled_at, RFC3339);
    // Disabled: the URL may change.
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { url: url(2) }));
    const on = expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { status: 'active' })).data;
    assert.equal(on.disabled, false);
    assert.equal(on.disabled_reason, null);
    assert.equal(on.disabled_at, null);
    // Active: the URL is locked (the same URL is no change).
    const err = expectError(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { url: url(3) }), 409, 'URL_LOCKED');
    assert.match(err.message, /disabled/);
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { url: url(2), description: 'same url' }));
    assert.equal((await h.getEndpoint(ep.id)).url, url(2));
    // The endpoint must be disabled before the change, not by the same request.
    expectError(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { disabled: true, url: url(3) }), 409, 'URL_LOCKED');
    assert.equal((await h.getEndpoint(ep.id)).disabled, false, 'the refused request changed nothing');
});
