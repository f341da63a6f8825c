// The hookd command line and operator surface: help, offline key creation,
// first-start key, environment configuration, /healthz, /metrics, SIGTERM.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setup, setupDelivery } from './lib/hookd.mjs';
import { expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(30_000) };
const KEY_LINE = /hk_live_[0-9a-f]{40}/;

test('--help and serve --help exit 0 and list the flags', T, async (t) => {
    const env = await setup(t);
    const top = await env.run(['--help']);
    assert.equal(top.code, 0, top.stderr);
    const topText = top.stdout + top.stderr;
    assert.match(topText, /serve/);
    assert.match(topText, /keys/);

    const serve = await env.run(['serve', '--help']);
    assert.equal(serve.code, 0, serve.stderr);
    const serveText = serve.stdout + serve.stderr;
    for (const flag of ['--listen', '--data', '--allow-http', '--allow-private-networks',
        '--retry-fast', '--retry-slow', '--delivery-timeout']) {
        assert.ok(serveText.includes(flag), `serve --help mentions ${flag}`);
    }
});

test('bad configuration and a busy port are fatal at startup with a precise message', T, async (t) => {
    const env = await setup(t);
    const serve = (extra, envVars = {}) => env.run(['serve', '--listen', '127.0.0.1:0', '--data', env.dataDir(), ...extra],
        { env: { HOOKD_BOOTSTRAP_KEY: 'hk_live_' + 'a'.repeat(40), ...envVars } });
    for (const [extra, envVars, mention] of [
        [['--retry-fast', 'garbage'], {}, 'retry-fast'],
        [['--delivery-timeout', 'soon'], {}, 'delivery-timeout'],
        [['--no-such-flag'], {}, 'no-such-flag'],
        [[], { HOOKD_RETRY_SLOW: 'nonsense' }, 'retry-slow'],
        [['--header-prefix', 'webhook-'], {}, 'header-prefix'],
        [[], { HOOKD_HEADER_PREFIX: 'X Bad-' }, 'header-prefix'],
    ]) {
        const r = await serve(extra, envVars);
        assert.ok(r.code !== 0 && r.code !== null, `${extra} ${JSON.stringify(envVars)}: exit ${r.code}/${r.signal}`);
        assert.ok(r.stderr.includes(mention), `stderr names ${mention}: ${r.stderr}`);
    }
    const unknown = await env.run(['frobnicate']);
    assert.ok(unknown.code !== 0 && unknown.code !== null);

    const h = await env.startHookd();
    const busy = await env.run(['serve', '--listen', `127.0.0.1:${h.port}`, '--data', env.dataDir()],
        { env: { HOOKD_BOOTSTRAP_KEY: 'hk_live_' + 'b'.repeat(40) } });
    assert.ok(busy.code !== 0 && busy.code !== null, `second hookd on a busy port exits non-zero: ${busy.code}`);
    assert.equal((await h.healthz()).status, 200, 'the first server is unaffected');
});

test('keys create works offline and the key is accepted by the server', T, async (t) => {
    const env = await setup(t);
    const dataDir = env.dataDir();
    const live = await env.run(['keys', 'create', '--mode', 'live', '--label', 'ci', '--data', dataDir]);
    assert.equal(live.code, 0, live.stderr);
    const liveLines = live.stdout.split('\n').filter(Boolean);
    assert.equal(liveLines.length, 1, `one line on stdout: ${JSON.stringify(live.stdout)}`);
    assert.match(liveLines[0], /^hk_live_\S+$/);

    const testKey = await env.run(['keys', 'create', '--mode', 'test', '--data', dataDir]);
    assert.equal(testKey.code, 0, testKey.stderr);
    const testLine = testKey.stdout.trim();
    assert.match(testLine, /^hk_test_\S+$/);
    assert.ok(testLine.includes('_test_'));

    const bad = await env.run(['keys', 'create', '--mode', 'bogus', '--data', dataDir]);
    assert.notEqual(bad.code, 0, 'an unknown mode is refused');

    const h = await env.startHookd({ dataDir, bootstrapKey: null });
    for (const key of [liveLines[0], testLine]) {
        expectOk(await h.api('GET', '/v1/endpoints', undefined, { key }));
    }
    const unknown = await h.api('GET', '/v1/endpoints', undefined, { key: 'hk_live_' + 'f'.repeat(40) });
    assert.equal(unknown.status, 401);
});

test('first start prints a new key once; the second start prints none', T, async (t) => {
    const env = await setup(t);
    const dataDir = env.dataDir();
    const h1 = await env.startHookd({ dataDir, bootstrapKey: null });
    const [key] = await h1.waitForStdout(KEY_LINE);
    expectOk(await h1.api('GET', '/v1/endpoints', undefined, { key }));
    assert.equal(h1.stdout.match(new RegExp(KEY_LINE, 'g')).length, 1, 'the key is printed once');
    assert.equal((await h1.stop()).code, 0);

    const h2 = await env.startHookd({ dataDir, bootstrapKey: null });
    expectOk(await h2.api('GET', '/v1/endpoints', undefined, { key }));
    assert.doesNotMatch(h2.stdout, /hk_(live|test)_/, 'no key on the second start');
});

test('configuration through HOOKD_* environment variables only', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({
        useFlags: false,
        env: {
            HOOKD_LISTEN: '127.0.0.1:0', HOOKD_DATA: env.dataDir(), HOOKD_ALLOW_HTTP: '1',
            HOOKD_ALLOW_PRIVATE_NETWORKS: '1', HOOKD_DELIVERY_TIMEOUT: '1s',
        },
    });
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/env') }); // needs HOOKD_ALLOW_HTTP
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { via: 'env' } });
    await h.waitForMessage(message_id, 'succeeded'); // needs HOOKD_ALLOW_PRIVATE_NETWORKS
});

test('/healthz and /metrics need no key; counters move', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t);
    const health = await h.healthz();
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });

    const metric = (text, name) => {
        const re = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.eE+-]+)`, 'gm');
        let sum = null;
        for (const m of text.matchAll(re)) sum = (sum ?? 0) + Number(m[2]);
        return sum;
    };
    const scrape = async () => {
        const res = await h.api('GET', '/metrics', undefined, { key: null });
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
        return res.text;
    };
    const before = await scrape();
    const names = ['hookd_sends_accepted_total', 'hookd_deliveries_succeeded_total'];
    for (const name of names) {
        assert.notEqual(metric(before, name), null, `${name} is exported`);
        assert.match(before, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { m: 1 } });
    await h.waitForMessage(message_id, 'succeeded');
    await rcv.waitForRequests(1);
    const after = await scrape();
    for (const name of names) assert.equal(metric(after, name), metric(before, name) + 1, name);
});

test('SIGTERM finishes the in-flight delivery and exits 0', T, async (t) => {
    const { env, h, rcv, ep } = await setupDelivery(t, { receiver: { status: 200, delayMs: 500 } });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { slow: true } });
    await rcv.waitForRequests(1);
    const { code, signal } = await h.stop('SIGTERM', 10_000);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.equal(rcv.requests[0].answered, 200, 'hookd waited for the receiver to answer');

    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    const m = await h2.getMessage(message_id);
    assert.equal(m.status, 'succeeded', 'the result of the in-flight delivery was recorded');
    assert.equal(m.attempt_count, 1);
    assert.equal((await h2.healthz()).status, 200);
});

test('SIGTERM with a hanging receiver exits 0 within the delivery timeout; nothing is lost', T, async (t) => {
    const { env, h, rcv, ep } = await setupDelivery(t, { receiver: { hang: true } });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { hang: true } });
    await rcv.waitForRequests(1);
    const started = Date.now();
    const { code } = await h.stop('SIGTERM', 10_000);
    assert.equal(code, 0);
    t.diagnostic(`exited ${Date.now() - started} ms after SIGTERM`);

    rcv.respond({ status: 200 });
    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    await h2.waitForMessage(message_id, 'succeeded');
    assert.ok(rcv.requestsFor(message_id).some((r) => r.answered === 200));
});

test('keep-alive clients can reuse one connection for many requests', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const sockets = new Set();
    for (let i = 0; i < 20; i++) {
        const path = i % 2 ? '/healthz' : '/v1/endpoints';
        const status = await new Promise((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: h.port, path, agent,
                headers: { authorization: `Bearer ${h.key}` } }, (res) => {
                sockets.add(req.socket);
                res.resume();
                res.on('end', () => resolve(res.statusCode));
            });
            req.on('error', reject);
        });
        assert.equal(status, 200, `request ${i} to ${path}`);
    }
    assert.equal(sockets.size, 1, 'one connection served every request');
});
