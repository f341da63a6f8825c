// Every error path of the contract: status, error.code, meta.request_id, and
// nothing stored changes after a rejected request.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, setupDelivery } from './lib/hookd.mjs';
import { expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };
const UNKNOWN_EP = 'ep_' + '0'.repeat(32);
const UNKNOWN_MSG = '01890a5d-ac96-774b-bcce-b302099a8057';

/**
 * Asserts the error envelope; `status` and `code` may list the acceptable
 * values where the contract leaves a choice.
 */
function expectErrorOneOf(res, status, code) {
    const statuses = [status].flat();
    assert.ok(statuses.includes(res.status), `status ${res.status} not in ${statuses}: ${res.text}`);
    if (!Array.isArray(code)) return expectError(res, res.status, code);
    const err = expectError(res, res.status);
    assert.ok(code.includes(err.code), `error.code ${err.code} not in ${code}: ${res.text}`);
    return err;
}

/** Runs each case as a subtest: [name, method, path, body|{raw}, status, code]. */
async function runCases(t, h, cases) {
    for (const [name, method, path, body, status, code] of cases) {
        await t.test(name, async () => {
            const res = body && Object.hasOwn(body, 'raw')
                ? await h.api(method, path, undefined, { raw: body.raw })
                : await h.api(method, path, body);
            expectErrorOneOf(res, status, code);
        });
    }
}

const manyHeaders = (n, size = 8) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H-${i}`, 'v'.repeat(size)]));

test('authentication: missing, unknown and malformed keys get 401 UNAUTHORIZED', T, async (t) => {
    const env = await setup(t);
    // Many failures on purpose: the per-address throttle (abuse.test.mjs) is off here.
    const h = await env.startHookd({ extraArgs: ['--auth-fail-limit', '0'] });
    const ep = await h.createEndpoint({ url: 'http://127.0.0.1:9/existing', description: 'keep' });
    const before = await h.getEndpoint(ep.id);
    const routes = [
        ['GET', '/v1/endpoints'],
        ['POST', '/v1/endpoints', { url: 'http://127.0.0.1:9/x' }],
        ['GET', `/v1/endpoints/${ep.id}`],
        ['PATCH', `/v1/endpoints/${ep.id}`, { description: 'changed' }],
        ['DELETE', `/v1/endpoints/${ep.id}`],
        ['POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: {} }],
        ['GET', `/v1/messages/${UNKNOWN_MSG}`],
        ['GET', `/v1/messages/${UNKNOWN_MSG}/attempts`],
    ];
    const keys = {
        missing: { key: null },
        unknown: { key: 'hk_live_' + '0'.repeat(40) },
        'unknown test key': { key: 'hk_test_' + '0'.repeat(40) },
        'wrong scheme': { key: null, headers: { authorization: `Basic ${h.key}` } },
        'empty bearer': { key: null, headers: { authorization: 'Bearer ' } },
        'key with suffix': { key: h.key + 'x' },
    };
    for (const [kname, opts] of Object.entries(keys)) {
        for (const [method, path, body] of routes) {
            await t.test(`${kname}: ${method} ${path}`, async () => {
                expectError(await h.api(method, path, body, opts), 401, 'UNAUTHORIZED');
            });
        }
    }
    assert.deepEqual(await h.getEndpoint(ep.id), before, 'rejected PATCH/DELETE changed nothing');
    const { data, meta } = expectOk(await h.api('GET', '/v1/endpoints'));
    assert.deepEqual(data.map((e) => e.id), [ep.id], 'no endpoint was created by the rejected POST');
    assert.equal(meta.has_more, false);
});

test('send validation errors create no message', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const S = '/v1/webhooks/send';
    const ok = { endpoint_id: ep.id, payload: { a: 1 } };
    const big = 'x'.repeat(1024 * 1024 + 100);
    await runCases(t, h, [
        ['empty body', 'POST', S, { raw: '' }, 400, 'INVALID_REQUEST'],
        ['malformed JSON', 'POST', S, { raw: '{"endpoint_id":' }, 400, 'INVALID_REQUEST'],
        ['trailing garbage', 'POST', S, { raw: JSON.stringify(ok) + 'x' }, 400, 'INVALID_REQUEST'],
        ['JSON array body', 'POST', S, [ok], 400, 'INVALID_REQUEST'],
        ['JSON string body', 'POST', S, 'hello', 400, 'INVALID_REQUEST'],
        ['missing endpoint_id', 'POST', S, { payload: { a: 1 } }, 400, 'INVALID_REQUEST'],
        ['endpoint_id not a string', 'POST', S, { endpoint_id: 7, payload: {} }, 400, 'INVALID_REQUEST'],
        ['missing payload', 'POST', S, { endpoint_id: ep.id }, 400, 'INVALID_REQUEST'],
        ['headers not an object', 'POST', S, { ...ok, headers: ['X-A: b'] }, 400, ['INVALID_REQUEST', 'INVALID_HEADERS']],
        ['header value not a string', 'POST', S, { ...ok, headers: { 'X-A': 5 } }, 400, ['INVALID_REQUEST', 'INVALID_HEADERS']],
        ['idempotency_key not a string', 'POST', S, { ...ok, idempotency_key: 12 }, 400, 'INVALID_REQUEST'],
        ['idempotency_key bad characters', 'POST', S, { ...ok, idempotency_key: 'a b/c' }, 400, 'INVALID_REQUEST'],
        ['idempotency_key longer than 255', 'POST', S, { ...ok, idempotency_key: 'k'.repeat(256) }, 400, 'INVALID_REQUEST'],
        ['unknown endpoint_id', 'POST', S, { ...ok, endpoint_id: UNKNOWN_EP }, 404, 'ENDPOINT_NOT_FOUND'],
        ['malformed endpoint_id', 'POST', S, { ...ok, endpoint_id: 'nope' }, [400, 404], ['INVALID_REQUEST', 'ENDPOINT_NOT_FOUND']],
        ['payload nested 100 deep', 'POST', S, { raw: `{"endpoint_id":"${ep.id}","payload":${'['.repeat(100)}${']'.repeat(100)}}` }, 400, ['INVALID_REQUEST', 'PAYLOAD_TOO_LARGE']],
        ['body nested 100000 deep', 'POST', S, { raw: '['.repeat(100_000) }, 400, ['INVALID_REQUEST', 'PAYLOAD_TOO_LARGE']],
        ['payload over 1 MB', 'POST', S, { ...ok, payload: { big } }, 400, 'PAYLOAD_TOO_LARGE'],
        ['request body far over the limit (5 MB)', 'POST', S, { raw: JSON.stringify({ ...ok, payload: 'z'.repeat(5_000_000) }) }, 400, 'PAYLOAD_TOO_LARGE'],
        ['51 custom headers', 'POST', S, { ...ok, headers: manyHeaders(51) }, 400, 'INVALID_HEADERS'],
        ['custom headers over 8 KB', 'POST', S, { ...ok, headers: manyHeaders(3, 3000) }, 400, 'INVALID_HEADERS'],
        ['Host header', 'POST', S, { ...ok, headers: { Host: 'evil.example' } }, 400, 'INVALID_HEADERS'],
        ['authorization header (any case)', 'POST', S, { ...ok, headers: { authorization: 'Bearer x' } }, 400, 'INVALID_HEADERS'],
        ['CRLF in a header value', 'POST', S, { ...ok, headers: { 'X-A': 'a\r\nX-Injected: 1' } }, 400, 'INVALID_HEADERS'],
        ['invalid header name', 'POST', S, { ...ok, headers: { 'Bad Name:': 'v' } }, 400, 'INVALID_HEADERS'],
    ]);
    await h.barrier(ep.id);
    assert.deepEqual(rcv.requests.map((r) => JSON.parse(r.text)), [{ barrier: true }],
        'only the barrier message was ever delivered');
});

test('send limits: 50 headers and a payload just under 1 MB are accepted', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const a = await h.send({ endpoint_id: ep.id, payload: { n: 1 }, headers: manyHeaders(50) });
    const payload = { blob: 'y'.repeat(999_000) };
    const b = await h.send({ endpoint_id: ep.id, payload });
    await h.waitForMessage(a.message_id, 'succeeded');
    await h.waitForMessage(b.message_id, 'succeeded');
    const [reqA] = rcv.requestsFor(a.message_id);
    assert.equal(reqA.headers['x-h-49'], 'vvvvvvvv');
    const [reqB] = rcv.requestsFor(b.message_id);
    assert.equal(reqB.text, JSON.stringify(payload));
});

test('message lookups: unknown ids are 404 MESSAGE_NOT_FOUND', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    await runCases(t, h, [
        ['unknown message', 'GET', `/v1/messages/${UNKNOWN_MSG}`, undefined, 404, 'MESSAGE_NOT_FOUND'],
        ['malformed message id', 'GET', '/v1/messages/not-a-uuid', undefined, 404, 'MESSAGE_NOT_FOUND'],
        ['attempts of unknown message', 'GET', `/v1/messages/${UNKNOWN_MSG}/attempts`, undefined, 404, 'MESSAGE_NOT_FOUND'],
    ]);
});

test('endpoint validation errors change nothing', T, async (t) => {
    const { h, ep } = await setupDelivery(t);
    const before = await h.getEndpoint(ep.id);
    const E = '/v1/endpoints';
    const P = `/v1/endpoints/${ep.id}`;
    await runCases(t, h, [
        ['create: empty body', 'POST', E, { raw: '' }, 400, 'INVALID_REQUEST'],
        ['create: malformed JSON', 'POST', E, { raw: '{"url"' }, 400, 'INVALID_REQUEST'],
        ['create: missing url', 'POST', E, { description: 'x' }, 400, ['INVALID_REQUEST', 'INVALID_ENDPOINT']],
        ['create: url not a string', 'POST', E, { url: 42 }, 400, ['INVALID_REQUEST', 'INVALID_ENDPOINT']],
        ['create: url not a URL', 'POST', E, { url: 'not a url' }, 400, 'INVALID_ENDPOINT'],
        ['create: ftp url', 'POST', E, { url: 'ftp://127.0.0.1/x' }, 400, 'INVALID_ENDPOINT'],
        ['create: url without host', 'POST', E, { url: 'http:///path' }, 400, 'INVALID_ENDPOINT'],
        ['create: url too long', 'POST', E, { url: `http://127.0.0.1/${'a'.repeat(5000)}` }, 400, 'INVALID_ENDPOINT'],
        ['create: negative rate_limit_rps', 'POST', E, { url: 'http://127.0.0.1:9/r', rate_limit_rps: -1 }, 400, 'INVALID_REQUEST'],
        ['create: rate_limit_rps not a number', 'POST', E, { url: 'http://127.0.0.1:9/r', rate_limit_rps: 'ten' }, 400, 'INVALID_REQUEST'],
        ['create: negative burst', 'POST', E, { url: 'http://127.0.0.1:9/r', burst: -5 }, 400, 'INVALID_REQUEST'],
        ['create: description not a string', 'POST', E, { url: 'http://127.0.0.1:9/r', description: 5 }, 400, 'INVALID_REQUEST'],
        ['create: hmac_enabled not a bool', 'POST', E, { url: 'http://127.0.0.1:9/r', hmac_enabled: 'yes' }, 400, 'INVALID_REQUEST'],
        ['create: forbidden endpoint header', 'POST', E, { url: 'http://127.0.0.1:9/r', headers: { Host: 'x' } }, 400, ['INVALID_HEADERS', 'INVALID_REQUEST']],
        ['patch: invalid url', 'PATCH', P, { url: 'not a url' }, 400, 'INVALID_ENDPOINT'],
        ['patch: description not a string', 'PATCH', P, { description: ['x'] }, 400, 'INVALID_REQUEST'],
        ['patch: malformed JSON', 'PATCH', P, { raw: '{"description":' }, 400, 'INVALID_REQUEST'],
        ['patch: url and a bad field together', 'PATCH', P, { url: 'http://127.0.0.1:9/new', rate_limit_rps: 'x' }, 400, 'INVALID_REQUEST'],
        ['get unknown', 'GET', `${E}/${UNKNOWN_EP}`, undefined, 404, 'ENDPOINT_NOT_FOUND'],
        ['get malformed id', 'GET', `${E}/garbage`, undefined, 404, 'ENDPOINT_NOT_FOUND'],
        ['patch unknown', 'PATCH', `${E}/${UNKNOWN_EP}`, { description: 'x' }, 404, 'ENDPOINT_NOT_FOUND'],
        ['delete unknown', 'DELETE', `${E}/${UNKNOWN_EP}`, undefined, 404, 'ENDPOINT_NOT_FOUND'],
        ['list: limit not a number', 'GET', `${E}?limit=abc`, undefined, 400, 'INVALID_REQUEST'],
        ['list: limit 0', 'GET', `${E}?limit=0`, undefined, 400, 'INVALID_REQUEST'],
        ['list: garbage cursor', 'GET', `${E}?cursor=garbage`, undefined, 400, 'INVALID_REQUEST'],
    ]);
    assert.deepEqual(await h.getEndpoint(ep.id), before, 'the endpoint is unchanged');
    const all = await h.listAllEndpoints();
    assert.deepEqual(all.map((e) => e.id), [ep.id], 'no endpoint was created');
});

test('unknown routes and methods answer with the JSON error envelope', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    await t.test('unknown /v1 route', async () => {
        expectError(await h.api('GET', '/v1/does-not-exist'), 404);
    });
    await t.test('unknown top-level route', async () => {
        expectError(await h.api('GET', '/nope', undefined, { key: null }), 404);
    });
    await t.test('wrong method on a known route', async () => {
        const res = await h.api('DELETE', '/v1/webhooks/send');
        assert.ok([404, 405].includes(res.status), `status ${res.status}`);
        expectError(res, res.status);
    });
});

test('http:// endpoint URLs need --allow-http', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ allowHttp: false });
    expectError(await h.api('POST', '/v1/endpoints', { url: 'http://127.0.0.1:9/hook' }), 400, 'INVALID_ENDPOINT');
    assert.deepEqual(await h.listAllEndpoints(), [], 'nothing was created');
    const ep = await h.createEndpoint({ url: 'https://127.0.0.1:9/hook' });
    assert.equal(ep.url, 'https://127.0.0.1:9/hook');
});
