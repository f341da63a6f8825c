// TLS to receivers: certificates are verified (against the system CA bundle,
// parsed once per delivery thread and cached: docs/delivery.md), so a
// self-signed receiver fails its attempts with the reason in last_error.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setup } from './lib/hookd.mjs';
import { scaled } from './lib/util.mjs';

test('a receiver with a self-signed certificate is refused: the attempt fails, nothing is sent', { timeout: scaled(30_000) }, async (t) => {
    const env = await setup(t);
    const key = path.join(env.dir, 'key.pem');
    const cert = path.join(env.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    let requests = 0;
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
        requests++;
        res.end();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => { server.closeAllConnections(); server.close(); });

    const h = await env.startHookd();
    const ep = await h.createEndpoint({ url: `https://127.0.0.1:${server.address().port}/hook` });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.send({ endpoint_id: ep.id, payload: { i } })).message_id);
    for (const id of ids) {
        const m = await h.waitForMessage(id, (x) => x.attempt_count >= 1);
        assert.notEqual(m.status, 'succeeded');
        assert.match(m.last_error ?? '', /certificate|SSL/i);
    }
    assert.equal(requests, 0, 'no request reached the untrusted receiver');
});
