// The test send, POST /v1/endpoints/{id}/test (POLICIES.md §5, §8), against
// real loopback receivers: one signed example delivered now, outside the
// queue, answered with the attempt (status, response_status, latency_ms,
// response_body, error, headers_sent). Signatures verify (Standard Webhooks
// with the reference library, HookBridge's HMAC, ed25519 `v1a` with Node's
// crypto); a 500, a dead port and a silent receiver are failed attempts;
// paused and disabled endpoints get it and stay as they were; the message
// log shows nothing; the destination auth (oauth2 too, refreshed once after
// a 401) is applied and its value never shown; bad bodies are 400 and
// unknown endpoints 404 with nothing sent; at most 8 run at once (429
// beyond) while the API keeps answering; a shutdown cancels one that is
// running, which is still answered.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { setup } from './lib/hookd.mjs';
import { UUID36, closedPort, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

const testSend = (h, id, body, opts) => h.api('POST', `/v1/endpoints/${id}/test`, body, opts);

async function logs(h) {
    return expectOk(await h.api('GET', '/v1/logs?limit=500')).data;
}

test('test send: a signed example, verifiable, answered with the attempt; nothing is stored', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200, body: 'thanks' });
    const ep = await h.createEndpoint({ url: rcv.url('/ok'), headers: { 'X-Tenant': 'acme' } });
    const before = await h.getEndpoint(ep.id);

    const { data } = expectOk(await testSend(h, ep.id));
    assert.equal(data.status, 'succeeded');
    assert.equal(data.response_status, 200);
    assert.equal(data.response_body, 'thanks');
    assert.equal(data.error, null);
    assert.ok(Number.isInteger(data.latency_ms) && data.latency_ms >= 0, `latency_ms ${data.latency_ms}`);

    assert.equal(rcv.requests.length, 1, 'delivered once, at once');
    const req = rcv.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.text, '{"type":"hookd.test","data":{}}', 'the default example');
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.match(req.headers['user-agent'] ?? '', /^hookd\/\S+/);
    assert.equal(req.headers['x-tenant'], 'acme', 'custom headers are sent');

    // headers_sent: exactly the id and signature headers, as received
    assert.deepEqual(Object.keys(data.headers_sent),
        ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'X-Webhook-Id', 'X-Webhook-Timestamp', 'X-Webhook-Signature']);
    for (const [name, value] of Object.entries(data.headers_sent)) {
        assert.equal(req.headers[name.toLowerCase()], value, name);
    }
    assert.match(data.headers_sent['webhook-id'], UUID36);
    assert.equal(data.headers_sent['X-Webhook-Id'], data.headers_sent['webhook-id']);

    // Standard Webhooks, verified by the reference library on the raw bytes
    assert.deepEqual(new Webhook(ep.signing_secret).verify(req.body, req.headers), { type: 'hookd.test', data: {} });
    // HookBridge: HMAC-SHA256 keyed with the whole whsec_ string over "<ts>.<body>"
    const ts = req.headers['x-webhook-timestamp'];
    const mac = crypto.createHmac('sha256', ep.signing_secret)
        .update(Buffer.concat([Buffer.from(`${ts}.`), req.body])).digest('hex');
    assert.equal(req.headers['x-webhook-signature'], `sha256=${mac}`);

    // event_type picks the default payload; a payload is sent as given (compact)
    expectOk(await testSend(h, ep.id, { event_type: 'order.created' }));
    assert.equal(rcv.requests[1].text, '{"type":"order.created","data":{}}');
    const third = expectOk(await testSend(h, ep.id, { event_type: 'order.created', payload: { order: { id: 7, items: [1, 2] } } })).data;
    assert.equal(rcv.requests[2].text, '{"order":{"id":7,"items":[1,2]}}');
    assert.notEqual(third.headers_sent['webhook-id'], data.headers_sent['webhook-id'], 'a fresh id each time');
    assert.ok(new Webhook(ep.signing_secret).verify(rcv.requests[2].body, rcv.requests[2].headers));

    // nothing stored: no message in the log, the endpoint unchanged
    assert.deepEqual(await logs(h), []);
    assert.deepEqual(await h.getEndpoint(ep.id), before);
    // and a real send is unaffected: it is the log's only entry
    const sent = await h.send({ endpoint_id: ep.id, payload: { real: true } });
    await h.waitForMessage(sent.message_id, 'succeeded');
    assert.deepEqual((await logs(h)).map((m) => m.message_id), [sent.message_id]);
});

test('test send: a 500 answer, a dead port, a long body and a silent receiver are failed attempts', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ deliveryTimeout: '1s' });
    const rcv = await env.startReceiver((rec) => {
        if (rec.path === '/boom') return { status: 500, body: 'boom' };
        if (rec.path === '/long') return { status: 200, body: 'x'.repeat(10_000) };
        if (rec.path === '/silent') return { hang: true };
        return { status: 200 };
    });
    const boom = await h.createEndpoint({ url: rcv.url('/boom') });
    let { data } = expectOk(await testSend(h, boom.id));
    assert.equal(data.status, 'failed');
    assert.equal(data.response_status, 500);
    assert.equal(data.response_body, 'boom');
    assert.match(data.error, /500/);
    assert.ok(data.headers_sent['webhook-signature'].startsWith('v1,'));

    const dead = await h.createEndpoint({ url: `http://127.0.0.1:${await closedPort()}/dead` });
    ({ data } = expectOk(await testSend(h, dead.id)));
    assert.equal(data.status, 'failed');
    assert.equal(data.response_status, null, 'no HTTP answer');
    assert.equal(data.response_body, null);
    assert.equal(typeof data.error, 'string');
    assert.ok(data.error.length > 0);
    assert.ok(data.headers_sent['webhook-id'], 'the headers it tried to send');

    const long = await h.createEndpoint({ url: rcv.url('/long') });
    ({ data } = expectOk(await testSend(h, long.id)));
    assert.equal(data.status, 'succeeded');
    assert.equal(data.response_body, 'x'.repeat(4096), 'cut at 4 KiB as attempts are');

    const silent = await h.createEndpoint({ url: rcv.url('/silent') });
    ({ data } = expectOk(await testSend(h, silent.id)));
    assert.equal(data.status, 'failed');
    assert.equal(data.response_status, null);
    assert.match(data.error, /time/i);
    assert.ok(data.latency_ms >= 900, `waited for the delivery timeout: ${data.latency_ms}`);

    assert.deepEqual(await logs(h), [], 'failed tests are not messages either');
});

test('test send: paused and disabled endpoints get it, and stay as they were', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 204, body: '' });
    const paused = await h.createEndpoint({ url: rcv.url('/paused') });
    expectOk(await h.api('POST', `/v1/endpoints/${paused.id}/pause`));
    const held = await h.send({ endpoint_id: paused.id, payload: { held: true } });
    const disabled = await h.createEndpoint({ url: rcv.url('/disabled'), status: 'disabled' });
    assert.equal(disabled.disabled, true);

    for (const ep of [paused, disabled]) {
        const before = await h.getEndpoint(ep.id);
        const { data } = expectOk(await testSend(h, ep.id, { payload: { to: ep.id } }));
        assert.equal(data.status, 'succeeded', ep.url);
        assert.equal(data.response_status, 204);
        assert.equal(data.response_body, null);
        assert.deepEqual(await h.getEndpoint(ep.id), before, 'state unchanged');
    }
    assert.deepEqual(rcv.requests.map((r) => [r.path, r.text]),
        [['/paused', JSON.stringify({ to: paused.id })], ['/disabled', JSON.stringify({ to: disabled.id })]],
        'the tests went out; the held message did not');
    const m = await h.getMessage(held.message_id);
    assert.equal(m.status, 'queued');
    assert.equal(m.attempt_count, 0, 'the test is not an attempt of the held message');
});

test('test send: ed25519 signs v1a; destination auth is applied and never shown', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ed = await h.createEndpoint({ url: rcv.url('/ed'), signature_scheme: 'ed25519' });
    const { data } = expectOk(await testSend(h, ed.id, { event_type: 'invoice.paid' }));
    assert.equal(data.status, 'succeeded');
    const e = rcv.requests.find((r) => r.path === '/ed');
    assert.equal(e.text, '{"type":"invoice.paid","data":{}}');
    const [ver, sig] = e.headers['webhook-signature'].split(',');
    assert.equal(ver, 'v1a');
    assert.equal(data.headers_sent['webhook-signature'], e.headers['webhook-signature']);
    const raw = Buffer.from(ed.public_key.slice(5), 'base64');
    const pub = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    const signed = `${e.headers['webhook-id']}.${e.headers['webhook-timestamp']}.${e.text}`;
    assert.ok(crypto.verify(null, Buffer.from(signed), pub, Buffer.from(sig, 'base64')), 'v1a verifies');

    const bearer = await h.createEndpoint({
        url: rcv.url('/bearer'), http_method: 'PUT', header_prefix: 'X-Acme-',
        auth: { type: 'bearer', token: 'tok-secret-9' },
    });
    const res = await testSend(h, bearer.id);
    const b = expectOk(res).data;
    const got = rcv.requests.find((r) => r.path === '/bearer');
    assert.equal(got.method, 'PUT', 'the endpoint\'s method');
    assert.equal(got.headers.authorization, 'Bearer tok-secret-9');
    assert.equal(b.headers_sent.Authorization, '[redacted]');
    assert.ok(!res.text.includes('tok-secret-9'), 'the token is not in the answer');
    assert.equal(b.headers_sent['X-Acme-Id'], got.headers['x-acme-id'], 'the endpoint\'s header prefix');
    assert.match(b.headers_sent['X-Acme-Signature'], /^sha256=/);
    assert.equal(b.headers_sent['X-Webhook-Signature'], undefined);
});

test('test send: oauth2 fetches a token, and a 401 refreshes it once as deliveries do', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    let issued = 0;
    const tokenServer = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
            issued++;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600 }));
        });
    });
    await new Promise((r) => tokenServer.listen(0, '127.0.0.1', r));
    t.after(() => tokenServer.close());
    let refused = 0;
    const rcv = await env.startReceiver((rec) => {
        if (rec.headers.authorization === 'Bearer at-1') {
            refused++;
            return { status: 401, body: 'expired' };
        }
        return { status: 200, body: 'ok' };
    });
    const ep = await h.createEndpoint({
        url: rcv.url('/oauth'),
        auth: { type: 'oauth2_client_credentials', token_url: `http://127.0.0.1:${tokenServer.address().port}/token`, client_id: 'cid', client_secret: 'csec' },
    });
    const res = await testSend(h, ep.id);
    const { data } = expectOk(res);
    assert.equal(data.status, 'succeeded', JSON.stringify(data));
    assert.equal(data.response_status, 200, 'the answer to the request with the refreshed token');
    assert.equal(data.headers_sent.Authorization, '[redacted]');
    assert.ok(!res.text.includes('at-2') && !res.text.includes('csec'), 'no token or secret in the answer');
    assert.deepEqual(rcv.requests.map((r) => r.headers.authorization), ['Bearer at-1', 'Bearer at-2']);
    assert.equal(refused, 1);
    assert.equal(issued, 2);
    // the refreshed token is cached for the next test send
    expectOk(await testSend(h, ep.id));
    assert.equal(issued, 2);
    assert.equal(rcv.requests.at(-1).headers.authorization, 'Bearer at-2');
});

test('test send: bad bodies are 400, unknown endpoints 404, and nothing is sent', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/x') });
    expectError(await testSend(h, ep.id, undefined, { raw: 'not json' }), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, ep.id, [1, 2]), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, ep.id, 'hello'), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, ep.id, { event_type: 5 }), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, ep.id, { event_type: 'bad name!' }), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, ep.id, { event_type: 'x'.repeat(257) }), 400, 'INVALID_REQUEST');
    expectError(await testSend(h, 'ep_' + '0'.repeat(32)), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await testSend(h, 'nope'), 404, 'ENDPOINT_NOT_FOUND');
    const gone = await h.createEndpoint({ url: rcv.url('/gone') });
    expectOk(await h.api('DELETE', `/v1/endpoints/${gone.id}`));
    expectError(await testSend(h, gone.id), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await h.api('GET', `/v1/endpoints/${ep.id}/test`), 405, 'METHOD_NOT_ALLOWED');
    assert.equal(rcv.requests.length, 0, 'nothing was sent');
    // an empty body (PHP clients), {} and null are fine
    expectOk(await testSend(h, ep.id, undefined, { headers: { 'content-type': 'application/json' } }));
    expectOk(await testSend(h, ep.id, null));
    expectOk(await testSend(h, ep.id, { unknown: 1, payload: null }));
    assert.equal(rcv.requests.length, 3);
});

test('test send: at most 8 at once (429 beyond) and the API keeps answering meanwhile', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ deliveryTimeout: '3s' });
    const rcv = await env.startReceiver({ hang: true });
    const ep = await h.createEndpoint({ url: rcv.url('/hang') });
    const started = Date.now();
    const pending = [];
    for (let i = 0; i < 10; i++) pending.push(testSend(h, ep.id, { payload: { i } }));
    await rcv.waitForRequests(8);
    // two API threads, eight transfers waiting on a silent receiver: the API still answers
    const t0 = Date.now();
    expectOk(await h.api('GET', `/v1/endpoints/${ep.id}`));
    assert.equal((await h.api('GET', '/healthz')).status, 200);
    assert.ok(Date.now() - t0 < scaled(1000), `the API answered in ${Date.now() - t0} ms`);
    const results = await Promise.all(pending);
    const busy = results.filter((r) => r.status === 429);
    const ran = results.filter((r) => r.status === 200);
    assert.equal(ran.length, 8, results.map((r) => r.status).join(','));
    assert.equal(busy.length, 2);
    for (const r of busy) {
        expectError(r, 429, 'RATE_LIMITED');
        assert.equal(r.headers['retry-after'], '1');
    }
    for (const r of ran) {
        assert.equal(r.json.data.status, 'failed');
        assert.equal(r.json.data.response_status, null);
    }
    assert.ok(Date.now() - started < scaled(10_000), 'the eight ran side by side');
    // once they are done, there is room again
    rcv.respond({ status: 200 });
    const ep2 = await h.createEndpoint({ url: rcv.url('/ok') });
    assert.equal(expectOk(await testSend(h, ep2.id)).data.status, 'succeeded');
});

test('test send: a shutdown cancels a running test send, which is answered, and hookd exits cleanly', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ deliveryTimeout: '60s', extraArgs: ['--shutdown-grace', '500ms'] });
    const rcv = await env.startReceiver({ hang: true });
    const ep = await h.createEndpoint({ url: rcv.url('/hang') });
    const pending = testSend(h, ep.id);
    await rcv.waitForRequests(1);
    const t0 = Date.now();
    const exit = await h.stop('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < scaled(10_000), `stopped in ${Date.now() - t0} ms, not after the 60 s timeout`);
    const { data } = expectOk(await pending);
    assert.equal(data.status, 'failed');
    assert.equal(data.response_status, null);
    assert.match(data.error, /cancelled: hookd is shutting down/);
});
