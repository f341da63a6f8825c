// Delivery policies at work, against real loopback receivers (POLICIES.md
// §1-§5): HTTP method, destination auth (bearer, basic, api_key in header and
// query, custom_hmac, oauth2 client credentials with a local token server and
// the refresh after a 401), signature schemes verified with Node's crypto
// (ed25519 `v1a`, bridge-rsa), header prefixes and the svix-* family, retry
// policies (status codes not retried, linear count), delay_ms, fifo's one
// attempt in flight, a rate per period, and a disabled endpoint holding its
// messages until it is enabled.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { setup } from './lib/hookd.mjs';
import { expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

async function endpoint(h, rcv, path, fields) {
    return h.createEndpoint({ url: rcv.url(path), ...fields });
}

test('http_method and every static destination auth reach the receiver', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const cases = [
        ['/put', { http_method: 'PUT', auth: { type: 'bearer', token: 'tok-123' } }],
        ['/basic', { auth: { type: 'basic', username: 'ops', password: 'p@ss:word' } }],
        ['/key', { auth: { type: 'api_key', name: 'X-Api-Key', key: 'k-42' } }],
        ['/query?x=1', { http_method: 'PATCH', auth: { type: 'api_key', name: 'token', key: 'a b&c', to: 'query' } }],
        ['/hmac', { auth: { type: 'custom_hmac', header: 'X-Sig', secret: 'shh', encoding: 'base64' } }],
    ];
    const eps = [];
    for (const [p, f] of cases) eps.push(await endpoint(h, rcv, p, f));
    const sent = [];
    for (const ep of eps) sent.push(await h.send({ endpoint_id: ep.id, payload: { to: ep.url } }));
    for (const s of sent) await h.waitForMessage(s.message_id, 'succeeded');
    const by = (p) => rcv.requests.find((r) => r.path === p || r.path.startsWith(p + '?') || r.path.startsWith(p + '&'));
    const put = by('/put');
    assert.equal(put.method, 'PUT');
    assert.equal(put.headers.authorization, 'Bearer tok-123');
    assert.equal(by('/basic').method, 'POST');
    assert.equal(by('/basic').headers.authorization, 'Basic ' + Buffer.from('ops:p@ss:word').toString('base64'));
    assert.equal(by('/key').headers['x-api-key'], 'k-42');
    const q = rcv.requests.find((r) => r.path.startsWith('/query'));
    assert.equal(q.method, 'PATCH');
    assert.equal(new URL(q.path, 'http://x').searchParams.get('token'), 'a b&c');
    assert.equal(new URL(q.path, 'http://x').searchParams.get('x'), '1');
    const hm = by('/hmac');
    assert.equal(hm.headers['x-sig'], crypto.createHmac('sha256', 'shh').update(hm.body).digest('base64'));
    // Attempts record no secret.
    const atts = expectOk(await h.api('GET', `/v1/messages/${sent[0].message_id}/attempts`)).data;
    assert.ok(!JSON.stringify(atts).includes('tok-123'), 'the bearer token is not in the attempt record');
});

test('oauth2_client_credentials: token fetched once, cached, refreshed after a 401', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    let issued = 0;
    const forms = [];
    const tokenServer = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
            forms.push({ auth: req.headers.authorization, body });
            issued++;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600 }));
        });
    });
    await new Promise((r) => tokenServer.listen(0, '127.0.0.1', r));
    t.after(() => tokenServer.close());
    const tokenUrl = `http://127.0.0.1:${tokenServer.address().port}/token`;
    // The receiver refuses the first token it sees once, then accepts.
    let refusedOnce = false;
    const rcv = await env.startReceiver((rec) => {
        if (rec.headers.authorization === 'Bearer at-1' && !refusedOnce) {
            refusedOnce = true;
            return { status: 401 };
        }
        return { status: 200 };
    });
    const ep = await endpoint(h, rcv, '/oauth', {
        auth: { type: 'oauth2_client_credentials', token_url: tokenUrl, client_id: 'cid', client_secret: 'csec', scope: 'hooks', client_auth: 'basic' },
    });
    const a = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    await h.waitForMessage(a.message_id, 'succeeded');
    const b = await h.send({ endpoint_id: ep.id, payload: { n: 2 } });
    await h.waitForMessage(b.message_id, 'succeeded');
    assert.equal(issued, 2, 'one token, one refresh after the 401, then the cache');
    assert.equal(forms[0].auth, 'Basic ' + Buffer.from('cid:csec').toString('base64'));
    assert.match(forms[0].body, /grant_type=client_credentials/);
    assert.match(forms[0].body, /scope=hooks/);
    assert.deepEqual(rcv.requests.map((r) => r.headers.authorization), ['Bearer at-1', 'Bearer at-2', 'Bearer at-2']);
    const atts = expectOk(await h.api('GET', `/v1/messages/${a.message_id}/attempts`)).data;
    assert.equal(atts.length, 2);
});

test('signature schemes: ed25519 and bridge-rsa verify with Node crypto; prefix and svix-* headers', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ed = await endpoint(h, rcv, '/ed', { signature_scheme: 'ed25519', svix_headers: true });
    const rsa = await endpoint(h, rcv, '/rsa', { signature_scheme: 'bridge-rsa' });
    const pre = await endpoint(h, rcv, '/pre', { header_prefix: 'X-Acme-' });
    const none = await endpoint(h, rcv, '/none', { signature_scheme: 'none' });
    for (const ep of [ed, rsa, pre, none]) {
        const s = await h.send({ endpoint_id: ep.id, payload: { scheme: ep.url } });
        await h.waitForMessage(s.message_id, 'succeeded');
    }
    const req = (p) => rcv.requests.find((r) => r.path === p);
    // ed25519: v1a over "<id>.<ts>.<body>"
    const e = req('/ed');
    const [ver, sig] = e.headers['webhook-signature'].split(',');
    assert.equal(ver, 'v1a');
    const raw = Buffer.from(ed.public_key.slice(5), 'base64');
    const pub = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    const signed = `${e.headers['webhook-id']}.${e.headers['webhook-timestamp']}.${e.text}`;
    assert.ok(crypto.verify(null, Buffer.from(signed), pub, Buffer.from(sig, 'base64')), 'v1a verifies');
    assert.equal(e.headers['svix-id'], e.headers['webhook-id']);
    assert.equal(e.headers['svix-signature'], e.headers['webhook-signature']);
    // bridge-rsa: t=<ms>,v0=<RSASSA-PKCS1-v1_5 SHA-256 over sha256("<t>.<body>")>
    const r = req('/rsa');
    const m = /^t=(\d+),v0=(.+)$/.exec(r.headers['x-webhook-signature']);
    assert.ok(m, r.headers['x-webhook-signature']);
    const digest = crypto.createHash('sha256').update(`${m[1]}.${r.text}`).digest();
    assert.ok(crypto.verify('sha256', digest, rsa.public_key, Buffer.from(m[2], 'base64')), 'bridge-rsa verifies');
    // header prefix: X-Acme-* instead of X-Webhook-*, webhook-* stays
    const p = req('/pre');
    assert.ok(p.headers['x-acme-signature']?.startsWith('sha256='));
    assert.equal(p.headers['x-acme-id'], p.headers['webhook-id']);
    assert.equal(p.headers['x-webhook-signature'], undefined);
    assert.match(p.headers['webhook-signature'], /^v1,/);
    // none: ids only
    const n = req('/none');
    assert.equal(n.headers['webhook-signature'], undefined);
    assert.ok(n.headers['webhook-id']);
});

test('retry policy: an excluded status ends the message at once; linear count bounds the attempts', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver((rec) => (rec.path === '/gone' ? { status: 404 } : { status: 500 }));
    const strict = await endpoint(h, rcv, '/gone', { retry: { strategy: 'linear', count: 5, interval_ms: 1000, status_codes: ['>=500'] } });
    const lin = await endpoint(h, rcv, '/lin', { retry: { strategy: 'linear', count: 2, interval_ms: 1000 } });
    const a = await h.send({ endpoint_id: strict.id, payload: {} });
    const b = await h.send({ endpoint_id: lin.id, payload: {} });
    await h.waitForMessage(a.message_id, 'failed_permanent');
    assert.equal(rcv.requests.filter((r) => r.path === '/gone').length, 1, '404 is not retried under >=500');
    await h.waitForMessage(b.message_id, 'failed_permanent', scaled(20_000));
    const times = rcv.requests.filter((r) => r.path === '/lin').map((r) => r.receivedAt);
    assert.equal(times.length, 3, 'count 2 = three attempts');
    assert.ok(times[1] - times[0] >= 700, `linear waits about interval_ms (±20 %): ${times[1] - times[0]} ms`);
});

test('delay_ms, fifo one in flight, rate per period, and a disabled endpoint holding its messages', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    let inFlight = 0, maxInFlight = 0;
    const rcv = await env.startReceiver((rec) => {
        if (rec.path === '/fifo') {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            return { status: 200, delayMs: 50 };
        }
        return { status: 200 };
    });
    rcv.on('answered', (rec) => { if (rec.path === '/fifo') inFlight--; });
    const delayed = await endpoint(h, rcv, '/delay', { delay_ms: 1200 });
    const s = await h.send({ endpoint_id: delayed.id, payload: {} });
    const sentAt = Date.now();
    await h.waitForMessage(s.message_id, 'succeeded');
    const gap = rcv.requests.find((r) => r.path === '/delay').receivedAt - sentAt;
    assert.ok(gap >= 1000, `the first attempt waited delay_ms (${gap} ms)`);

    const fifo = await endpoint(h, rcv, '/fifo', { fifo: true });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await h.send({ endpoint_id: fifo.id, payload: { i } })).message_id);
    for (const id of ids) await h.waitForMessage(id, 'succeeded');
    assert.equal(maxInFlight, 1, 'fifo: one attempt in flight');
    assert.deepEqual(rcv.requests.filter((r) => r.path === '/fifo').map((r) => JSON.parse(r.text).i), [0, 1, 2, 3, 4, 5]);

    const slow = await endpoint(h, rcv, '/rate', { rate_limit: { rate: 2, period: 'minute' } });
    const r = [];
    for (let i = 0; i < 3; i++) r.push((await h.send({ endpoint_id: slow.id, payload: { i } })).message_id);
    await h.waitForMessage(r[0], 'succeeded');
    await h.waitForMessage(r[1], 'succeeded');
    const third = expectOk(await h.api('GET', `/v1/messages/${r[2]}`)).data;
    assert.equal(third.status, 'queued', 'the third waits for the period (not an attempt)');
    assert.equal(third.attempt_count ?? 0, 0);

    const off = await endpoint(h, rcv, '/off', { status: 'disabled' });
    const held = await h.send({ endpoint_id: off.id, payload: {} });
    await h.waitForMessage(s.message_id, 'succeeded'); // a turn of the loop elsewhere
    assert.equal(rcv.requests.filter((q) => q.path === '/off').length, 0, 'a disabled endpoint receives nothing');
    expectOk(await h.api('PATCH', `/v1/endpoints/${off.id}`, { status: 'active' }));
    await h.waitForMessage(held.message_id, 'succeeded');
});

test('a 410 Gone disables the endpoint (reason gone); its messages wait until it is enabled', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 410 });
    const ep = await endpoint(h, rcv, '/gone', {});
    const a = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    await rcv.waitForRequests(1);
    const off = await waitFor(async () => {
        const e = await h.getEndpoint(ep.id);
        return e.disabled ? e : null;
    }, { what: 'the endpoint disabled' });
    assert.equal(off.disabled_reason, 'gone');
    assert.equal(off.status, 'disabled');
    const b = await h.send({ endpoint_id: ep.id, payload: { n: 2 } });
    assert.equal(expectOk(await h.api('GET', `/v1/messages/${b.message_id}`)).data.status, 'queued');
    assert.equal(rcv.requests.length, 1, 'nothing more is sent while disabled');
    rcv.respond({ status: 200 });
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { status: 'active' }));
    await h.waitForMessage(a.message_id, 'succeeded');
    await h.waitForMessage(b.message_id, 'succeeded');
});

test('fifo: a failing head holds the endpoint\'s later messages until its retry succeeds', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    let failed = false;
    const rcv = await env.startReceiver((rec) => {
        if (!failed && JSON.parse(rec.text).i === 0) {
            failed = true;
            return { status: 500 };
        }
        return { status: 200 };
    });
    const ep = await endpoint(h, rcv, '/fifo', { fifo: true, retry: { strategy: 'linear', count: 3, interval_ms: 1000 } });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of ids) await h.waitForMessage(id, 'succeeded', scaled(20_000));
    assert.deepEqual(rcv.requests.map((r) => [JSON.parse(r.text).i, r.answered]), [[0, 500], [0, 200], [1, 200], [2, 200], [3, 200]]);
});

test('--header-prefix renames the HookBridge headers of every endpoint; an endpoint may override it', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--header-prefix', 'X-Acme-', '--user-agent', 'acme-hooks/2'] });
    const rcv = await env.startReceiver({ status: 200 });
    const plain = await endpoint(h, rcv, '/plain', {});
    const own = await endpoint(h, rcv, '/own', { header_prefix: 'X-Own-' });
    for (const ep of [plain, own]) {
        const s = await h.send({ endpoint_id: ep.id, payload: {} });
        await h.waitForMessage(s.message_id, 'succeeded');
    }
    const p = rcv.requests.find((r) => r.path === '/plain');
    assert.match(p.headers['x-acme-signature'], /^sha256=[0-9a-f]{64}$/);
    assert.equal(p.headers['x-acme-id'], p.headers['webhook-id']);
    assert.ok(p.headers['x-acme-timestamp']);
    assert.equal(p.headers['x-webhook-id'], undefined);
    assert.equal(p.headers['user-agent'], 'acme-hooks/2');
    const o = rcv.requests.find((r) => r.path === '/own');
    assert.ok(o.headers['x-own-signature']);
    assert.equal(o.headers['x-acme-signature'], undefined);
    // HMAC of the HookBridge family: the whole secret over "<ts>.<body>"
    const mac = crypto.createHmac('sha256', plain.signing_secret).update(`${p.headers['x-acme-timestamp']}.${p.text}`).digest('hex');
    assert.equal(p.headers['x-acme-signature'], `sha256=${mac}`);
});

test('circuit breaker: opens after failures of distinct messages, holds the rest, probes, closes; reset-circuit', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--circuit-failures', '3', '--circuit-cooldown', '1s', '--max-attempts', '8'], retrySlow: '100ms', retryFast: '100ms' });
    const rcv = await env.startReceiver({ status: 500 });
    const ep = await endpoint(h, rcv, '/cb', {});
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    const open = await waitFor(async () => {
        const e = await h.getEndpoint(ep.id);
        return e.circuit_state === 'open' ? e : null;
    }, { what: 'the circuit open' });
        assert.ok(open.circuit_opened_at);
    const gauge = async () => {
        const text = (await h.api('GET', '/metrics', undefined, { key: null })).text;
        return Number(/^hookd_circuits_open (\d+)$/m.exec(text)?.[1]);
    };
    await waitFor(async () => (await gauge()) === 1, { what: 'hookd_circuits_open 1', interval: 250 });
    const before = rcv.requests.length;
    // Open: the messages wait (no attempts) until the 1 s cool-down, then one probe.
    await rcv.waitForRequests(before + 1, { timeout: 5000 });
    const probeAt = rcv.requests[before].receivedAt;
    assert.ok(probeAt - rcv.requests[before - 1].receivedAt >= 800, 'the probe came after the cool-down');
    rcv.respond({ status: 200 });
    for (const id of ids) await h.waitForMessage(id, 'succeeded', scaled(20_000));
    const closed = await waitFor(async () => {
        const e = await h.getEndpoint(ep.id);
        return e.circuit_state === 'closed' ? e : null;
    }, { what: 'the circuit closed' });
    assert.equal(closed.circuit_opened_at, null);

    // A single message's own retries do not open it.
    rcv.respond([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 }]);
    const one = await h.send({ endpoint_id: ep.id, payload: { solo: true } });
    await h.waitForMessage(one.message_id, 'succeeded');
    assert.equal((await h.getEndpoint(ep.id)).circuit_state, 'closed');

    // reset-circuit closes it at once.
    rcv.respond({ status: 500 });
    for (let i = 0; i < 3; i++) await h.send({ endpoint_id: ep.id, payload: { again: i } });
    await waitFor(async () => (await h.getEndpoint(ep.id)).circuit_state === 'open', { what: 'open again' });
    rcv.respond({ status: 200 });
    const res = expectOk(await h.api('POST', `/v1/endpoints/${ep.id}/reset-circuit`));
    assert.deepEqual(res.data, { id: ep.id, circuit_state: 'closed' });
    assert.equal((await h.getEndpoint(ep.id)).circuit_state, 'closed');
});

test('auto-disable: failing for --disable-after with no success between disables the endpoint (auto_failing)', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--disable-after', '1s', '--max-attempts', '30'], retrySlow: '200ms' });
    const rcv = await env.startReceiver({ status: 503 });
    const ep = await endpoint(h, rcv, '/sick', {});
    const m = await h.send({ endpoint_id: ep.id, payload: {} });
    const off = await waitFor(async () => {
        const e = await h.getEndpoint(ep.id);
        return e.disabled ? e : null;
    }, { what: 'auto-disabled', timeout: 10_000 });
    assert.equal(off.disabled_reason, 'auto_failing');
    const atts = rcv.requests.map((r) => r.receivedAt);
    assert.ok(atts[atts.length - 1] - atts[0] >= 900, 'it failed for about --disable-after first');
    rcv.respond({ status: 200 });
    expectOk(await h.api('PATCH', `/v1/endpoints/${ep.id}`, { status: 'active' }));
    await h.waitForMessage(m.message_id, 'succeeded');
});
