// Attempts, attempted destinations and resend on the Svix surface, driven by
// the real `svix` SDK (2.x and 1.x): a failing endpoint retries, its attempts
// show status fail and the message status pending; resend starts a new attempt
// series with the same webhook-id; resend to an endpoint that never had the
// event delivers it there; the list options with_msg, with_content and
// expanded_statuses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from 'svix';
import { setup } from './lib/hookd.mjs';
import { clients } from './lib/svix.mjs';
import { scaled, waitFor } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };

test('svix attempts: list by message, get one, attempted destinations, resend', T, async (t) => {
    const env = await setup(t);
    // two quick attempts, then a long wait: the failing endpoint stays pending while the test looks
    const h = await env.startHookd({ retryFast: '200ms,60s', retrySlow: '200ms,60s' });
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const ok = await env.startReceiver({ status: 200, body: 'thanks' });
    const bad = await env.startReceiver({ status: 500, body: 'nope' });
    const late = await env.startReceiver({ status: 204 });
    const epOk = await v2.endpoint.create(app.id, { url: ok.url(), uid: 'ok' });
    const epBad = await v2.endpoint.create(app.id, { url: bad.url(), uid: 'bad' });

    const m = await v2.message.create(app.id, { eventType: 'order.created', payload: { n: 1 } });
    await ok.waitUntil(() => ok.requests.length === 1, { what: 'ok delivery' });
    await bad.waitUntil(() => bad.requests.length >= 2, { what: 'two failed attempts', timeout: 20_000 });

    // receivers saw them; attempts are listed once the committer has recorded them
    // (the 2.x SDK sends with_content=false unless told: the responses would be "")
    const page = await waitFor(async () => {
        const p = await v2.messageAttempt.listByMsg(app.id, m.id, { withContent: true });
        const okN = p.data.filter((a) => a.endpointId === epOk.id).length;
        const badN = p.data.filter((a) => a.endpointId === epBad.id).length;
        return okN === 1 && badN >= 2 && p;
    }, { what: 'the attempts recorded' });
    const okAttempts = page.data.filter((a) => a.endpointId === epOk.id);
    const badAttempts = page.data.filter((a) => a.endpointId === epBad.id);
    assert.equal(okAttempts.length, 1);
    assert.equal(okAttempts[0].status, 0);
    assert.equal(okAttempts[0].responseStatusCode, 200);
    assert.equal(okAttempts[0].response, 'thanks');
    assert.equal(okAttempts[0].msgId, m.id);
    assert.equal(okAttempts[0].url, ok.url());
    assert.match(okAttempts[0].id, /^atmpt_/);
    assert.ok(okAttempts[0].timestamp instanceof Date && !isNaN(okAttempts[0].timestamp));
    assert.ok(badAttempts.length >= 2);
    assert.ok(badAttempts.every((a) => a.status === 2 && a.responseStatusCode === 500));
    // newest first
    const times = page.data.map((a) => a.timestamp.getTime());
    assert.deepEqual([...times].sort((a, b) => b - a), times);
    // one page at a time
    const p1 = await v2.messageAttempt.listByMsg(app.id, m.id, { limit: 1 });
    assert.equal(p1.data.length, 1);
    assert.equal(p1.done, false);
    const p2 = await v2.messageAttempt.listByMsg(app.id, m.id, { limit: 1, iterator: p1.iterator });
    assert.notEqual(p2.data[0].id, p1.data[0].id);
    // filtered by endpoint, and one attempt by id (1.x too)
    const onlyOk = await v2.messageAttempt.listByMsg(app.id, m.id, { endpointId: epOk.id });
    assert.deepEqual(onlyOk.data.map((a) => a.id), [okAttempts[0].id]);
    const one = await v1.messageAttempt.get('acme', m.id, okAttempts[0].id);
    assert.equal(one.id, okAttempts[0].id);
    try {
        await v2.messageAttempt.get(app.id, m.id, 'atmpt_nope');
        assert.fail('expected 404');
    } catch (e) {
        assert.ok(e instanceof ApiException);
        assert.equal(e.code, 404);
    }

    // attempted destinations: the ok endpoint succeeded, the bad one is still pending (retrying)
    const dests = await v2.messageAttempt.listAttemptedDestinations(app.id, m.id);
    const byId = Object.fromEntries(dests.data.map((x) => [x.id, x]));
    assert.equal(byId[epOk.id].status, 0);
    assert.equal(byId[epBad.id].status, 1);
    assert.equal(byId[epBad.id].url, bad.url());

    // resend to the succeeded endpoint: a new attempt series, same webhook-id
    await v2.messageAttempt.resend(app.id, m.id, 'ok');
    await ok.waitUntil(() => ok.requests.length === 2, { what: 'resent delivery' });
    assert.equal(ok.requests[1].webhookId, m.id);
    // the receiver has it; its attempt is recorded once the committer has written it
    const again = await waitFor(async () => {
        const p = await v2.messageAttempt.listByMsg(app.id, m.id, { endpointId: epOk.id });
        return p.data.length === 2 && p;
    }, { what: 'two attempts of the ok endpoint' });
    assert.equal(again.data[0].triggerType, 1);

    // resend to an endpoint created after the publish: it gets the event, once
    const epLate = await v2.endpoint.create(app.id, { url: late.url() });
    await v1.messageAttempt.resend('acme', m.id, epLate.id);
    await late.waitUntil(() => late.requests.length === 1, { what: 'late delivery' });
    assert.equal(late.requests[0].webhookId, m.id);
    assert.equal(late.requests[0].text, '{"n":1}');

    // unknown message or endpoint: 404
    for (const [msg, ep] of [['msg_nope', epOk.id], [m.id, 'ep_nope']]) {
        try {
            await v2.messageAttempt.resend(app.id, msg, ep);
            assert.fail('expected 404');
        } catch (e) {
            assert.equal(e.code, 404);
        }
    }
});

test('svix: recover resends the failed messages of a window; send-example; erasing content; message.create makes its application', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ retryFast: '100ms', retrySlow: '100ms' }); // two attempts, then failed
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    let healthy = false;
    const rcv = await env.startReceiver(() => ({ status: healthy ? 204 : 500 }));
    const ep = await v2.endpoint.create(app.id, { url: rcv.url(), uid: 'flaky' });
    const start = new Date();
    const m1 = await v2.message.create(app.id, { eventType: 'a.b', payload: { n: 1 } });
    const m2 = await v2.message.create(app.id, { eventType: 'a.b', payload: { n: 2 } });
    // both fail for good
    await waitFor(async () => {
        const d = await v2.messageAttempt.listAttemptedDestinations(app.id, m2.id);
        const d1 = await v2.messageAttempt.listAttemptedDestinations(app.id, m1.id);
        return d.data[0]?.status === 2 && d1.data[0]?.status === 2;
    }, { what: 'both messages failed for good' });
    const before = rcv.requests.length;

    healthy = true;
    const bad = await (async () => {
        try { await v2.endpoint.recover(app.id, ep.id, { since: new Date(Date.now() - 15 * 24 * 3600e3) }); }
        catch (e) { return e; }
    })();
    assert.equal(bad?.code, 422);
    const task = await v2.endpoint.recover(app.id, 'flaky', { since: start });
    assert.match(task.id, /^qtask_/);
    assert.equal(task.status, 'finished');
    await rcv.waitUntil(() => rcv.requests.length >= before + 2, { what: 'recovered deliveries' });
    const ids = rcv.requests.slice(before).map((x) => x.webhookId).sort();
    assert.deepEqual(ids, [m1.id, m2.id].sort());

    // send-example: the type's example payload (or {}), to that endpoint only
    await v2.eventType.create({ name: 'user.signup', description: 'x' });
    const other = await env.startReceiver({ status: 204 });
    await v2.endpoint.create(app.id, { url: other.url() });
    const ex = await v2.endpoint.sendExample(app.id, ep.id, { eventType: 'user.signup' });
    assert.match(ex.id, /^msg_/);
    await rcv.waitUntil(() => rcv.requestsFor(ex.id).length === 1, { what: 'example delivery' });
    assert.equal(rcv.requestsFor(ex.id)[0].text, '{}');
    const marker = await v2.message.create(app.id, { eventType: 'marker', payload: {} });
    await other.waitUntil(() => other.requestsFor(marker.id).length === 1, { what: 'marker' });
    assert.equal(other.requestsFor(ex.id).length, 0);

    // erasing a message's content: metadata stays, payload goes, resend is refused
    await v2.message.expungeContent(app.id, m1.id);
    const got = await v1.message.get('acme', m1.id);
    assert.deepEqual(got.payload, {});
    assert.equal(got.eventType, 'a.b');

    // message.create with `application` makes a missing application (uid from the path)
    const made = await v2.message.create('brand-new', { eventType: 'x.y', payload: {}, application: { name: 'Brand new' } });
    assert.match(made.id, /^msg_/);
    const newApp = await v2.application.get('brand-new');
    assert.equal(newApp.name, 'Brand new');
    assert.equal((await v2.message.get('brand-new', made.id)).id, made.id);
});

test('svix: attempts by endpoint and messages by endpoint, newest first, paged', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h);
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rcv = await env.startReceiver({ status: 204 });
    const other = await env.startReceiver({ status: 204 });
    const ep = await v2.endpoint.create(app.id, { url: rcv.url(), uid: 'mine', eventTypes: ['a.*'] });
    await v2.endpoint.create(app.id, { url: other.url() });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await v2.message.create(app.id, { eventType: i === 2 ? 'b.x' : 'a.x', payload: { i } })).id);
    const mine = ids.filter((_, i) => i !== 2); // b.x does not reach 'mine'
    await waitFor(async () => (await v2.messageAttempt.listByEndpoint(app.id, ep.id)).data.length === 4,
        { what: 'four attempts recorded' });

    const msgs = await v2.messageAttempt.listAttemptedMessages(app.id, 'mine', { withContent: true });
    assert.deepEqual(msgs.data.map((m) => m.id), [...mine].reverse());
    assert.ok(msgs.data.every((m) => m.status === 0 && m.statusText === 'success'));
    assert.deepEqual(msgs.data[0].payload, { i: 4 });
    const p1 = await v1.messageAttempt.listAttemptedMessages('acme', ep.id, { limit: 3 });
    assert.equal(p1.data.length, 3);
    assert.equal(p1.done, false);
    const p2 = await v1.messageAttempt.listAttemptedMessages('acme', ep.id, { limit: 3, iterator: p1.iterator });
    assert.deepEqual([...p1.data, ...p2.data].map((m) => m.id), [...mine].reverse());
    assert.equal(p2.done, true);

    const seen = [];
    let iterator = null;
    for (let page = 0; page < 10; page++) {
        const p = await v2.messageAttempt.listByEndpoint(app.id, ep.id, { limit: 1, iterator });
        seen.push(...p.data);
        if (p.done) break;
        iterator = p.iterator;
    }
    assert.deepEqual(seen.map((a) => a.msgId), [...mine].reverse());
    assert.ok(seen.every((a) => a.endpointId === ep.id && a.status === 0 && a.url === rcv.url()));
    const bad = await (async () => { try { await v2.messageAttempt.listByEndpoint(app.id, ep.id, { iterator: 'nope' }); } catch (e) { return e; } })();
    assert.equal(bad?.code, 422);
});

test('svix attempt lists: with_msg, with_content, expanded_statuses', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const { v1, v2 } = clients(h); // every answer checked against docs/openapi.yaml
    const app = await v2.application.create({ name: 'Acme', uid: 'acme' });
    const rcv = await env.startReceiver({ status: 200, body: 'thanks' });
    const ep = await v2.endpoint.create(app.id, { url: rcv.url(), uid: 'mine' });
    const m1 = await v2.message.create(app.id, {
        eventType: 'a.x', eventId: 'evt-1', payload: { n: 1 }, channels: ['eu'], tags: ['t1'],
    });
    const m2 = await v2.message.create(app.id, { eventType: 'b.y', payload: { n: 2, s: 'two' } });
    await rcv.waitUntil(() => rcv.requestsFor(m1.id).length === 1 && rcv.requestsFor(m2.id).length === 1,
        { what: 'both deliveries' });
    // a second attempt of m1: two attempts of one message on the page share its msg.
    // Resend once m1's first attempt is recorded: a resend while an attempt is still
    // on its way (the receiver answered, the result not yet committed) adds nothing.
    await waitFor(async () => (await v1.messageAttempt.listByEndpoint('acme', 'mine')).data.length === 2,
        { what: 'the first two attempts recorded' });
    await v2.messageAttempt.resend(app.id, m1.id, ep.id);
    await rcv.waitUntil(() => rcv.requestsFor(m1.id).length === 2, { what: 'the resent delivery' });
    await waitFor(async () => (await v1.messageAttempt.listByEndpoint('acme', 'mine')).data.length === 3,
        { what: 'three attempts recorded' });
    const full = {};
    for (const m of [m1, m2]) full[m.id] = await v2.message.get(app.id, m.id, { withContent: true });
    assert.deepEqual(full[m1.id].payload, { n: 1 });

    // with_msg: each attempt carries the MessageOut of its message (2.x and 1.x)
    const withMsg = await v2.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true, withContent: true });
    assert.deepEqual(withMsg.data.map((a) => a.msgId), [m2.id, m1.id, m1.id]);
    for (const a of withMsg.data) {
        assert.deepEqual(a.msg, full[a.msgId]);
        assert.equal(a.response, 'thanks');
    }
    assert.equal(withMsg.data[1].msg.eventId, 'evt-1');
    assert.deepEqual(withMsg.data[1].msg.channels, ['eu']);
    assert.deepEqual(withMsg.data[1].msg.tags, ['t1']);
    const v1Msg = await v1.messageAttempt.listByEndpoint('acme', 'mine', { withMsg: true }); // 1.x: content by default
    assert.deepEqual(v1Msg.data.map((a) => a.msg), [full[m2.id], full[m1.id], full[m1.id]]);
    assert.ok(v1Msg.data.every((a) => a.response === 'thanks'));
    // paged: the msg follows its attempt onto the next page
    const p1 = await v2.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true, withContent: true, limit: 2 });
    const p2 = await v2.messageAttempt.listByEndpoint(app.id, ep.id,
        { withMsg: true, withContent: true, limit: 2, iterator: p1.iterator });
    assert.deepEqual([...p1.data, ...p2.data].map((a) => a.msg), withMsg.data.map((a) => a.msg));
    // without with_msg (or with it false): no msg
    for (const opts of [{}, { withMsg: false }]) {
        const p = await v2.messageAttempt.listByEndpoint(app.id, ep.id, opts);
        assert.equal(p.data.length, 3);
        assert.ok(p.data.every((a) => a.msg === undefined));
    }

    // with_content=false (the 2.x SDK's default): response "" and msg payload {}
    const bare = await v2.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true });
    assert.deepEqual(bare.data.map((a) => a.msgId), [m2.id, m1.id, m1.id]);
    for (const a of bare.data) {
        assert.equal(a.response, '');
        assert.deepEqual(a.msg.payload, {});
        assert.deepEqual({ ...a.msg, payload: {} }, { ...full[a.msgId], payload: {} });
        assert.equal(a.responseStatusCode, 200);
    }
    const byMsgBare = await v2.messageAttempt.listByMsg(app.id, m1.id);
    assert.equal(byMsgBare.data.length, 2);
    assert.ok(byMsgBare.data.every((a) => a.response === '' && a.msg === undefined));
    const byMsg = await v2.messageAttempt.listByMsg(app.id, m1.id, { withContent: true });
    assert.ok(byMsg.data.every((a) => a.response === 'thanks'));
    const byMsgV1 = await v1.messageAttempt.listByMsg('acme', m1.id, { withContent: false });
    assert.ok(byMsgV1.data.every((a) => a.response === ''));

    // expanded_statuses: both SDKs send true; false answers the same (no canceled attempts here)
    const ids = (p) => p.data.map((a) => [a.id, a.status]);
    assert.deepEqual(ids(await v2.messageAttempt.listByEndpoint(app.id, ep.id, { expandedStatuses: false })),
        ids(await v2.messageAttempt.listByEndpoint(app.id, ep.id, { expandedStatuses: true })));
    assert.deepEqual(ids(await v1.messageAttempt.listByMsg('acme', m1.id, { expandedStatuses: false })), ids(byMsg));

    // a value that is not a boolean is a 422 on ["query", <name>]
    const base = `http://127.0.0.1:${h.port}/api/v1/app/${app.id}/attempt`;
    for (const [path, q] of [[`msg/${m1.id}`, 'expanded_statuses=yes'], [`endpoint/${ep.id}`, 'expanded_statuses=1'],
        [`msg/${m1.id}`, 'with_content=no'], [`endpoint/${ep.id}`, 'with_content=0'],
        [`endpoint/${ep.id}`, 'with_msg=maybe']]) {
        const r = await fetch(`${base}/${path}?${q}`, { headers: { authorization: `Bearer ${h.key}` } });
        assert.equal(r.status, 422, `${path}?${q}`);
        assert.deepEqual((await r.json()).detail[0].loc, ['query', q.split('=')[0]], `${path}?${q}`);
    }
});
