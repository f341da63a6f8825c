// The customer portal page (/portal/, web/portal): opened from a magic link,
// an endpoint made and its secret read once, a subscription, the message log
// updating after a publish, a replay; the page's files and their headers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from '../integration/lib/hookd.mjs';
import { hookbase, ok } from '../integration/lib/hookbase.mjs';
import { httpRequest, scaled, waitFor } from '../integration/lib/util.mjs';
import { launch, newPage, shot, PHONE, WEB_DIR } from './lib.mjs';

const T = { timeout: scaled(90_000) };

test('portal page: files, content types, cache headers; JSON routes unchanged', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const get = (p, headers = {}) => httpRequest({ port: h.port, method: 'GET', path: p, headers, validate: false });
    for (const page of ['portal', 'console']) {
        for (const p of [`/${page}/`, `/${page}`, `/${page}/index.html`]) {
            const r = await get(p);
            assert.equal(r.status, 200, p);
            assert.match(r.headers['content-type'], /^text\/html/);
            assert.equal(r.headers['cache-control'], 'no-cache');
        }
        const html = (await get(`/${page}/`)).body.toString();
        assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
        const assets = [...html.matchAll(new RegExp(`/${page}/assets/[A-Za-z0-9._-]+`, 'g'))].map((m) => m[0]);
        assert.ok(assets.some((a) => a.endsWith('.js')), html);
        for (const a of assets) {
            const r = await get(a);
            assert.equal(r.status, 200, a);
            assert.match(r.headers['content-type'], a.endsWith('.js') ? /^application\/javascript/ : /^text\/css/);
            assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
        }
        assert.equal((await get(`/${page}/assets/nope.js`)).status, 404);
        assert.notEqual((await get(`/${page}/assets/..%2f..%2fhookd`)).status, 200);
        assert.equal((await get(`/${page}/assets/.hidden`)).status, 404);
    }
    // the JSON routes: still the portal's (401 without a token), POST /portal/ not a page
    assert.equal((await get('/portal/endpoints')).status, 401);
    assert.equal((await get('/portal/application')).status, 401);
    assert.equal((await httpRequest({ port: h.port, method: 'POST', path: '/portal/', validate: false })).status, 401);
    assert.equal((await get('/portal/nope/index.html')).status, 401);

    // --web-dir: another directory, or none built
    const moved = await env.startHookd({ extraArgs: ['--web-dir', WEB_DIR] });
    assert.equal((await httpRequest({ port: moved.port, path: '/console/', validate: false })).status, 200);
    const bare = await env.startHookd({ extraArgs: ['--web-dir', '/nonexistent'] });
    const nf = await httpRequest({ port: bare.port, path: '/portal/', validate: false });
    assert.equal(nf.status, 404);
    assert.match(nf.body.toString(), /not built/);
    assert.equal((await httpRequest({ port: bare.port, path: '/healthz', validate: false })).status, 200);
});

test('portal page: magic link, endpoint and secret, subscribe, message log, replay', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const api = hookbase(h);
    const app = ok(await api('POST', '/api/webhook-applications', { name: 'Acme Corp', externalId: 'acme' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'order.created', displayName: 'Order created', category: 'Orders',
        description: 'An order was placed.', examplePayload: '{"id":"o_1","total":42}' }), 201);
    ok(await api('POST', '/api/event-types', { name: 'invoice.paid', category: 'Billing', description: 'An invoice was paid.' }), 201);
    const link = ok(await api('POST', `/api/portal/webhook-applications/${app.id}/magic-link`, {}), 201);

    const browser = await launch(t);
    const page = await newPage(browser);
    await page.goto(link.url);
    await page.getByRole('heading', { name: /Acme Corp/ }).waitFor();
    assert.ok(!page.url().includes('token'), `token dropped from the URL: ${page.url()}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.portal.token')), link.token);

    // create an endpoint: its secret is shown once
    await page.getByText('No endpoints yet').waitFor();
    // an API error is shown to the person
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('alert').filter({ hasText: /^400: / }).waitFor();
    await page.getByLabel('Endpoint URL').fill(rcv.url('/hooks'));
    await page.getByLabel('Description').fill('orders to the ERP');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = (await page.getByTestId('secret').textContent()).trim();
    assert.match(secret, /^whsec_/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied to the clipboard').waitFor();
    const row = page.locator(`tr[data-endpoint="${rcv.url('/hooks')}"]`);
    await row.waitFor();
    await shot(page, 'portal-endpoints-secret-1280');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByTestId('secret').waitFor({ state: 'detached' });
    const [ep] = ok(await hookbase(h, link.token)('GET', '/portal/endpoints'));
    assert.equal(ep.description, 'orders to the ERP');

    // subscribe to order.created (grouped by category, with the example payload)
    await row.getByRole('button', { name: 'Event types' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Billing').waitFor();
    await dialog.getByText('Example payload').click();
    await dialog.getByText('"total": 42').waitFor();
    await shot(page, 'portal-event-types-1280');
    await dialog.getByRole('checkbox', { name: /Order created/ }).click();
    await page.getByText('Subscribed to order.created').waitFor();
    const subs = ok(await hookbase(h, link.token)('GET', `/portal/subscriptions?endpointId=${ep.id}`));
    assert.deepEqual(subs.map((s) => s.eventTypeName), ['order.created']);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // a test event
    await row.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('dialog').getByText('delivered').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();

    // the message log updates by itself after a publish
    await page.getByRole('button', { name: 'Messages' }).click();
    await page.getByText('No messages.').waitFor();
    const sent = await api('POST', '/api/send-event', { applicationId: 'acme', eventType: 'order.created', payload: { id: 'o_7' } });
    assert.equal(sent.status, 202, sent.text);
    const msgRow = page.locator('tr[data-message]').filter({ hasText: 'order.created' });
    await msgRow.filter({ hasText: 'success' }).first().waitFor();
    await shot(page, 'portal-messages-1280');

    // open it and replay it: a new message of the same event
    await msgRow.first().getByRole('button', { name: /Open message/ }).click();
    await page.getByRole('dialog').getByTestId('attempts').filter({ hasText: /^1 of/ }).waitFor();
    await page.getByRole('table', { name: 'Attempts' }).locator('tr[data-attempt="1"]').getByText('HTTP 200').waitFor();
    await shot(page, 'portal-message-1280');
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('Message replayed').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await waitFor(async () => (await msgRow.filter({ hasText: 'success' }).count()) === 2, { timeout: scaled(15_000), what: 'the replay in the log' });
    await waitFor(() => rcv.requests.filter((r) => r.text.includes('o_7')).length === 2, { what: 'two deliveries' });

    // the status filter
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No messages.').waitFor();
    await page.getByLabel('Status').selectOption('');

    // delete with confirmation (cancel first)
    await page.getByRole('button', { name: 'Endpoints' }).click();
    // (by keyboard: focus starts on Delete, Tab wraps to Cancel inside the dialog)
    await row.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByRole('button', { name: 'Delete' }).waitFor();
    await page.waitForFunction(() => document.activeElement && document.activeElement.textContent === 'Delete');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel');
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    await row.waitFor();

    // the phone-sized view
    const phone = await newPage(browser, PHONE);
    await phone.goto(link.url);
    await phone.getByRole('heading', { name: /Acme Corp/ }).waitFor();
    await phone.locator(`tr[data-endpoint]`).first().waitFor();
    await shot(phone, 'portal-endpoints-phone');
    await phone.getByRole('button', { name: 'Messages' }).click();
    await phone.locator('tr[data-message]').first().waitFor();
    await shot(phone, 'portal-messages-phone');

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Endpoint deleted').waitFor();
    await page.getByText('No endpoints yet').waitFor();
    assert.deepEqual([...page.problems, ...phone.problems], []);
});
