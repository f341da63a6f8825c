// Address policy (ARCHITECTURE §6): without --allow-private-networks no
// delivery may reach a loopback receiver, however its address is spelled.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './lib/hookd.mjs';
import { scaled } from './lib/util.mjs';

const LOOPBACK_SPELLINGS = [
    '127.0.0.1', 'localhost', '0.0.0.0', '127.1', '2130706433', '0x7f000001', '0177.0.0.1',
    '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::]',
];

test('without --allow-private-networks deliveries never reach loopback', { timeout: scaled(40_000) }, async (t) => {
    const env = await setup(t);
    const rcv = await env.startReceiver({ status: 200 });
    const h = await env.startHookd({ allowPrivate: false, retrySlow: '30s' });
    for (const host of LOOPBACK_SPELLINGS) {
        await t.test(host, async () => {
            const created = await h.api('POST', '/v1/endpoints', { url: `http://${host}:${rcv.port}/${host}` });
            if (created.status === 400) {
                // Refusing at creation is fine too.
                assert.ok(['ENDPOINT_BLOCKED', 'INVALID_ENDPOINT'].includes(created.json?.error?.code), created.text);
                return;
            }
            assert.equal(created.status, 201, created.text);
            const { message_id } = await h.send({ endpoint_id: created.json.data.id, payload: { host } });
            const m = await h.waitForMessage(message_id, 'pending_retry');
            assert.equal(m.attempt_count, 1);
            const { data: attempts } = await h.attempts(message_id);
            assert.ok(attempts[0].error_text, 'the refusal is recorded');
            assert.ok(attempts[0].response_status === undefined || attempts[0].response_status === null);
        });
    }
    assert.deepEqual(rcv.requests.map((r) => r.path), [], 'the loopback receiver was never reached');
});

// A proxy from hookd's environment would be what the address policy checks, not
// the receiver (docs/delivery.md): hookd ignores proxy variables and connects directly.
test('proxy variables in the environment are ignored: deliveries go straight to the receiver', { timeout: scaled(30_000) }, async (t) => {
    const http = await import('node:http');
    let proxied = 0;
    const proxy = http.createServer((req, res) => {
        proxied++;
        res.end();
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.after(() => { proxy.closeAllConnections(); proxy.close(); });
    const via = `http://127.0.0.1:${proxy.address().port}`;
    const env = await setup(t);
    const h = await env.startHookd({
        env: { http_proxy: via, https_proxy: via, all_proxy: via, ALL_PROXY: via, no_proxy: '', NO_PROXY: '' },
    });
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/hook') });
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { direct: true } });
    const m = await h.waitForMessage(message_id, (x) => x.status === 'succeeded' || x.attempt_count >= 1);
    assert.equal(m.status, 'succeeded');
    assert.equal(proxied, 0, 'nothing went through the proxy');
    assert.equal(rcv.requests.length, 1, 'the receiver got the delivery itself');
});
