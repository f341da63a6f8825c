// Helpers for the Hookbase surface (/api/..., /portal/..., TENANCY.md §6):
// plain JSON requests (docs/openapi.yaml does not describe these routes) and
// the checks every Hookbase answer shares.
import assert from 'node:assert/strict';
import { httpRequest } from './util.mjs';

/** A client of hookd h: call(method, path, body?, {key, xApiKey, headers, raw}). */
export function hookbase(h, defaultKey = h.key) {
    return async (method, path, body, opts = {}) => {
        const headers = { ...(opts.headers ?? {}) };
        const key = opts.key === undefined ? defaultKey : opts.key;
        if (key !== null) {
            if (opts.xApiKey) headers['x-api-key'] = key;
            else headers.authorization = `Bearer ${key}`;
        }
        let payload = opts.raw;
        if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
        if (payload !== undefined) {
            headers['content-type'] ??= 'application/json';
            headers['content-length'] = Buffer.byteLength(payload);
        }
        const res = await httpRequest({ port: h.port, method, path, headers, body: payload, validate: false });
        const text = res.body.toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        return { status: res.status, headers: res.headers, json, text, method, path };
    };
}

const where = (res) => `${res.method} ${res.path} -> ${res.status} ${res.text.slice(0, 400)}`;

/** Asserts {data} with status; returns data. */
export function ok(res, status = 200) {
    assert.equal(res.status, status, where(res));
    assert.ok(res.json && 'data' in res.json, `no data: ${where(res)}`);
    assert.equal(res.json.error, undefined, where(res));
    return res.json.data;
}

/** Asserts Hookbase's error shape {error: {message, code, validationErrors?}}; returns error. */
export function fails(res, status, code) {
    assert.equal(res.status, status, where(res));
    assert.match(res.headers['content-type'] ?? '', /application\/json/, where(res));
    const e = res.json?.error;
    assert.ok(e && typeof e === 'object', `no error object: ${where(res)}`);
    assert.equal(typeof e.message, 'string', where(res));
    assert.ok(e.message.length > 0, where(res));
    assert.equal(typeof e.code, 'string', where(res));
    if (code !== undefined) assert.equal(e.code, code, where(res));
    assert.equal(res.json.data, undefined, where(res));
    return e;
}

/** Asserts both list shapes; returns the body. */
export function list(res) {
    assert.equal(res.status, 200, where(res));
    const b = res.json;
    assert.ok(Array.isArray(b.data), where(res));
    assert.equal(typeof b.pagination?.hasMore, 'boolean', where(res));
    assert.ok('nextCursor' in b.pagination, where(res));
    assert.equal(b.hasMore, b.pagination.hasMore, where(res));
    assert.equal(typeof b.total, 'number', where(res));
    assert.equal(typeof b.limit, 'number', where(res));
    assert.equal(typeof b.offset, 'number', where(res));
    if (b.hasMore) assert.equal(b.pagination.nextCursor, b.data.at(-1).id, where(res));
    else assert.equal(b.pagination.nextCursor, null, where(res));
    return b;
}
