// Small shared helpers for the black-box suite: time scaling, bounded waits,
// raw HTTP requests and envelope assertions.
import http from 'node:http';
import net from 'node:net';
import assert from 'node:assert/strict';
import { isHookdPath, validateResponse } from './openapi.mjs';

/** ASan builds are ~3x slower: every deadline in the suite goes through scaled(). */
export const TIME_SCALE = process.env.HOOKD_ASAN === '1' ? 4 : 1;
export const scaled = (ms) => ms * TIME_SCALE;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const UUID36 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ENDPOINT_ID = /^ep_[0-9a-f]{32}$/;

/**
 * Polls fn() until it returns a truthy value, at most `timeout` ms (scaled) and
 * at most maxTries times. Throws with `what` and the last value seen otherwise.
 */
export async function waitFor(fn, { timeout = 10_000, interval = 25, what = 'condition' } = {}) {
    const deadline = Date.now() + scaled(timeout);
    const maxTries = Math.ceil(scaled(timeout) / interval) + 10;
    let last;
    for (let i = 0; i < maxTries && Date.now() <= deadline; i++) {
        last = await fn();
        if (last) return last;
        await sleep(interval);
    }
    throw new Error(`timed out after ${scaled(timeout)} ms waiting for ${what}; last value: ` +
        JSON.stringify(last)?.slice(0, 2000));
}

/** Resolves with a loopback TCP port that nothing listens on (connection refused). */
export async function closedPort() {
    const srv = net.createServer();
    await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address();
    await new Promise((resolve) => srv.close(resolve));
    return port;
}

/**
 * One HTTP/1.1 request on a fresh connection (no keep-alive pool, so a killed
 * server never leaves stale sockets behind). Resolves with status, headers and
 * the raw body; never rejects on HTTP status, only on transport errors.
 * validate: check the response against docs/openapi.yaml (lib/openapi.mjs)
 * and reject if it does not match; default: for hookd's paths (/v1/...,
 * /api/v1/..., /healthz, /metrics). Hookd#api always validates.
 */
export function httpRequest({ port, method = 'GET', path = '/', headers = {}, body, timeout = 15_000,
    validate = isHookdPath(path) }) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    const out = { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
                    if (validate) {
                        try {
                            validateResponse(method, path, { ...out, text: out.body.toString('utf8') }, { headers });
                        } catch (e) {
                            reject(e);
                            return;
                        }
                    }
                    resolve(out);
                });
                res.on('error', reject);
            });
        req.setTimeout(scaled(timeout), () => req.destroy(new Error(`${method} ${path}: timeout`)));
        req.on('error', reject);
        req.end(body);
    });
}

function describe(res) {
    return `${res.method ?? ''} ${res.path ?? ''} -> ${res.status} ${res.text?.slice(0, 500)}`;
}

/** Asserts a success envelope with the given status; returns {data, meta}. */
export function expectOk(res, status = 200) {
    assert.equal(res.status, status, `unexpected status: ${describe(res)}`);
    assert.ok(res.json && typeof res.json === 'object', `body is not JSON: ${describe(res)}`);
    assert.ok('data' in res.json, `no data in envelope: ${describe(res)}`);
    assert.match(res.json.meta?.request_id ?? '', /^req_./, `meta.request_id: ${describe(res)}`);
    assert.equal(res.json.error, undefined, `success body carries error: ${describe(res)}`);
    return res.json;
}

/** Asserts the error envelope of API.md §2 with the given status and code. */
export function expectError(res, status, code) {
    const where = describe(res);
    assert.equal(res.status, status, `unexpected status: ${where}`);
    assert.match(res.headers['content-type'] ?? '', /application\/json/, `content-type: ${where}`);
    assert.ok(res.json && typeof res.json.error === 'object', `no error object: ${where}`);
    if (code !== undefined) assert.equal(res.json.error.code, code, `error.code: ${where}`);
    assert.equal(typeof res.json.error.code, 'string', `error.code type: ${where}`);
    assert.ok(res.json.error.code.length > 0, `empty error.code: ${where}`);
    assert.equal(typeof res.json.error.message, 'string', `error.message: ${where}`);
    assert.match(res.json.meta?.request_id ?? '', /^req_./, `meta.request_id: ${where}`);
    assert.equal(res.json.data, undefined, `error body carries data: ${where}`);
    return res.json.error;
}
