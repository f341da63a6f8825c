// No request can take hookd down (issue 6 §1): request bytes that are not
// UTF-8, or UTF-8 cut mid-character by a truncation, used to reach jansson
// through error messages and make hookd abort. Every case gets a JSON error
// envelope (valid UTF-8) with the right status, and hookd keeps serving.
// Raw sockets (lib/raw.mjs), because curl/fetch would normalise the bytes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { rawRequest } from './lib/raw.mjs';
import { expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const REPLACEMENT = '\uFFFD';

/** The error envelope, in valid UTF-8, with this status (and code). */
function expectRawError(res, status, code) {
    assert.ok(res.utf8Valid, `response body is not valid UTF-8: ${res.body.toString('latin1').slice(0, 300)}`);
    expectError({ ...res, method: 'raw', path: '' }, status, code);
    return res.json.error;
}

async function alive(h) {
    expectOk({ ...(await h.healthz()), json: { data: 1, meta: { request_id: 'req_x' } } });
    assert.equal(h.exit, null, 'hookd is still running');
}

test('hostile: a path of %FF is a JSON 404, not an abort', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const err = expectRawError(await rawRequest(h.port, 'GET /%FF HTTP/1.1'), 404, 'NOT_FOUND');
    assert.ok(err.message.includes(REPLACEMENT), err.message);
    // ...and the same under /v1 without a key (401 comes first) and with one (404).
    expectRawError(await rawRequest(h.port, 'GET /v1/%FF HTTP/1.1'), 401, 'UNAUTHORIZED');
    expectRawError(await rawRequest(h.port, `GET /v1/%FF HTTP/1.1\r\nAuthorization: Bearer ${h.key}`), 404, 'NOT_FOUND');
    await alive(h);
});

test('hostile: 300 x %C3%A9 in the path is cut on a character boundary', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const res = await rawRequest(h.port, `GET /${'%C3%A9'.repeat(300)} HTTP/1.1`);
    const err = expectRawError(res, 404, 'NOT_FOUND');
    assert.match(err.message, /^no route for GET \/é+$/, 'only whole characters, no U+FFFD');
    await alive(h);
});

test('hostile: a request line "G\\xffT / HTTP/1.1" is a JSON 400', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const res = await rawRequest(h.port, Buffer.from('G\xffT / HTTP/1.1', 'latin1'));
    expectRawError(res, 400, 'INVALID_REQUEST');
    // Another method that is not a token, on a /v1 route with a key.
    const res2 = await rawRequest(h.port, Buffer.from(`P\xc3\xa9ST /v1/endpoints HTTP/1.1\r\nAuthorization: Bearer ${h.key}`, 'latin1'));
    expectRawError(res2, 400, 'INVALID_REQUEST');
    await alive(h);
});

// Every route that takes an id, with %FF%FE as the id (and as the second id).
const ID_ROUTES = [
    ['DELETE', '/v1/api-keys/X'],
    ['GET', '/v1/endpoints/X'],
    ['PATCH', '/v1/endpoints/X', '{"description":"d"}'],
    ['PUT', '/v1/endpoints/X', '{"description":"d"}'],
    ['DELETE', '/v1/endpoints/X'],
    ['POST', '/v1/endpoints/X/pause'],
    ['POST', '/v1/endpoints/X/resume'],
    ['POST', '/v1/endpoints/X/signing-keys'],
    ['GET', '/v1/endpoints/X/signing-keys'],
    ['DELETE', '/v1/endpoints/X/signing-keys/X'],
    ['GET', '/v1/messages/X'],
    ['DELETE', '/v1/messages/X'],
    ['GET', '/v1/messages/X/attempts'],
    ['POST', '/v1/messages/X/replay'],
    ['POST', '/v1/messages/X/retry-now'],
    ['POST', '/v1/messages/X/cancel'],
    ['POST', '/v1/dlq/replay/X'],
];

test('hostile: %FF%FE as the id of every route that takes one is a JSON 404', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    for (const [method, route, body] of ID_ROUTES) {
        for (const id of ['%FF%FE', '%C3', `ep_${'%C3%A9'.repeat(100)}`]) {
            const path = route.replaceAll('X', id);
            const res = await rawRequest(h.port,
                `${method} ${path} HTTP/1.1\r\nAuthorization: Bearer ${h.key}\r\nContent-Type: application/json`,
                body ?? '');
            assert.ok(res.utf8Valid, `${method} ${path}: body not UTF-8`);
            assert.equal(res.status, 404, `${method} ${path} -> ${res.status} ${res.text}`);
            expectRawError(res, 404);
        }
    }
    await alive(h);
});

test('hostile: a send whose header name is 63 x "a" + "é" is a 400 INVALID_HEADERS', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/hook' });
    const name = 'a'.repeat(63) + 'é';
    const res = await rawRequest(h.port,
        `POST /v1/webhooks/send HTTP/1.1\r\nAuthorization: Bearer ${h.key}\r\nContent-Type: application/json`,
        JSON.stringify({ endpoint_id: ep.id, payload: {}, headers: { [name]: 'x' } }));
    const err = expectRawError(res, 400, 'INVALID_HEADERS');
    assert.ok(err.message.includes('a'.repeat(63)), err.message);
    assert.ok(!err.message.includes(REPLACEMENT), `cut on a character boundary: ${err.message}`);
    // A forbidden name that is long and non-ASCII, and a header value that is not a string.
    const res2 = await rawRequest(h.port,
        `POST /v1/webhooks/send HTTP/1.1\r\nAuthorization: Bearer ${h.key}`,
        JSON.stringify({ endpoint_id: ep.id, payload: {}, headers: { ['é'.repeat(100)]: 1 } }));
    expectRawError(res2, 400, 'INVALID_HEADERS');
    await alive(h);
});

test('hostile: invalid UTF-8 in header values, query values and JSON bodies', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/hook' });
    const auth = `Authorization: Bearer ${h.key}`;
    const bin = (s) => Buffer.from(s, 'latin1');
    // Header values: the key itself, and other headers.
    expectRawError(await rawRequest(h.port, bin('GET /v1/endpoints HTTP/1.1\r\nAuthorization: Bearer \xff\xfe')), 401, 'UNAUTHORIZED');
    expectRawError(await rawRequest(h.port, bin('GET /v1/endpoints HTTP/1.1\r\nAuthorization: \xc3')), 401, 'UNAUTHORIZED');
    const ok = await rawRequest(h.port, bin(`GET /v1/endpoints HTTP/1.1\r\n${auth}\r\nX-Junk: \xff\xc3\r\nIdempotency-Key: \xfe`));
    assert.equal(ok.status, 200, ok.text);
    // Query values, raw and percent-encoded, on every route that reads one.
    for (const q of ['limit=%FF', 'limit=\xff', 'cursor=%FF%FE', 'cursor=\xc3', 'status=%FF', 'window=%C3',
        'endpoint_id=%FF', 'start_time=%FF', 'end_time=\xe2\x82']) {
        for (const route of ['/v1/endpoints', '/v1/logs', '/v1/dlq/messages', '/v1/metrics', '/v1/metrics/timeseries',
            `/v1/messages/${'0'.repeat(8)}/attempts`]) {
            const res = await rawRequest(h.port, bin(`GET ${route}?${q} HTTP/1.1\r\n${auth}`));
            assert.ok(res.utf8Valid && res.json, `${route}?${q} -> ${res.status} ${res.body.toString('latin1')}`);
            assert.ok([200, 400, 404].includes(res.status), `${route}?${q} -> ${res.status} ${res.text}`);
            if (res.status >= 400) expectRawError(res, res.status);
        }
        const res = await rawRequest(h.port, bin(`POST /v1/messages/replay-all?${q} HTTP/1.1\r\n${auth}`));
        assert.ok(res.utf8Valid && res.json, `replay-all?${q} -> ${res.status}`);
    }
    // JSON bodies with invalid UTF-8 and truncated sequences.
    for (const [route, body] of [
        ['/v1/webhooks/send', `{"endpoint_id":"${ep.id}","payload":"\xff"}`],
        ['/v1/webhooks/send', `{"endpoint_id":"\xc3","payload":1}`],
        ['/v1/webhooks/send', `{"endpoint_id":"${ep.id}","payload":1,"idempotency_key":"\xe2\x82"}`],
        ['/v1/endpoints', `{"url":"https://\xff.example/"}`],
        ['/v1/endpoints', `{"url":"https://example.com/","description":"\xc3"}`],
        ['/v1/api-keys', `{"label":"\xff"}`],
        ['/v1/messages/replay-batch', `{"message_ids":["\xff"]}`],
        ['/v1/messages/delete-batch', `{"message_ids":["\xed\xa0\x80"]}`],
    ]) {
        const res = await rawRequest(h.port, bin(`POST ${route} HTTP/1.1\r\n${auth}\r\nContent-Type: application/json`), bin(body));
        expectRawError(res, 400);
    }
    await alive(h);
});

test('hostile: errors libmicrohttpd writes itself are answered and hookd keeps serving', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    // docs/api.md lists these (HTML bodies from libmicrohttpd, not our envelope).
    const big = await rawRequest(h.port, `GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}`);
    assert.equal(big.status, 431);
    // The documented ceiling: request line + headers in a 16 KiB connection pool.
    const over = await rawRequest(h.port, `GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(17_000)}`);
    assert.equal(over.status, 431);
    expectOk(await h.api('GET', '/v1/endpoints', undefined, { headers: { 'x-big': 'a'.repeat(12_000) } }));
    const chunk = await rawRequest(h.port, 'POST /v1/endpoints HTTP/1.1\r\nTransfer-Encoding: chunked', 'zz\r\n',
        { contentLength: false });
    assert.equal(chunk.status, 400);
    const version = await rawRequest(h.port, 'GET /healthz HTTP/2.0');
    assert.equal(version.status, 505);
    await alive(h);
});

test('hostile receivers: a response body that is not UTF-8 is shown with U+FFFD, not dropped', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retrySlow: '60s' });
    const rcv = await env.startReceiver({ status: 500, body: Buffer.from([0x6f, 0x6b, 0xff, 0xc3, 0x20, 0xe9]) });
    const ep = await h.createEndpoint({ url: rcv.url('/bad-bytes') });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { x: 1 } });
    await h.waitForMessage(message_id, 'pending_retry');
    const { data: attempts } = await h.attempts(message_id);
    assert.equal(attempts[0].response_status, 500);
    assert.equal(attempts[0].response_body, `ok${REPLACEMENT}${REPLACEMENT} ${REPLACEMENT}`);
});
