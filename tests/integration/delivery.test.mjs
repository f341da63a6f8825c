// Happy-path delivery: signatures (Standard Webhooks + HookBridge), headers,
// body bytes, message and attempt records.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import http from 'node:http';
import net from 'node:net';
import { setup, setupDelivery } from './lib/hookd.mjs';
import { RFC3339, UUID36, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };

const payload = { type: 'user.created', data: { id: 42, name: 'Ada Lovelace', tags: ['a', 'b'], ok: true } };
const customHeaders = { 'X-Tenant': 'acme', 'X-Trace-Id': 'trace-123' };

/** Sends one message and returns it with the first request the receiver got. */
async function deliverOne(h, rcv, ep) {
    const sent = await h.send({ endpoint_id: ep.id, payload, headers: customHeaders });
    assert.match(sent.message_id, UUID36);
    assert.equal(sent.message_id.length, 36);
    assert.equal(sent.status, 'queued');
    const [req] = await rcv.waitForRequests(1);
    return { id: sent.message_id, req };
}

test('send is delivered once, signed for standardwebhooks and HookBridge', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const { id, req } = await deliverOne(h, rcv, ep);

    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/hook');
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(req.text), payload);
    assert.equal(req.text, JSON.stringify(payload), 'body is the compact JSON of the payload');

    // Standard Webhooks headers, verified by the reference library on the raw bytes.
    assert.equal(req.headers['webhook-id'], id);
    assert.match(req.headers['webhook-timestamp'], /^\d+$/);
    assert.ok(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000) < 300);
    assert.match(req.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(ep.signing_secret).verify(req.body, req.headers);
    assert.deepEqual(verified, payload);
    const other = new Webhook('whsec_' + crypto.randomBytes(24).toString('base64'));
    assert.throws(() => other.verify(req.body, req.headers), 'a different secret must not verify');

    // HookBridge headers: HMAC-SHA256 keyed with the whole whsec_ string, over "<ts>.<body>".
    assert.equal(req.headers['x-webhook-id'], id);
    const ts = req.headers['x-webhook-timestamp'];
    assert.match(ts, /^\d+$/);
    assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 300);
    const mac = crypto.createHmac('sha256', ep.signing_secret)
        .update(Buffer.concat([Buffer.from(`${ts}.`), req.body])).digest('hex');
    assert.equal(req.headers['x-webhook-signature'], `sha256=${mac}`);

    // Custom headers from the send request arrive unchanged.
    assert.equal(req.headers['x-tenant'], 'acme');
    assert.equal(req.headers['x-trace-id'], 'trace-123');

    const m = await h.waitForMessage(id, 'succeeded');
    assert.equal(m.id, id);
    assert.equal(m.endpoint_id, ep.id);
    assert.equal(typeof m.project_id, 'string');
    assert.equal(m.attempt_count, 1);
    assert.equal(m.replay_count, 0);
    assert.match(m.content_type, /^application\/json/);
    assert.equal(m.size_bytes, req.body.length);
    assert.equal(m.payload_sha256, crypto.createHash('sha256').update(req.body).digest('hex'));
    assert.match(m.created_at, RFC3339);
    assert.match(m.updated_at, RFC3339);
    if (m.response_status !== undefined && m.response_status !== null) assert.equal(m.response_status, 200);
    assert.ok(m.next_attempt_at === undefined || m.next_attempt_at === null, 'no next attempt after success');

    const { data: attempts, meta } = await h.attempts(id);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].attempt_no, 1);
    assert.equal(attempts[0].response_status, 200);
    assert.equal(typeof attempts[0].id, 'string');
    assert.match(attempts[0].created_at, RFC3339);
    assert.ok(Number.isInteger(attempts[0].response_latency_ms ?? 0));
    assert.equal(meta.has_more, false);
    assert.equal(meta.next_cursor ?? null, null);
    assert.equal(rcv.requests.length, 1, 'exactly one delivery');
});

test('delivery carries User-Agent hookd/<version>', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const { req } = await deliverOne(h, rcv, ep);
    assert.match(req.headers['user-agent'] ?? '', /^hookd\/\S+/);
});

test('endpoint-level headers are sent; send headers arrive on every retry', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 503 }, { status: 200 }],
        endpoint: { headers: { 'X-Endpoint-Header': 'from-endpoint' } },
    });
    const { id } = await deliverOne(h, rcv, ep);
    const reqs = await rcv.waitForRequests(2);
    await h.waitForMessage(id, 'succeeded');
    for (const req of reqs) {
        assert.equal(req.headers['x-tenant'], 'acme');
        assert.equal(req.headers['x-endpoint-header'], 'from-endpoint');
        assert.equal(req.headers['webhook-id'], id, 'webhook-id is stable across retries');
        new Webhook(ep.signing_secret).verify(req.body, req.headers);
    }
});

test('signatures cover the raw bytes of non-ASCII payloads', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const unicode = { text: 'é 😀 \u2028 </script> "quoted" \\ back', nested: [{ 'ключ': 'значение' }] };
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: unicode });
    const [req] = await rcv.waitForRequests(1);
    assert.equal(req.webhookId, message_id);
    assert.deepEqual(JSON.parse(req.text), unicode);
    assert.deepEqual(new Webhook(ep.signing_secret).verify(req.body, req.headers), unicode);
    const ts = req.headers['x-webhook-timestamp'];
    const mac = crypto.createHmac('sha256', ep.signing_secret)
        .update(Buffer.concat([Buffer.from(`${ts}.`), req.body])).digest('hex');
    assert.equal(req.headers['x-webhook-signature'], `sha256=${mac}`);
    const m = await h.waitForMessage(message_id, 'succeeded');
    assert.equal(m.size_bytes, req.body.length, 'size_bytes counts bytes, not characters');
});

test('an accepted custom header with an empty value is delivered', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    await h.send({ endpoint_id: ep.id, payload: { a: 1 }, headers: { 'X-Empty': '', 'X-Full': 'v' } });
    const [req] = await rcv.waitForRequests(1);
    assert.equal(req.headers['x-full'], 'v');
    assert.equal(req.headers['x-empty'], '', 'X-Empty was accepted (202) but not sent');
});

test('payloads are delivered byte for byte, including JSON beyond int64/double', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const payloads = ['{"id":12345678901234567890}', '{"s":"a\\u0000b"}', '[1e400, 0.1]',
        '{ "spaced" :\n  [1, 2] }'];
    for (const payload of payloads) {
        const raw = `{"endpoint_id":"${ep.id}","payload":${payload}}`;
        const res = await h.api('POST', '/v1/webhooks/send', undefined, { raw });
        assert.equal(res.status, 202, `${payload}: ${res.text}`);
    }
    const got = await rcv.waitForRequests(payloads.length);
    assert.deepEqual(got.map((r) => r.body.toString()).sort(), [...payloads].sort());
});

test('a hanging endpoint does not delay deliveries to other endpoints', T, async (t) => {
    const { env, h, ep: slowEp } = await setupDelivery(t, { receiver: { hang: true } });
    for (let i = 0; i < 100; i++) await h.send({ endpoint_id: slowEp.id, payload: { i } });
    const fast = await env.startReceiver({ status: 200 });
    const fastEp = await h.createEndpoint({ url: fast.url('/fast') });
    const sentAt = Date.now();
    const { message_id } = await h.send({ endpoint_id: fastEp.id, payload: { fast: true } });
    // Well under --delivery-timeout (1 s): it must not queue behind the hanging deliveries.
    await fast.waitForRequests(1, { timeout: 800 });
    t.diagnostic(`other endpoint served ${Date.now() - sentAt} ms after its send`);
    await h.waitForMessage(message_id, 'succeeded');
});

test('a huge response body is cut after 64 KiB: the answer still counts, the thread stops reading', { timeout: scaled(30_000) }, async (t) => {
    // 32 MB answers, streamed with backpressure: more than the socket buffers hold,
    // so the server can only finish writing if hookd reads it all.
    const CHUNK = Buffer.alloc(64 * 1024, 0x78);
    const TOTAL = 32 * 1024 * 1024;
    let status = 200;
    const answers = [];
    const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
            res.writeHead(status, { 'content-type': 'text/plain', 'content-length': TOTAL });
            let sent = 0;
            const pump = () => {
                while (sent < TOTAL) {
                    sent += CHUNK.length;
                    if (!res.write(CHUNK)) return res.once('drain', pump);
                }
                res.end();
            };
            res.on('close', () => answers.push({ finished: res.writableFinished, sent }));
            pump();
        });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => { server.closeAllConnections(); server.close(); });
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: `http://127.0.0.1:${server.address().port}/big` });

    const ok = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    const m = await h.waitForMessage(ok.message_id, 'succeeded');
    assert.equal(m.response_status, 200);
    const { data } = await h.attempts(ok.message_id);
    assert.equal(data.length, 1);
    assert.equal(data[0].response_status, 200);
    assert.equal(data[0].response_body_truncated, true);

    status = 500;
    const bad = await h.send({ endpoint_id: ep.id, payload: { n: 2 } });
    const m2 = await h.waitForMessage(bad.message_id, (x) => x.attempt_count >= 1);
    assert.equal(m2.response_status, 500, 'the status of a cut answer is kept');
    assert.match(m2.last_error ?? '', /HTTP 500/);

    await waitFor(() => answers.length >= 2, { what: 'both connections to close' });
    for (const a of answers) assert.equal(a.finished, false, `hookd stopped reading (${a.sent} bytes written)`);
});

test('response headers are recorded as JSON: lower-case names, last repeat wins, any bytes made valid text', { timeout: scaled(30_000) }, async (t) => {
    const raw = Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Quote: say "hi" \\ ok\r\n'),
        Buffer.from('X-Dup: first\r\nx-DUP: second\r\nX-Latin: caf'), Buffer.from([0xe9]),
        Buffer.from('\r\nX-Utf8: caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\nX-Tab: a\tb\r\n\r\n'),
    ]);
    const server = net.createServer((sock) => {
        sock.once('data', () => sock.end(raw));
        sock.on('error', () => {});
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: `http://127.0.0.1:${server.address().port}/h` });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: 1 } });
    await h.waitForMessage(message_id, 'succeeded');
    const { data } = await h.attempts(message_id);
    assert.deepEqual(data[0].response_headers, {
        'content-length': '0',
        'x-quote': 'say "hi" \\ ok',
        'x-dup': 'second',
        'x-latin': 'caf\ufffd',
        'x-utf8': 'café',
        'x-tab': 'a\tb',
    });
});
