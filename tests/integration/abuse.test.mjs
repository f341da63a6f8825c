// Abuse (issue 6 §2): failed authentication is throttled per client address
// (429 RATE_LIMITED with Retry-After) without ever refusing a valid key; a
// deleted key fails at once although verified keys are cached; idle
// connections cannot starve the API (idle timeout, connection caps).
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { setup } from './lib/hookd.mjs';
import { httpRequest, expectError, expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const BAD_KEY = 'hk_live_' + 'e'.repeat(40);

test('auth throttle: after --auth-fail-limit failures an address gets 429 RATE_LIMITED; valid keys still work', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--auth-fail-limit', '5'] });
    for (let i = 0; i < 5; i++) {
        const res = await h.api('GET', '/v1/endpoints', undefined, { key: i % 2 ? BAD_KEY : null });
        expectError(res, 401, 'UNAUTHORIZED');
    }
    const limited = await h.api('GET', '/v1/endpoints', undefined, { key: BAD_KEY });
    expectError(limited, 429, 'RATE_LIMITED');
    const ra = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 12, `Retry-After ${limited.headers['retry-after']}`);
    // Missing keys count too.
    expectError(await h.api('GET', '/v1/endpoints', undefined, { key: null }), 429, 'RATE_LIMITED');
    // A valid key from the same address is never refused by the throttle.
    for (let i = 0; i < 3; i++) expectOk(await h.api('GET', '/v1/endpoints'));
    // A key created now (not cached yet) works as well.
    const other = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 201).data.key;
    expectOk(await h.api('GET', '/v1/endpoints', undefined, { key: other }));
});

test('auth throttle: another address is not throttled by this one', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--auth-fail-limit', '2'] });
    const from = (localAddress, key) => new Promise((resolve, reject) => {
        const sock = net.connect({ port: h.port, host: '127.0.0.1', localAddress });
        let buf = '';
        sock.on('connect', () => sock.end(`GET /v1/endpoints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
            (key ? `Authorization: Bearer ${key}\r\n` : '') + '\r\n'));
        sock.on('data', (c) => { buf += c; });
        sock.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1])));
        sock.on('error', reject);
    });
    assert.equal(await from('127.0.0.1', BAD_KEY), 401);
    assert.equal(await from('127.0.0.1', BAD_KEY), 401);
    assert.equal(await from('127.0.0.1', BAD_KEY), 429);
    // 127.0.0.2 is another loopback address (Linux routes 127/8 to lo).
    assert.equal(await from('127.0.0.2', BAD_KEY), 401);
    assert.equal(await from('127.0.0.2', h.key), 200);
});

test('key cache: a deleted key is 401 on the very next request', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const created = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'live' }), 201).data;
    // Warm the cache with a few requests of the new key.
    for (let i = 0; i < 3; i++) expectOk(await h.api('GET', '/v1/endpoints', undefined, { key: created.key }));
    expectOk(await h.api('DELETE', `/v1/api-keys/${created.key_id}`));
    expectError(await h.api('GET', '/v1/endpoints', undefined, { key: created.key }), 401, 'UNAUTHORIZED');
    // A key deleting itself: its own next request fails too.
    const self = expectOk(await h.api('POST', '/v1/api-keys', { mode: 'test' }), 201).data;
    expectOk(await h.api('GET', '/v1/endpoints', undefined, { key: self.key }));
    expectOk(await h.api('DELETE', `/v1/api-keys/${self.key_id}`, undefined, { key: self.key }));
    expectError(await h.api('GET', '/v1/endpoints', undefined, { key: self.key }), 401, 'UNAUTHORIZED');
    expectOk(await h.api('GET', '/v1/endpoints'));
});

/** Opens n TCP connections that send nothing; resolves the sockets once all are connected. */
async function openIdle(port, n, localAddress = '127.0.0.1') {
    const socks = [];
    for (let i = 0; i < n; i += 100) {
        const batch = [];
        for (let j = i; j < Math.min(n, i + 100); j++) {
            batch.push(new Promise((resolve, reject) => {
                const s = net.connect({ port, host: '127.0.0.1', localAddress });
                s.closedAt = null;
                s.on('close', () => { s.closedAt = Date.now(); });
                s.on('error', () => {}); // resets are expected once hookd drops them
                s.once('connect', () => resolve(s));
                s.once('error', reject);
            }));
        }
        socks.push(...await Promise.all(batch));
    }
    return socks;
}

/** 2,000, or fewer when this process may not open that many files (ulimit -n). */
function idleCount() {
    let limit = Infinity;
    try { limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || Infinity; } catch { /* keep */ }
    return Math.min(2000, limit - 200);
}

test('idle connections: 2,000 idle TCP connections do not stop a normal client, and are closed after --api-idle-timeout', { timeout: scaled(90_000) }, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--api-idle-timeout', '2s'] });
    const n = idleCount();
    if (n < 2000) t.diagnostic(`ulimit -n allows only ${n} idle connections in this run`);
    const socks = await openIdle(h.port, n);
    t.after(() => { for (const s of socks) s.destroy(); });
    const started = Date.now();
    const res = await httpRequest({ port: h.port, path: '/healthz', timeout: 5_000 });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started < scaled(1000), `served in ${Date.now() - started} ms beside ${n} idle connections`);
    expectOk(await h.api('GET', '/v1/endpoints'));
    // Every idle connection is closed by hookd after the idle timeout (2 s, whole seconds).
    const deadline = Date.now() + scaled(15_000);
    while (socks.some((s) => s.closedAt === null) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const open = socks.filter((s) => s.closedAt === null).length;
    assert.equal(open, 0, `${open} idle connections still open after the idle timeout`);
    const first = Math.min(...socks.map((s) => s.closedAt)) - started;
    assert.ok(first >= 1000, `closed too early (${first} ms)`);
});

test('idle connections: with --api-max-connections-per-ip one address cannot take every slot', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--api-max-connections', '64', '--api-max-connections-per-ip', '16'] });
    // 200 connections from one address: beyond 16 they are closed at once by hookd.
    const socks = await openIdle(h.port, 200, '127.0.0.3');
    t.after(() => { for (const s of socks) s.destroy(); });
    const deadline = Date.now() + scaled(5_000);
    while (socks.filter((s) => s.closedAt === null).length > 16 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(socks.filter((s) => s.closedAt === null).length <= 16, 'per-address cap holds');
    // A client from another address is served at once.
    const started = Date.now();
    const res = await httpRequest({ port: h.port, path: '/healthz', timeout: 5_000 });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started < scaled(1000));
});
