// A portal token stops working when it expires (TENANCY.md §6): a magic link of
// one minute answers 401 (JSON, with CORS) once the minute is over. Kept apart:
// it waits a minute of real time.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { hookbase, ok, fails } from './lib/hookbase.mjs';
import { scaled, waitFor } from './lib/util.mjs';

test('hookbase magic link: 401 with CORS once expired', { timeout: scaled(120_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const api = hookbase(h);
    ok(await api('POST', '/api/webhook-applications', { name: 'Acme', externalId: 'acme' }), 201);
    const link = ok(await api('POST', '/api/portal/webhook-applications/acme/magic-link', { expiresInMinutes: 1 }), 201);
    const expiresAt = Date.parse(link.expiresAt);
    const portal = hookbase(h, link.token);
    const origin = { headers: { origin: 'https://app.example.com' } };
    ok(await portal('GET', '/portal/application', undefined, origin));
    const after = await waitFor(async () => {
        const r = await portal('GET', '/portal/application', undefined, origin);
        return r.status === 401 ? r : null;
    }, { timeout: 90_000, interval: 500, what: 'the magic link to expire' });
    assert.ok(Date.now() >= expiresAt - 1000, 'not before its expiresAt');
    const e = fails(after, 401, 'UNAUTHORIZED');
    assert.match(e.message, /expired/);
    assert.equal(after.headers['access-control-allow-origin'], '*');
});
