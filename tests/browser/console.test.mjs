// The operator console page (/console/, web/console): log in with an API key,
// create an endpoint, publish through the API, find the message, open its
// attempts, replay it from the DLQ; applications, portal link, API keys.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup } from '../integration/lib/hookd.mjs';
import { scaled, waitFor } from '../integration/lib/util.mjs';
import { launch, newPage, shot, PHONE } from './lib.mjs';

const T = { timeout: scaled(90_000) };

test('console page: login, endpoint, publish, message and attempts, DLQ replay, portal link', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ extraArgs: ['--max-attempts', '2'] });
    let healthy = false;
    const rcv = await env.startReceiver(() => (healthy ? { status: 200 } : { status: 500, body: 'receiver down' }));

    const browser = await launch(t);
    const page = await newPage(browser);
    await page.goto(`http://127.0.0.1:${h.port}/console/`);

    // a wrong key is refused and shown; the right one is kept in sessionStorage only
    await page.getByLabel('API key').fill('hk_live_' + '0'.repeat(40));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: '401' }).waitFor();
    await page.getByLabel('API key').fill(h.key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Delivery' }).waitFor();
    assert.ok(!page.url().includes(h.key));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.console.key')), h.key);
    assert.equal(await page.evaluate(() => localStorage.length), 0);

    // create an endpoint; its signing secret is shown once
    await page.getByRole('button', { name: 'Endpoints' }).click();
    await page.getByLabel('Endpoint URL').fill(rcv.url('/console'));
    await page.getByLabel('Description').fill('billing');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    assert.match((await page.getByTestId('secret').textContent()).trim(), /^whsec_/);
    const row = page.locator(`tr[data-endpoint="${rcv.url('/console')}"]`);
    await row.waitFor();
    await page.getByRole('button', { name: 'Done' }).click();

    // the endpoint's details and policies: a bad value is refused with the API's error
    // and changes nothing; a good one is saved
    await row.getByRole('button', { name: 'Details' }).click();
    await page.getByTestId('endpoint-json').filter({ hasText: '"signature_scheme"' }).waitFor();
    const policy = page.getByTestId('policy-json');
    await policy.fill('{"delay_ms": -5}');
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.getByTestId('policy-error').filter({ hasText: 'delay_ms' }).waitFor();
    await policy.fill('{"delay_ms": 1500, "fifo": true}');
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.getByTestId('endpoint-json').filter({ hasText: '"delay_ms": 1500' }).waitFor();
    const saved = (await h.api('GET', '/v1/endpoints')).json.data.find((e) => e.url === rcv.url('/console'));
    assert.equal(saved.delay_ms, 1500);
    assert.equal(saved.fifo, true);
    await policy.fill('{"delay_ms": null, "fifo": false}'); // back to the defaults the test relies on
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.getByTestId('endpoint-json').filter({ hasNotText: '"delay_ms": 1500' }).waitFor();
    await shot(page, 'console-endpoint-1280');
    await page.getByRole('button', { name: 'Close' }).click();

    // publish through the API: it fails twice (--max-attempts 2) and lands in the DLQ
    const list = await h.api('GET', '/v1/endpoints');
    const ep = list.json.data.find((e) => e.url === rcv.url('/console'));
    const sent = await h.api('POST', '/v1/webhooks/send', { endpoint_id: ep.id, payload: { invoice: 'in_42' } });
    assert.equal(sent.status, 202, sent.text);
    const msgId = sent.json.data.message_id;
    await h.waitForMessage(msgId, (m) => m.status === 'failed_permanent');

    // find it: status and endpoint filters
    await page.getByRole('button', { name: 'Messages' }).click();
    await page.getByLabel('Status').selectOption('failed_permanent');
    await page.getByLabel('Endpoint').selectOption(ep.id);
    await page.getByRole('button', { name: 'Search' }).click();
    const msgRow = page.locator(`tr[data-message="${msgId}"]`);
    await msgRow.waitFor();
    await shot(page, 'console-messages-1280');
    await msgRow.getByRole('button', { name: /Open message/ }).click();
    const attempts = page.getByRole('table', { name: 'Attempts' });
    await attempts.locator('tr[data-attempt="2"]').waitFor();
    assert.equal(await attempts.locator('tr[data-attempt]').count(), 2);
    await attempts.getByText('HTTP 500').first().waitFor();
    await page.getByRole('dialog').getByText('failed_permanent').waitFor();
    // the payload of a /v1 send, as sent
    await page.getByTestId('payload').filter({ hasText: '"invoice": "in_42"' }).waitFor();
    await shot(page, 'console-message-attempts-1280');
    await page.getByRole('button', { name: 'Close' }).click();

    // the DLQ: select it and replay it in bulk; the receiver is healthy now
    healthy = true;
    await page.getByRole('button', { name: 'DLQ' }).click();
    const dlqRow = page.locator(`tr[data-message="${msgId}"]`);
    await dlqRow.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Replay selected (1)' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Replay' }).click();
    await page.getByText(/Replayed 1, failed 0/).waitFor();
    // two failed attempts, then the replay's delivery
    await waitFor(() => rcv.requests.filter((r) => r.text.includes('in_42')).length === 3, { timeout: scaled(15_000), what: 'the replay delivered' });
    await h.waitForMessage(msgId, (m) => m.replay_count === 1);

    // the dashboard counts it
    await page.getByRole('button', { name: 'Dashboard' }).click();
    await page.getByTestId('success-rate').waitFor();
    await page.locator('svg.chart').waitFor();
    await page.getByText('Failing endpoints').waitFor();
    await shot(page, 'console-dashboard-1280');

    // an application and its portal link; the link opens the portal page
    await page.getByRole('button', { name: 'Applications' }).click();
    await page.getByLabel('Name').fill('Globex');
    await page.getByLabel('External id').fill('globex');
    await page.getByRole('button', { name: 'Create application' }).click();
    const appRow = page.locator('tr[data-app="Globex"]');
    await appRow.getByRole('button', { name: 'Portal link' }).click();
    await page.getByRole('button', { name: 'Create link' }).click();
    const link = (await page.getByTestId('portal-link').textContent()).trim();
    assert.match(link, new RegExp(`^http://127\\.0\\.0\\.1:${h.port}/portal/\\?token=whpt_`));
    const portal = await newPage(browser);
    await portal.goto(link);
    await portal.getByRole('heading', { name: /Globex/ }).waitFor();
    await page.getByRole('button', { name: 'Close' }).click();

    // an event type, and an API key (shown once; deleting asks first)
    await page.getByRole('button', { name: 'Event types' }).click();
    await page.getByLabel('Event type name').fill('invoice.paid');
    await page.getByLabel('Category').fill('Billing');
    await page.getByRole('button', { name: 'Create event type' }).click();
    await page.getByRole('table', { name: 'Event types' }).getByText('invoice.paid').waitFor();
    await page.getByRole('button', { name: 'API keys' }).click();
    await page.getByLabel('Label').fill('ci');
    await page.getByRole('button', { name: 'Create key' }).click();
    const newKey = (await page.getByTestId('secret').textContent()).trim();
    assert.match(newKey, /^hk_live_/);
    const keyRow = page.getByRole('table', { name: 'API keys' }).locator('tr').filter({ hasText: 'ci' });
    await keyRow.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete key' }).click();
    await page.getByText('API key deleted').waitFor();
    assert.equal((await h.api('GET', '/v1/endpoints', undefined, { key: newKey })).status, 401);

    // phone-sized
    const phone = await newPage(browser, PHONE);
    await phone.goto(`http://127.0.0.1:${h.port}/console/`);
    await phone.getByLabel('API key').fill(h.key);
    await phone.keyboard.press('Enter');
    await phone.getByTestId('success-rate').waitFor();
    await phone.locator('svg.chart').waitFor();
    await shot(phone, 'console-dashboard-phone');
    await phone.getByRole('button', { name: 'DLQ' }).click();
    await phone.getByText('The DLQ is empty.').waitFor();
    await phone.getByRole('button', { name: 'Messages' }).click();
    await phone.locator('tr[data-message]').first().waitFor();
    await shot(phone, 'console-messages-phone');

    // logging out forgets the key
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.console.key')), null);
    assert.deepEqual([...page.problems, ...phone.problems, ...portal.problems], []);
});
