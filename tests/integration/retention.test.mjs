// Payload retention: retention_hours on send, the server default (--retention),
// the janitor's purge, and 410 RETENTION_EXPIRED on replay of a purged message.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDelivery } from './lib/hookd.mjs';
import { expectError, expectOk, scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(40_000) };

/** Waits until the janitor has logged purging at least n payloads in all. */
async function waitForPurged(h, n) {
    return waitFor(() => {
        let total = 0;
        for (const m of h.stderr.matchAll(/purged (\d+) expired payloads/g)) total += Number(m[1]);
        return total >= n;
    }, { timeout: 10_000, what: `the janitor to purge ${n} payloads` });
}

test('checklist 40: retention_hours 0 -> payload purged after delivery -> replay is 410 RETENTION_EXPIRED', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        hookd: { env: { HOOKD_JANITOR_INTERVAL: '200ms' } },
    });
    const { message_id: id } = await h.send({ endpoint_id: ep.id, payload: { secret: 'gone soon' }, retention_hours: 0 });
    const delivered = await h.waitForMessage(id, 'succeeded');
    assert.equal(rcv.requestsFor(id).length, 1, 'retention 0 still delivers once');
    await waitForPurged(h, 1);

    expectError(await h.api('POST', `/v1/messages/${id}/replay`), 410, 'RETENTION_EXPIRED');
    expectError(await h.api('GET', `/v1/messages/${id}/payload`), 410, 'PAYLOAD_UNAVAILABLE');
    const replayAll = expectOk(await h.api('POST', `/v1/messages/replay-all?status=succeeded&endpoint_id=${ep.id}`));
    assert.equal(replayAll.data.replayed, 0);
    assert.equal(replayAll.data.failed, 1);
    const batch = expectOk(await h.api('POST', '/v1/messages/replay-batch', { message_ids: [id] }));
    assert.equal(batch.data.results[0].status, 'failed');
    assert.match(batch.data.results[0].error, /retention/);

    // Metadata outlives the payload.
    const m = await h.getMessage(id);
    assert.equal(m.status, 'succeeded');
    assert.equal(m.replay_count, 0);
    assert.equal(m.size_bytes, delivered.size_bytes);
    assert.equal(m.payload_sha256, delivered.payload_sha256);
    assert.equal((await h.attempts(id)).data.length, 1);

    // GET /v1/messages/{id}/payload (hookd's addition for the console): what was sent
    const { message_id: kept } = await h.send({ endpoint_id: ep.id, payload: { keep: ['me', 1] } });
    const got = expectOk(await h.api('GET', `/v1/messages/${kept}/payload`)).data;
    assert.deepEqual(got, { content_type: 'application/json', size_bytes: got.size_bytes, payload: { keep: ['me', 1] } });
    assert.ok(got.size_bytes > 0);
    expectError(await h.api('GET', '/v1/messages/0190a0a0-0000-7000-8000-000000000000/payload'), 404, 'MESSAGE_NOT_FOUND');
});

test('server default retention (--retention 0) purges; retention_hours on send overrides it', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: (rec) => ({ status: JSON.parse(rec.text).fail ? 500 : 200 }),
        hookd: { extraArgs: ['--retention', '0s', '--janitor-interval', '200ms', '--max-attempts', '1'] },
    });
    const dflt = (await h.send({ endpoint_id: ep.id, payload: { n: 1 } })).message_id;
    const kept = (await h.send({ endpoint_id: ep.id, payload: { n: 2 }, retention_hours: 24 })).message_id;
    const dead = (await h.send({ endpoint_id: ep.id, payload: { n: 3, fail: true } })).message_id;
    await h.waitForMessage(dflt, 'succeeded');
    await h.waitForMessage(kept, 'succeeded');
    await h.waitForMessage(dead, 'failed_permanent');
    await waitForPurged(h, 2);

    expectError(await h.api('POST', `/v1/messages/${dflt}/replay`), 410, 'RETENTION_EXPIRED');
    expectError(await h.api('POST', `/v1/dlq/replay/${dead}`), 410, 'RETENTION_EXPIRED');
    expectOk(await h.api('POST', `/v1/messages/${kept}/replay`));
    await h.waitForMessage(kept, (x) => x.replay_count === 1 && x.status === 'succeeded');
    const bodies = rcv.requestsFor(kept).map((r) => r.text);
    assert.equal(bodies.length, 2);
    assert.equal(bodies[1], bodies[0], 'the replay carries the stored payload byte for byte');
});

test('an unfinished message keeps its payload past retention until it is delivered', T, async (t) => {
    const { h, rcv, ep } = await setupDelivery(t, {
        receiver: [{ status: 500 }, { status: 200 }],
        hookd: { retrySlow: '1500ms', extraArgs: ['--janitor-interval', '100ms'] },
    });
    const { message_id: id } = await h.send({ endpoint_id: ep.id, payload: { keep: 'me' }, retention_hours: 0 });
    await h.waitForMessage(id, 'pending_retry');
    const m = await h.waitForMessage(id, 'succeeded', 10_000);
    assert.equal(m.attempt_count, 2);
    const reqs = rcv.requestsFor(id);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].text, reqs[0].text, 'the retry still had the payload');
    assert.equal(reqs[1].text, JSON.stringify({ keep: 'me' }));
});
