// The customer portal (/portal/): one application's endpoints, subscriptions
// and message log, through the /portal/... routes only, with the portal token
// of the magic link (?token=whpt_...), kept in sessionStorage.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import '../shared/style.css';
import { makeApi, fmtTime, pretty } from '../shared/api.js';
import { Toasts, ConfirmHost, Spinner, ErrorLine, CopyButton, Modal, act, confirmAction, toast } from '../shared/ui.jsx';

const KEY = 'hookd.portal.token';
(function takeToken() {
    const u = new URL(location.href);
    const t = u.searchParams.get('token');
    if (t) {
        sessionStorage.setItem(KEY, t);
        u.searchParams.delete('token');
        history.replaceState(null, '', u.pathname + (u.search || '') + u.hash);
    }
})();

let expired = () => {};
const api = makeApi(() => sessionStorage.getItem(KEY) || '', () => expired());

function useLoad(fn, deps) {
    const [state, set] = useState({ loading: true, data: null, error: null });
    const reload = useCallback(async (quiet) => {
        if (!quiet) set((s) => ({ ...s, loading: true }));
        try {
            set({ loading: false, data: await fn(), error: null });
        } catch (e) {
            set((s) => ({ ...s, loading: false, error: e }));
        }
    }, deps);
    useEffect(() => { reload(); }, [reload]);
    return [state, reload];
}

const Badge = ({ kind, children }) => <span class={`badge ${kind}`}>{children}</span>;

function SecretBox({ secret, what = 'Signing secret', onDone }) {
    return (
        <div class="secret" role="region" aria-label={what}>
            <p><b>{what}</b> — shown once: copy it now and keep it safe.</p>
            <p><code data-testid="secret">{secret}</code></p>
            <div class="row"><CopyButton text={secret} label="Copy secret" /><button type="button" onClick={onDone}>I have saved it</button></div>
        </div>
    );
}

function CreateEndpoint({ onCreated }) {
    const [url, setUrl] = useState('');
    const [description, setDescription] = useState('');
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const submit = async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
            const r = await api('POST', '/portal/endpoints', { url, ...(description ? { description } : {}) });
            toast('Endpoint created');
            setUrl('');
            setDescription('');
            onCreated(r.data);
        } catch (err) {
            setError(err);
        } finally {
            setBusy(false);
        }
    };
    return (
        <form class="grid" onSubmit={submit} aria-label="Add an endpoint">
            <label>Endpoint URL<input type="url" required value={url} onInput={(e) => setUrl(e.target.value)} placeholder="https://example.com/webhooks" /></label>
            <label>Description<input value={description} onInput={(e) => setDescription(e.target.value)} /></label>
            <button class="primary" disabled={busy}>{busy ? 'Adding…' : 'Add endpoint'}</button>
            <ErrorLine error={error} />
        </form>
    );
}

function EditEndpoint({ ep, onClose, onSaved }) {
    const [url, setUrl] = useState(ep.url);
    const [description, setDescription] = useState(ep.description || '');
    const [error, setError] = useState(null);
    const save = async (e) => {
        e.preventDefault();
        try {
            await api('PATCH', `/portal/endpoints/${ep.id}`, { url, description });
            toast('Endpoint saved');
            onSaved();
            onClose();
        } catch (err) { setError(err); }
    };
    return (
        <Modal title="Edit endpoint" onClose={onClose}>
            <form class="grid" onSubmit={save}>
                <label>Endpoint URL<input type="url" required value={url} onInput={(e) => setUrl(e.target.value)} /></label>
                <label>Description<input value={description} onInput={(e) => setDescription(e.target.value)} /></label>
                <button class="primary">Save</button>
                <ErrorLine error={error} />
            </form>
        </Modal>
    );
}

function TestResult({ r }) {
    return (
        <div>
            <p>Test event <code>{r.testEvent && r.testEvent.id}</code>: <Badge kind={r.success ? 'ok' : 'bad'}>{r.success ? 'delivered' : 'failed'}</Badge>
                {r.delivery && <> — HTTP {r.delivery.responseStatus ?? '—'} in {r.delivery.responseTimeMs ?? '—'} ms</>}</p>
            {r.delivery && r.delivery.errorMessage && <p class="error">{r.delivery.errorMessage}</p>}
            {r.delivery && r.delivery.responseBody && <pre>{r.delivery.responseBody}</pre>}
        </div>
    );
}

function Subscriptions({ ep, onClose }) {
    const [types] = useLoad(() => api('GET', '/portal/event-types').then((r) => r.data), []);
    const [subs, reloadSubs] = useLoad(() => api('GET', `/portal/subscriptions?endpointId=${encodeURIComponent(ep.id)}`).then((r) => r.data), [ep.id]);
    const [busy, setBusy] = useState(null);
    const byType = new Map((subs.data || []).map((s) => [s.eventTypeId, s]));
    const toggle = async (et) => {
        setBusy(et.id);
        const s = byType.get(et.id);
        await act(() => (s ? api('DELETE', `/portal/subscriptions/${s.id}`) : api('POST', '/portal/subscriptions', { endpointId: ep.id, eventTypeId: et.id })),
            s ? `Unsubscribed from ${et.name}` : `Subscribed to ${et.name}`);
        await reloadSubs(true);
        setBusy(null);
    };
    const groups = {};
    for (const et of types.data || []) (groups[et.category || 'Other'] ||= []).push(et);
    return (
        <Modal title={`Event types for ${ep.url}`} onClose={onClose}>
            {(types.loading || subs.loading) && <Spinner />}
            <ErrorLine error={types.error || subs.error} />
            {types.data && types.data.length === 0 && <p class="muted">No event types are published yet.</p>}
            {Object.entries(groups).map(([cat, list]) => (
                <fieldset class="category" key={cat}>
                    <legend><b>{cat}</b></legend>
                    {list.map((et) => (
                        <div class="et" key={et.id}>
                            <label class="inline">
                                <input type="checkbox" checked={byType.has(et.id)} disabled={busy === et.id || !subs.data} onChange={() => toggle(et)} />
                                <span><b>{et.displayName || et.name}</b> <code>{et.name}</code></span>
                            </label>
                            {et.description && <p class="muted">{et.description}</p>}
                            {et.examplePayload && <details><summary>Example payload</summary><pre>{pretty(et.examplePayload)}</pre></details>}
                        </div>
                    ))}
                </fieldset>
            ))}
        </Modal>
    );
}

function Endpoints() {
    const [st, reload] = useLoad(() => api('GET', '/portal/endpoints').then((r) => r.data), []);
    const [secret, setSecret] = useState(null);
    const [editing, setEditing] = useState(null);
    const [subsFor, setSubsFor] = useState(null);
    const [test, setTest] = useState(null);
    const toggleDisabled = (ep) => act(() => api('PATCH', `/portal/endpoints/${ep.id}`, { isDisabled: !ep.isDisabled }), ep.isDisabled ? 'Endpoint enabled' : 'Endpoint disabled').then(() => reload(true));
    const remove = async (ep) => {
        if (!(await confirmAction(`Delete the endpoint ${ep.url}? It will receive nothing more.`, 'Delete'))) return;
        await act(() => api('DELETE', `/portal/endpoints/${ep.id}`), 'Endpoint deleted');
        reload(true);
    };
    const rotate = async (ep) => {
        if (!(await confirmAction(`Rotate the signing secret of ${ep.url}? The old secret keeps signing for a grace period.`, 'Rotate'))) return;
        const r = await act(() => api('POST', `/portal/endpoints/${ep.id}/rotate-secret`), 'Secret rotated');
        if (r) setSecret({ value: r.data.secret, what: `New signing secret of ${ep.url}` });
    };
    const sendTest = async (ep) => {
        setTest({ ep, loading: true });
        try {
            const r = await api('POST', `/portal/endpoints/${ep.id}/test`, {});
            setTest({ ep, result: r });
            toast(r.success ? 'Test event delivered' : 'Test event failed', r.success ? 'ok' : 'err');
            reload(true);
        } catch (e) { setTest({ ep, error: e }); }
    };
    return (
        <>
            <section class="card">
                <h2>Add an endpoint</h2>
                <CreateEndpoint onCreated={(ep) => { setSecret({ value: ep.secret, what: `Signing secret of ${ep.url}` }); reload(true); }} />
                {secret && <SecretBox secret={secret.value} what={secret.what} onDone={() => setSecret(null)} />}
            </section>
            <section class="card">
                <div class="row between"><h2>Endpoints</h2><button type="button" onClick={() => reload()}>Refresh</button></div>
                {st.loading && <Spinner />}
                <ErrorLine error={st.error} />
                {st.data && st.data.length === 0 && <p class="muted">No endpoints yet: add one above.</p>}
                {st.data && st.data.length > 0 && (
                    <div class="table-wrap"><table class="stack">
                        <thead><tr><th>URL</th><th>Status</th><th>Messages</th><th>Delivered</th><th>Failed</th><th>Circuit</th><th>Actions</th></tr></thead>
                        <tbody>
                            {st.data.map((ep) => (
                                <tr key={ep.id} data-endpoint={ep.url}>
                                    <td class="url">{ep.url}{ep.description && <div class="muted">{ep.description}</div>}</td>
                                    <td><Badge kind={ep.isDisabled ? 'disabled' : 'enabled'}>{ep.isDisabled ? 'disabled' : 'enabled'}</Badge></td>
                                    <td class="count" data-label="Messages">{ep.totalMessages ?? 0}</td>
                                    <td class="count" data-label="Delivered">{ep.totalSuccesses ?? 0}</td>
                                    <td class="count" data-label="Failed">{ep.totalFailures ?? 0}</td>
                                    <td><Badge kind={ep.circuitState}>{ep.circuitState}</Badge></td>
                                    <td><div class="row">
                                        <button type="button" onClick={() => setSubsFor(ep)}>Event types</button>
                                        <button type="button" onClick={() => sendTest(ep)}>Send test</button>
                                        <button type="button" onClick={() => setEditing(ep)}>Edit</button>
                                        <button type="button" onClick={() => toggleDisabled(ep)}>{ep.isDisabled ? 'Enable' : 'Disable'}</button>
                                        <button type="button" onClick={() => rotate(ep)}>Rotate secret</button>
                                        <button type="button" class="danger" onClick={() => remove(ep)}>Delete</button>
                                    </div></td>
                                </tr>
                            ))}
                        </tbody>
                    </table></div>
                )}
            </section>
            {editing && <EditEndpoint ep={editing} onClose={() => setEditing(null)} onSaved={() => reload(true)} />}
            {subsFor && <Subscriptions ep={subsFor} onClose={() => setSubsFor(null)} />}
            {test && (
                <Modal title={`Test event to ${test.ep.url}`} onClose={() => setTest(null)}>
                    {test.loading && <Spinner label="Sending a test event…" />}
                    <ErrorLine error={test.error} />
                    {test.result && <TestResult r={test.result} />}
                </Modal>
            )}
        </>
    );
}

const STATUSES = ['', 'pending', 'success', 'failed', 'exhausted'];
const PAGE = 20;

function MessageDetail({ id, onClose, onReplayed }) {
    const [st, reload] = useLoad(() => api('GET', `/portal/messages/${id}`).then((r) => r.data), [id]);
    const [at, reloadAt] = useLoad(() => api('GET', `/portal/messages/${id}/attempts`).then((r) => r.data), [id]);
    const replay = async () => {
        const r = await act(() => api('POST', `/portal/messages/${id}/replay`), 'Message replayed');
        if (r) { onReplayed(); reload(true); reloadAt(true); }
    };
    const m = st.data;
    return (
        <Modal title={`Message ${id}`} onClose={onClose}>
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {m && (
                <>
                    <div class="table-wrap"><table><tbody>
                        <tr><th>Event</th><td><code>{m.eventType}</code> <span class="muted">{m.messageId}</span></td></tr>
                        <tr><th>Endpoint</th><td class="url">{m.endpointUrl}</td></tr>
                        <tr><th>Status</th><td><Badge kind={m.status}>{m.status}</Badge></td></tr>
                        <tr><th>Attempts</th><td data-testid="attempts">{m.attempts} of {m.maxAttempts}</td></tr>
                        <tr><th>Last attempt</th><td>{fmtTime(m.lastAttemptAt)}{m.lastResponseStatus ? ` — HTTP ${m.lastResponseStatus}` : ''}</td></tr>
                        <tr><th>Next attempt</th><td>{fmtTime(m.nextAttemptAt)}</td></tr>
                        <tr><th>Delivered</th><td>{fmtTime(m.deliveredAt)}</td></tr>
                        <tr><th>Created</th><td>{fmtTime(m.createdAt)}</td></tr>
                    </tbody></table></div>
                    {m.lastError && <><h3>Last error</h3><pre>{m.lastError}</pre></>}
                    {m.lastResponseBody && <><h3>Last response body</h3><pre>{m.lastResponseBody}</pre></>}
                    <div class="row end"><button type="button" class="primary" onClick={replay}>Replay</button></div>
                </>
            )}
            <h3>Attempts</h3>
            {at.loading && <Spinner />}
            <ErrorLine error={at.error} />
            {at.data && at.data.length === 0 && <p class="muted">No attempt yet.</p>}
            {at.data && at.data.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Attempts">
                    <thead><tr><th>#</th><th>When</th><th>Response</th><th>Latency</th><th>Error / body</th></tr></thead>
                    <tbody>{at.data.map((a) => (
                        <tr key={a.id} data-attempt={a.attemptNumber}>
                            <td>{a.attemptNumber}</td>
                            <td>{fmtTime(a.attemptedAt)}</td>
                            <td>{a.responseStatus ? <Badge kind={a.responseStatus < 300 ? 'ok' : 'bad'}>HTTP {a.responseStatus}</Badge> : '—'}</td>
                            <td>{a.latencyMs ?? '—'} ms</td>
                            <td>{a.error && <div class="error">{a.error}</div>}{a.responseBody && <pre>{a.responseBody}</pre>}</td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
        </Modal>
    );
}

function Messages() {
    const [status, setStatus] = useState('');
    const [endpointId, setEndpointId] = useState('');
    const [offset, setOffset] = useState(0);
    const [auto, setAuto] = useState(true);
    const [open, setOpen] = useState(null);
    const [eps] = useLoad(() => api('GET', '/portal/endpoints').then((r) => r.data), []);
    const [st, reload] = useLoad(() => {
        const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
        if (status) q.set('status', status);
        if (endpointId) q.set('endpointId', endpointId);
        return api('GET', `/portal/messages?${q}`);
    }, [status, endpointId, offset]);
    useEffect(() => {
        if (!auto) return undefined;
        const t = setInterval(() => reload(true), 3000);
        return () => clearInterval(t);
    }, [auto, reload]);
    const total = st.data ? st.data.total : 0;
    return (
        <section class="card">
            <h2>Message log</h2>
            <div class="filters">
                <label>Status<select aria-label="Status" value={status} onChange={(e) => { setStatus(e.target.value); setOffset(0); }}>
                    {STATUSES.map((s) => <option value={s} key={s}>{s || 'any'}</option>)}
                </select></label>
                <label>Endpoint<select aria-label="Endpoint" value={endpointId} onChange={(e) => { setEndpointId(e.target.value); setOffset(0); }}>
                    <option value="">any</option>
                    {(eps.data || []).map((ep) => <option value={ep.id} key={ep.id}>{ep.url}</option>)}
                </select></label>
                <label class="inline"><input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} />Auto-refresh</label>
                <button type="button" onClick={() => reload()}>Refresh</button>
            </div>
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && st.data.data.length === 0 && <p class="muted">No messages.</p>}
            {st.data && st.data.data.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Messages">
                    <thead><tr><th>Event type</th><th>Status</th><th class="wide-only">Endpoint</th><th>Attempts</th><th class="wide-only">Created</th><th></th></tr></thead>
                    <tbody>
                        {st.data.data.map((m) => (
                            <tr key={m.id} data-message={m.id}>
                                <td><code>{m.eventType}</code></td>
                                <td><Badge kind={m.status}>{m.status}</Badge></td>
                                <td class="url wide-only">{m.endpointUrl}</td>
                                <td>{m.attempts}</td>
                                <td class="wide-only">{fmtTime(m.createdAt)}</td>
                                <td><button type="button" onClick={() => setOpen(m.id)} aria-label={`Open message ${m.id}`}>Open</button></td>
                            </tr>
                        ))}
                    </tbody>
                </table></div>
            )}
            <div class="row between">
                <span class="muted">{total ? `${offset + 1}–${Math.min(offset + PAGE, total)} of ${total}` : ''}</span>
                <div class="row">
                    <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
                    <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>Next</button>
                </div>
            </div>
            {open && <MessageDetail id={open} onClose={() => setOpen(null)} onReplayed={() => reload(true)} />}
        </section>
    );
}

function App() {
    const [tab, setTab] = useState('endpoints');
    const [gone, setGone] = useState(!sessionStorage.getItem(KEY));
    expired = () => setGone(true);
    const [app] = useLoad(() => (gone ? Promise.resolve(null) : api('GET', '/portal/application').then((r) => r.data)), [gone]);
    if (gone) {
        return (
            <main><section class="card"><h2>Webhooks portal</h2>
                <p role="alert">This link has expired or is not valid. Ask for a new portal link.</p>
            </section></main>
        );
    }
    return (
        <>
            <header class="top">
                <h1>Webhooks{app.data ? ` — ${app.data.name}` : ''}</h1>
                <nav aria-label="Sections">
                    <button type="button" aria-current={tab === 'endpoints' ? 'page' : undefined} onClick={() => setTab('endpoints')}>Endpoints</button>
                    <button type="button" aria-current={tab === 'messages' ? 'page' : undefined} onClick={() => setTab('messages')}>Messages</button>
                </nav>
            </header>
            <main>
                <ErrorLine error={app.error} />
                {tab === 'endpoints' ? <Endpoints /> : <Messages />}
            </main>
        </>
    );
}

render(<><App /><Toasts /><ConfirmHost /></>, document.getElementById('app'));
