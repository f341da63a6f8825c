// Per-key API rate limit (docs/api.md "API keys"): a token bucket per key,
// X-RateLimit-* headers on every authenticated /v1 response, 429 RATE_LIMITED
// with Retry-After when empty; /healthz and /metrics are not limited, and a
// 401 costs nobody a token. Off by default (--api-rate-limit 0).
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };
const LIMITED = { extraArgs: ['--api-rate-limit', '60', '--api-burst', '3'] };

function rateHeaders(res) {
    const h = res.headers;
    for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
        assert.match(h[name] ?? '', /^\d+$/, `${name} on ${res.method} ${res.path} -> ${res.status}`);
    }
    return {
        limit: Number(h['x-ratelimit-limit']),
        remaining: Number(h['x-ratelimit-remaining']),
        reset: Number(h['x-ratelimit-reset']),
    };
}

test('rate limit: burst 3 at 60/min → the 4th rapid request is 429 RATE_LIMITED with Retry-After', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd(LIMITED);

    const seen = [];
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
        const res = await h.api('GET', '/v1/api-keys');
        expectOk(res);
        seen.push(rateHeaders(res));
    }
    assert.deepEqual(seen.map((x) => x.limit), [60, 60, 60]);
    // Refill is 1 token/s, so after three rapid calls at most one came back.
    assert.ok(seen[0].remaining === 2 && seen[2].remaining <= 1, JSON.stringify(seen));
    // Each reset is "when the bucket is full again", a few seconds after its own
    // request: bound it by the time before the first request (not after the
    // last, which a slow sanitizer build can push past the first's reset).
    const nowS = Date.now() / 1000;
    for (const x of seen)
        assert.ok(x.reset >= Math.floor(started / 1000) && x.reset <= nowS + 5, `reset ${x.reset}`);

    let limited;
    const fourth = await h.api('GET', '/v1/api-keys');
    if (Date.now() - started < 900) {
        // No token can have come back yet (1 per second): the 4th must be refused.
        limited = fourth;
    } else {
        // A very slow run (sanitizers) may have earned a token back: keep going.
        for (let i = 0; i < 5 && fourth.status !== 429 && !limited; i++) {
            const res = await h.api('GET', '/v1/api-keys');
            if (res.status === 429) limited = res;
        }
        limited ??= fourth;
    }
    expectError(limited, 429, 'RATE_LIMITED');
    const ra = limited.headers['retry-after'];
    assert.match(ra ?? '', /^\d+$/, 'Retry-After is integer seconds');
    assert.ok(Number(ra) >= 1 && Number(ra) <= 60, `Retry-After ${ra}`);
    const rh = rateHeaders(limited);
    assert.equal(rh.limit, 60);
    assert.equal(rh.remaining, 0);

    // Not limited: /healthz, /metrics; and no rate headers there.
    for (let i = 0; i < 5; i++) {
        const hz = await h.healthz();
        assert.equal(hz.status, 200);
        assert.equal(hz.headers['x-ratelimit-limit'], undefined);
        const m = await h.api('GET', '/metrics', undefined, { key: null });
        assert.equal(m.status, 200);
    }
});

test('rate limit: buckets are per key, and a 401 is not counted', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd(LIMITED);
    const other = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 201).data.key;

    // Unknown keys hammer the server: 401 every time, no rate headers, nobody's bucket.
    for (let i = 0; i < 6; i++) {
        const res = await h.api('GET', '/v1/api-keys', undefined, { key: 'hk_live_' + 'f'.repeat(40) });
        expectError(res, 401, 'UNAUTHORIZED');
        assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
    // The other key has its full burst.
    const first = await h.api('GET', '/v1/api-keys', undefined, { key: other });
    expectOk(first);
    assert.equal(rateHeaders(first).remaining, 2);
    // Exhaust the bootstrap key (its create call above used one token).
    let limited = false;
    for (let i = 0; i < 6 && !limited; i++) limited = (await h.api('GET', '/v1/api-keys')).status === 429;
    assert.ok(limited, 'bootstrap key is limited');
    // The other key is unaffected.
    expectOk(await h.api('GET', '/v1/api-keys', undefined, { key: other }));
});

test('rate limit: off by default (issue 6: it must never throttle production traffic)', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    for (let i = 0; i < 5; i++) {
        const res = await h.api('GET', '/v1/api-keys');
        expectOk(res);
        assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
});

test('rate limit: with --api-rate-limit set, error responses of authenticated requests carry the headers', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--api-rate-limit', '1000'] });
    const res = await h.api('GET', '/v1/api-keys');
    expectOk(res);
    const x = rateHeaders(res);
    assert.equal(x.limit, 1000);
    assert.ok(x.remaining >= 990 && x.remaining <= 999, `remaining ${x.remaining}`);
    const nf = await h.api('GET', '/v1/endpoints/ep_' + '0'.repeat(32));
    expectError(nf, 404);
    rateHeaders(nf);
});

test('rate limit: --api-rate-limit 0 turns it off (no headers, never 429)', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--api-rate-limit', '0', '--api-burst', '1'] });
    for (let i = 0; i < 5; i++) {
        const res = await h.api('GET', '/v1/api-keys');
        expectOk(res);
        assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
});
