// docs/openapi.yaml itself: it parses, every $ref resolves and every response
// schema compiles; its operations are exactly the routes of src/surface/hookbridge/router.c
// (/v1, operator routes) and src/surface/svix/router.c (/api/v1, plus a CORS
// preflight on every /api/v1 path); and the response validator used by every
// API call of the suite (lib/openapi.mjs) really rejects wrong bodies,
// statuses and routes, in HookBridge's shapes and in Svix's.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    findOperation, loadSpec, validateAgainst, validateResponse,
} from './lib/openapi.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUTER_C = path.resolve(here, '../../src/surface/hookbridge/router.c');
const HTTP_ROUTER_C = path.resolve(here, '../../src/http/router.c');
const SVIX_ROUTER_C = path.resolve(here, '../../src/surface/svix/router.c');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const ptr = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function operations(doc) {
    const ops = [];
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const m of METHODS) if (item[m]) ops.push({ method: m.toUpperCase(), path: p, op: item[m] });
    }
    return ops;
}

function resolvePointer(doc, ref) {
    assert.ok(ref.startsWith('#/'), `only local refs are used: ${ref}`);
    return ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((o, k) => (o === undefined ? undefined : o[k]), doc);
}

/** "METHOD /v1/a/{}/b" with every path parameter anonymised. */
const routeKey = (method, p) => `${method} ${p.replace(/\{[^}]+\}|:[a-z_]+/g, '{}')}`;

/** A fake response; X-Request-Id mirrors meta.request_id as hookd does. */
const json = (status, body, ctype = 'application/json') => ({
    status,
    headers: { 'content-type': ctype, ...(body?.meta?.request_id ? { 'x-request-id': body.meta.request_id } : {}) },
    text: JSON.stringify(body),
    json: body,
});

const REQ = 'req_0123456789abcdef01234567';
const EP = 'ep_0123456789abcdef0123456789abcdef';
const T0 = '2026-01-02T03:04:05.678Z';
const endpoint = {
    id: EP, url: 'https://example.com/hook', description: null, hmac_enabled: true,
    rate_limit_rps: null, burst: null, headers: null, paused: false, status: 'active',
    created_at: T0, updated_at: T0, retry: null, delay_ms: 0, deduplicate: null, rate_limit: null,
    max_concurrency: null, fifo: false, http_method: 'POST', transformation: null, auth: null,
    signature_scheme: 'standard', public_key: null, header_prefix: null, svix_headers: false,
    url_locked_while_active: false, disabled: false, disabled_reason: null, disabled_at: null,
    circuit_state: 'closed', circuit_opened_at: null,
};

test('openapi: the document parses, is OpenAPI 3.1, every $ref resolves, every response schema compiles', () => {
    const doc = loadSpec();
    assert.match(doc.openapi, /^3\.1\./);
    const refs = [];
    (function walk(v) {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
            if (typeof v.$ref === 'string') refs.push(v.$ref);
            Object.values(v).forEach(walk);
        }
    })(doc);
    assert.ok(refs.length > 50, 'the document uses components');
    for (const ref of refs) assert.notEqual(resolvePointer(doc, ref), undefined, `dangling $ref ${ref}`);

    const ids = new Set();
    let compiled = 0;
    for (const { method, path: p, op } of operations(doc)) {
        assert.ok(op.operationId, `${method} ${p} has an operationId`);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        assert.ok(Object.keys(op.responses ?? {}).length, `${method} ${p} documents responses`);
        for (const [status, r0] of Object.entries(op.responses)) {
            assert.match(status, /^[1-5]\d\d$/, `${method} ${p}: explicit status codes only`);
            let r = r0;
            let at = `#/paths/${ptr(p)}/${method.toLowerCase()}/responses/${status}`;
            if (r.$ref) { at = r.$ref; r = resolvePointer(doc, r.$ref); }
            assert.ok(r.description, `${method} ${p} ${status} has a description`);
            if (p.startsWith('/v1/') && Number(status) >= 400) {
                const media = r.content?.['application/json'];
                assert.ok(media, `${method} ${p} ${status}: JSON error body`);
                assert.equal(resolvePointer(doc, media.schema.$ref), doc.components.schemas.Error,
                    `${method} ${p} ${status} uses the Error envelope`);
                assert.ok(Array.isArray(media['x-error-codes']) && media['x-error-codes'].length,
                    `${method} ${p} ${status} lists its error codes`);
            }
            if (p.startsWith('/api/v1/') && Number(status) >= 400) {
                const media = r.content?.['application/json'];
                assert.ok(media, `${method} ${p} ${status}: JSON error body (the SDKs parse every 4xx body)`);
                if (status === '422') {
                    assert.equal(resolvePointer(doc, media.schema.$ref), doc.components.schemas.SvixHttpValidationError,
                        `${method} ${p} 422 uses Svix's HTTPValidationError`);
                } else {
                    assert.equal(resolvePointer(doc, media.schema.$ref), doc.components.schemas.SvixError,
                        `${method} ${p} ${status} uses Svix's {code, detail}`);
                    assert.ok(Array.isArray(media['x-svix-error-codes']) && media['x-svix-error-codes'].length,
                        `${method} ${p} ${status} lists its codes`);
                }
            }
            if (p.startsWith('/api/v1/') && Number(status) < 300) {
                assert.equal(!r.content, status === '204', `${method} ${p} ${status}: a body exactly when not 204`);
            }
            for (const ctype of Object.keys(r.content ?? {})) {
                // Compiles (throws on a broken schema) and is not vacuous.
                const errs = validateAgainst(`${at}/content/${ptr(ctype)}/schema`, Symbol.for('x'));
                assert.ok(errs, `${method} ${p} ${status} ${ctype}: a non-JSON value is rejected`);
                compiled++;
            }
        }
        if (p.startsWith('/v1/') || (p.startsWith('/api/v1/') && method !== 'OPTIONS')) {
            for (const s of ['401', '403', '429', '500', '503']) {
                assert.ok(op.responses[s], `${method} ${p} documents ${s}`);
            }
        }
        if (p.startsWith('/api/v1/') && method === 'POST') {
            for (const s of ['409', '422']) {
                assert.ok(op.responses[s], `${method} ${p} documents ${s} (Idempotency-Key)`);
            }
        }
        if (p.startsWith('/api/v1/') && method === 'OPTIONS') {
            assert.deepEqual(Object.keys(op.responses), ['204'], `${method} ${p}: a preflight answers 204`);
            assert.equal(op.responses['204'].$ref, '#/components/responses/SvixPreflight');
        }
    }
    for (const [p, item] of Object.entries(doc.paths)) {
        if (p.startsWith('/api/v1/')) assert.ok(item.options, `${p} documents its CORS preflight (OPTIONS)`);
    }
    assert.ok(compiled >= 100, `compiled ${compiled} response schemas`);
});

test('openapi: every route of src/surface/hookbridge/router.c has an operation and every operation a route', () => {
    const doc = loadSpec();
    const src = fs.readFileSync(ROUTER_C, 'utf8');
    const table = src.slice(src.indexOf('routes[] = {'), src.indexOf('};', src.indexOf('routes[] = {')));
    const routes = [...table.matchAll(/\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(hookbridge__\w+)\s*\}/g)]
        .map(([, method, p]) => routeKey(method, `/v1/${p}`));
    assert.ok(routes.length >= 30, `parsed ${routes.length} routes from router.c`);
    // The operator routes are dispatched in http__route before any surface.
    const httpSrc = fs.readFileSync(HTTP_ROUTER_C, 'utf8');
    for (const [seg, methods] of [...httpSrc.matchAll(/!strcmp\(r->seg\[0\], "(\w+)"\)([^)]*\)[^{]*)\{/g)]
        .map(([, seg, rest]) => [seg, [...rest.matchAll(/is\(r, "([A-Z]+)"\)/g)].map((m) => m[1])])) {
        if (seg === 'v1') continue;
        for (const m of methods) routes.push(routeKey(m, `/${seg}`));
    }
    assert.ok(routes.includes('GET /healthz') && routes.includes('GET /metrics'), `operator routes: ${routes}`);
    // The Svix surface: src/surface/svix/router.c's table, under /api/v1.
    const svixSrc = fs.readFileSync(SVIX_ROUTER_C, 'utf8');
    const svixTable = svixSrc.slice(svixSrc.indexOf('routes[] = {'), svixSrc.indexOf('};', svixSrc.indexOf('routes[] = {')));
    const svixRoutes = [...svixTable.matchAll(/\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*\}/g)]
        .map(([, method, p]) => routeKey(method, `/api/v1/${p}`));
    assert.ok(svixRoutes.length >= 38, `parsed ${svixRoutes.length} routes from src/surface/svix/router.c`);
    routes.push(...svixRoutes);
    // OPTIONS on /api/v1 is the CORS preflight svix_route answers before routing.
    const specRoutes = operations(doc).filter(({ method, path: p }) => !(method === 'OPTIONS' && p.startsWith('/api/v1/')))
        .map(({ method, path: p }) => routeKey(method, p));
    const missing = routes.filter((r) => !specRoutes.includes(r));
    const extra = specRoutes.filter((r) => !routes.includes(r));
    assert.deepEqual(missing, [], 'routes of router.c without an operation in docs/openapi.yaml');
    assert.deepEqual(extra, [], 'operations in docs/openapi.yaml that router.c does not route');
    assert.equal(new Set(specRoutes).size, specRoutes.length, 'no duplicate operations');
});

test('openapi: operations are found the way the router matches (literal segments first)', () => {
    assert.equal(findOperation('POST', '/v1/messages/replay-all?status=queued').op.operationId, 'replayAllMessages');
    assert.equal(findOperation('GET', '/v1/messages/replay-all').op.operationId, 'getMessage');
    assert.equal(findOperation('DELETE', '/v1/endpoints/ep_1/signing-keys/sk_2').op.operationId, 'deleteSigningKey');
    assert.equal(findOperation('GET', '//v1//endpoints/').op.operationId, 'listEndpoints');
    assert.deepEqual(findOperation('GET', '/v1/nope'), { unrouted: 404 });
    assert.deepEqual(findOperation('DELETE', '/v1/webhooks/send'), { unrouted: 405 });
    assert.equal(findOperation('GET', '/api/v1/app/acme/msg/msg_1/attempt/atmpt_2?expanded_statuses=true').op.operationId, 'svixGetAttempt');
    assert.equal(findOperation('GET', '/api/v1/app/acme/attempt/msg/msg_1').op.operationId, 'svixListAttemptsByMessage');
    assert.equal(findOperation('GET', '/api/v1/app/acme/endpoint/ep_1/msg').op.operationId, 'svixListEndpointMessages');
    assert.equal(findOperation('GET', '/api/v1/app/acme/msg/msg_1/endpoint').op.operationId, 'svixListAttemptedDestinations');
    assert.equal(findOperation('OPTIONS', '/api/v1/app/acme').op.operationId, 'svixPreflightAppId');
    assert.deepEqual(findOperation('GET', '/api/v1/nope'), { unrouted: 404 });
    assert.deepEqual(findOperation('DELETE', '/api/v1/app'), { unrouted: 405 });
});

test('openapi: the validator accepts documented responses and rejects wrong ones', () => {
    const ok = (method, p, res) => assert.doesNotThrow(() => validateResponse(method, p, res));
    const bad = (method, p, res, re) => assert.throws(() => validateResponse(method, p, res), re);
    const meta = { request_id: REQ };

    ok('GET', `/v1/endpoints/${EP}`, json(200, { data: endpoint, meta }));
    bad('GET', `/v1/endpoints/${EP}`, json(200, { data: { ...endpoint, paused: 'no' }, meta }), /paused/);
    bad('GET', `/v1/endpoints/${EP}`, json(200, { data: { ...endpoint, pasued: false }, meta }), /pasued/);
    const { created_at: _, ...noCreated } = endpoint;
    bad('GET', `/v1/endpoints/${EP}`, json(200, { data: noCreated, meta }), /created_at/);
    bad('GET', `/v1/endpoints/${EP}`, json(200, { data: { ...endpoint, created_at: '2026-01-02 03:04' }, meta }), /date-time/);
    bad('GET', `/v1/endpoints/${EP}`, json(200, { data: endpoint, meta: { request_id: 'abc' } }), /request_id/);
    bad('GET', `/v1/endpoints/${EP}`, { ...json(200, { data: endpoint, meta }), headers: { 'content-type': 'text/html' } }, /content-type/);
    bad('GET', `/v1/endpoints/${EP}`, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': REQ }, text: '<html>' }, /not JSON/);

    // Documented headers.
    const withHeaders = (h) => { const r = json(200, { data: endpoint, meta }); Object.assign(r.headers, h); return r; };
    ok('GET', `/v1/endpoints/${EP}`, withHeaders({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '998', 'x-ratelimit-reset': '1767322000' }));
    bad('GET', `/v1/endpoints/${EP}`, withHeaders({ 'x-request-id': undefined }), /required header X-Request-Id/);
    bad('GET', `/v1/endpoints/${EP}`, withHeaders({ 'x-request-id': 'req_ffffffffffffffffffffffff' }), /!= meta.request_id/);
    bad('GET', `/v1/endpoints/${EP}`, withHeaders({ 'x-ratelimit-remaining': 'lots' }), /X-RateLimit-Remaining/);
    const limited = json(429, { error: { code: 'RATE_LIMITED', message: 'slow down' }, meta });
    bad('GET', `/v1/endpoints/${EP}`, limited, /Retry-After/);
    limited.headers['retry-after'] = '3';
    ok('GET', `/v1/endpoints/${EP}`, limited);

    // Cursor meta: next_cursor is a non-empty string iff has_more.
    const page = (m) => json(200, { data: [endpoint], meta: { ...meta, ...m } });
    ok('GET', '/v1/endpoints?limit=1', page({ has_more: true, next_cursor: EP }));
    ok('GET', '/v1/endpoints', page({ has_more: false, next_cursor: null }));
    bad('GET', '/v1/endpoints', page({ has_more: false, next_cursor: '' }), /next_cursor|oneOf/);
    bad('GET', '/v1/endpoints', page({ has_more: true, next_cursor: null }), /oneOf/);
    bad('GET', '/v1/endpoints', page({ has_more: false, next_cursor: EP }), /oneOf/);
    bad('GET', '/v1/endpoints', page({ next_cursor: null }), /has_more/);

    // The DLQ keeps its paging inside data.
    const dlq = { messages: [], has_more: false, next_cursor: null };
    ok('GET', '/v1/dlq/messages', json(200, { data: dlq, meta }));
    bad('GET', '/v1/dlq/messages', json(200, { data: [], meta: { ...meta, has_more: false, next_cursor: null } }));

    // Integers vs numbers.
    const metrics = { window: '24h', total_messages: 3, succeeded: 2, failed: 1, retries: 0, success_rate: 0.6667, avg_latency_ms: 12 };
    ok('GET', '/v1/metrics', json(200, { data: metrics, meta }));
    bad('GET', '/v1/metrics', json(200, { data: { ...metrics, avg_latency_ms: 12.5 }, meta }), /integer/);
    bad('GET', '/v1/metrics', json(200, { data: { ...metrics, window: '2h' }, meta }), /allowed values/);

    // Errors: envelope, documented status and code.
    const err = (code) => ({ error: { code, message: 'x' }, meta });
    ok('GET', `/v1/endpoints/${EP}`, json(404, err('ENDPOINT_NOT_FOUND')));
    bad('GET', `/v1/endpoints/${EP}`, json(404, err('NOT_FOUND')), /error\.code 'NOT_FOUND' is not documented/);
    bad('GET', `/v1/endpoints/${EP}`, json(404, { error: { code: 'ENDPOINT_NOT_FOUND' }, meta }), /message/);
    bad('GET', `/v1/endpoints/${EP}`, json(404, { ...err('ENDPOINT_NOT_FOUND'), data: null }), /additional properties 'data'/);
    bad('GET', `/v1/endpoints/${EP}`, json(418, err('TEAPOT')), /status 418 is not documented/);
    bad('GET', `/v1/endpoints/${EP}`, json(422, err('INVALID_REQUEST')), /status 422 is not documented/);
    ok('GET', `/v1/endpoints/${EP}`, json(401, err('UNAUTHORIZED')));

    // Routes hookd does not have: only the router's own answers are fine.
    ok('GET', '/v1/nope', json(404, err('NOT_FOUND')));
    ok('GET', '/v1/nope', json(401, err('UNAUTHORIZED')));
    bad('GET', '/v1/nope', json(200, { data: {}, meta }), /no operation for GET \/v1\/nope/);
    ok('DELETE', '/v1/webhooks/send', json(405, err('METHOD_NOT_ALLOWED')));
    bad('DELETE', '/v1/webhooks/send', json(404, err('NOT_FOUND')), /expected 405/);

    // Top-level message / error quirks.
    const rb = { replayed: 1, failed: 0, stuck: 0, results: [{ message_id: 'x', status: 'replayed' }] };
    ok('POST', '/v1/messages/replay-batch', json(200, { message: '1 message queued for replay', data: rb, meta }));
    bad('POST', '/v1/messages/replay-batch', json(200, { data: rb, meta }), /message/);
    const da = { deleted: 0, deleted_message_ids: [] };
    ok('POST', '/v1/messages/delete-all', json(200, { data: da, meta }));
    ok('POST', '/v1/messages/delete-all', json(200, { data: da, error: { code: 'INTERNAL_ERROR', message: 'stopped' }, meta }));

    // Operator routes.
    ok('GET', '/healthz', json(200, { status: 'ok' }));
    ok('HEAD', '/healthz', { status: 200, headers: {}, text: '' });
    ok('GET', '/metrics', { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, text: '# TYPE hookd_x counter\n' });
    bad('GET', '/metrics', json(200, {}), /content-type/);

    // An undocumented status fails, whatever its body.
    bad('GET', '/v1/logs', json(501, err('NOT_IMPLEMENTED')), /501/);
    bad('GET', '/v1/logs', json(501, err('OTHER')), /501/);
    bad('GET', '/v1/logs', json(501, { oops: true }), /501/);

    // /v1 refuses portal tokens (403 FORBIDDEN), and only portal tokens get that 403.
    const portal = { headers: { authorization: `Bearer whpt_${'a'.repeat(48)}` } };
    const apiKey = { headers: { Authorization: 'Bearer hk_live_x' } };
    const okReq = (method, p, res, req) => assert.doesNotThrow(() => validateResponse(method, p, res, req));
    const badReq = (method, p, res, req, re) => assert.throws(() => validateResponse(method, p, res, req), re);
    okReq('GET', '/v1/endpoints', json(403, err('FORBIDDEN')), portal);
    okReq('GET', '/v1/nope', json(403, err('FORBIDDEN')), portal);
    badReq('GET', '/v1/endpoints', json(403, err('FORBIDDEN')), apiKey, /portal token/);
    bad('GET', '/v1/endpoints', json(403, err('FORBIDDEN')), /portal token/);
    badReq('GET', '/v1/endpoints', json(403, err('INSUFFICIENT_ACCESS')), portal, /error\.code/);
    okReq('POST', '/v1/api-keys', json(403, err('FORBIDDEN')), apiKey); // its own 403 (test key asking for live)
});

test('openapi: the validator checks the Svix surface (/api/v1) in Svix\'s shapes', () => {
    const ok = (method, p, res, req) => assert.doesNotThrow(() => validateResponse(method, p, res, req));
    const bad = (method, p, res, re, req) => assert.throws(() => validateResponse(method, p, res, req), re);
    const portal = { headers: { authorization: `Bearer whpt_${'a'.repeat(48)}` } };
    const app = {
        id: 'app_01jq3vm5x9k2g7h8n0p4r6t8wy', uid: 'acme', name: 'Acme', throttleRate: null, rateLimit: null,
        metadata: { plan: 'pro' }, createdAt: T0, updatedAt: T0,
    };
    const svixErr = (code) => ({ code, detail: 'x' });
    // Svix bodies carry no meta; X-Request-Id is still on every JSON answer.
    const sjson = (status, body) => {
        const r = json(status, body);
        r.headers['x-request-id'] = REQ;
        return r;
    };
    const noContent = { status: 204, headers: {}, text: '' };

    ok('GET', '/api/v1/app/acme', sjson(200, app));
    ok('GET', '/api/v1/app/app_default_live', sjson(200, { ...app, id: 'app_default_live', uid: 'default' }));
    bad('GET', '/api/v1/app/acme', sjson(200, { ...app, filter: null }), /filter/);
    bad('GET', '/api/v1/app/acme', sjson(200, { ...app, id: 'app_1' }), /id/);
    const { rateLimit: _, ...no1x } = app;
    bad('GET', '/api/v1/app/acme', sjson(200, no1x), /rateLimit/);
    bad('GET', '/api/v1/app/acme', sjson(200, { ...app, createdAt: '2026-01-02T03:04:05' }), /createdAt/);
    bad('GET', '/api/v1/app/acme', sjson(200, { data: app, meta: { request_id: REQ } }), /required property 'id'/);
    ok('POST', '/api/v1/app?get_if_exists=true', sjson(200, app));
    ok('POST', '/api/v1/app', sjson(201, app));
    bad('PATCH', '/api/v1/app/acme', sjson(201, app), /status 201 is not documented/);

    // Lists: done is false exactly when iterator is set; prevIterator is null.
    const list = (extra) => sjson(200, { data: [app], iterator: null, prevIterator: null, done: true, ...extra });
    ok('GET', '/api/v1/app', list());
    ok('GET', '/api/v1/app?limit=1', list({ iterator: app.id, done: false }));
    bad('GET', '/api/v1/app', list({ done: false }), /oneOf/);
    bad('GET', '/api/v1/app', list({ iterator: app.id }), /oneOf/);
    bad('GET', '/api/v1/app', list({ data: undefined }), /data/);
    bad('GET', '/api/v1/app', list({ prevIterator: 'x' }), /prevIterator/);
    bad('GET', '/api/v1/app', list({ data: [{ ...app, extra: 1 }] }), /extra/);

    // 204 answers have no body; the SDKs need a JSON body on every other 2xx.
    ok('DELETE', '/api/v1/app/acme', noContent);
    ok('GET', '/api/v1/health', noContent);
    ok('HEAD', '/api/v1/health', noContent);
    bad('DELETE', '/api/v1/app/acme', sjson(200, {}), /status 200 is not documented/);
    ok('POST', '/api/v1/app/acme/msg/msg_1/endpoint/ep_1/resend', sjson(202, {}));
    bad('POST', '/api/v1/app/acme/msg/msg_1/endpoint/ep_1/resend', { status: 202, headers: { 'content-type': 'application/json' }, text: '' }, /not JSON/);
    bad('POST', '/api/v1/app/acme/msg/msg_1/endpoint/ep_1/resend', sjson(202, { ok: true }), /ok/);

    // Errors: Svix's {code, detail} with the code of the status; 422 names a field.
    ok('GET', '/api/v1/app/nope', sjson(404, svixErr('not_found')));
    bad('GET', '/api/v1/app/nope', sjson(404, svixErr('conflict')), /code 'conflict' is not documented/);
    bad('GET', '/api/v1/app/nope', sjson(404, { error: { code: 'NOT_FOUND', message: 'x' }, meta: { request_id: REQ } }), /additional|code/);
    bad('GET', '/api/v1/app/nope', sjson(404, { code: 'not_found' }), /detail/);
    ok('POST', '/api/v1/app', sjson(409, svixErr('conflict')));
    ok('POST', '/api/v1/app', sjson(413, svixErr('payload_too_large')));
    ok('POST', '/api/v1/app', sjson(400, svixErr('generic_error')));
    const v422 = (loc) => sjson(422, { detail: [{ loc, msg: 'bad', type: 'value_error' }] });
    ok('POST', '/api/v1/app', v422(['body', 'uid']));
    ok('GET', '/api/v1/app?limit=0', v422(['query', 'limit']));
    ok('POST', '/api/v1/app', v422(['header', 'idempotency-key']));
    bad('GET', '/api/v1/app', v422(['cookie', 'limit']), /loc/);
    bad('GET', '/api/v1/app', v422(['body']), /loc/);
    bad('GET', '/api/v1/app/acme', v422(['query', 'limit']), /status 422 is not documented/);
    bad('POST', '/api/v1/app', sjson(422, svixErr('generic_error')), /detail/);
    ok('GET', '/api/v1/app', sjson(401, svixErr('authentication_failed')));
    bad('GET', '/api/v1/app', sjson(401, { error: { code: 'UNAUTHORIZED', message: 'x' }, meta: { request_id: REQ } }), /additional|code/);
    const limited = sjson(429, svixErr('rate_limited'));
    bad('GET', '/api/v1/app', limited, /Retry-After/);
    limited.headers['retry-after'] = '2';
    ok('GET', '/api/v1/app', limited);
    ok('GET', '/api/v1/app', sjson(503, svixErr('server_error')));

    // 403 insufficient_access: portal tokens only.
    ok('POST', '/api/v1/app', sjson(403, svixErr('insufficient_access')), portal);
    bad('POST', '/api/v1/app', sjson(403, svixErr('insufficient_access')), /portal token/);

    // Not routed: OPTIONS is a preflight anywhere; else auth, portal scope, 404 / 405.
    const preflight = { status: 204, text: '', headers: {
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key, svix-req-id',
        'access-control-max-age': '600' } };
    ok('OPTIONS', '/api/v1/app/acme/endpoint', preflight);
    ok('OPTIONS', '/api/v1/nope/at/all', preflight);
    bad('OPTIONS', '/api/v1/app', { ...preflight, headers: { ...preflight.headers, 'access-control-max-age': '5' } }, /Max-Age/);
    bad('OPTIONS', '/api/v1/app', noContent, /required header/);
    ok('GET', '/api/v1/nope', sjson(404, svixErr('not_found')));
    ok('GET', '/api/v1/nope', sjson(401, svixErr('authentication_failed')));
    ok('GET', '/api/v1/nope', sjson(403, svixErr('insufficient_access')), portal);
    bad('GET', '/api/v1/nope', sjson(403, svixErr('insufficient_access')), /portal token/);
    bad('GET', '/api/v1/nope', sjson(200, {}), /no operation/);
    ok('DELETE', '/api/v1/app', sjson(405, svixErr('method_not_allowed')));
    bad('DELETE', '/api/v1/app', sjson(404, svixErr('not_found')), /expected 405/);
    bad('DELETE', '/api/v1/app', sjson(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'x' }, meta: { request_id: REQ } }), /additional|code/);
    ok('POST', '/api/v1/nope', sjson(422, { detail: [{ loc: ['body', 'idempotencyKey'], msg: 'too long', type: 'value_error' }] }));
    bad('GET', '/api/v1/nope', sjson(422, { detail: [{ loc: ['body', 'idempotencyKey'], msg: 'too long', type: 'value_error' }] }), /expected 404/);
});
