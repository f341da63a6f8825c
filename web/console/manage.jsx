// Management: API keys, applications (with portal links), event types and
// /v1 endpoints (policies shown read-only).
import { useState } from 'preact/hooks';
import { fmtTime, pretty } from '../shared/api.js';
import { Spinner, ErrorLine, CopyButton, Modal, act, confirmAction, toast } from '../shared/ui.jsx';
import { api, useLoad, Badge } from './common.jsx';

function OnceSecret({ label, value, onDone }) {
    return (
        <div class="secret" role="region" aria-label={label}>
            <p><b>{label}</b> — shown once: copy it now.</p>
            <p><code data-testid="secret">{value}</code></p>
            <div class="row"><CopyButton text={value} /><button type="button" onClick={onDone}>Done</button></div>
        </div>
    );
}

function useForm(init) {
    const [v, setV] = useState(init);
    const bind = (k) => ({ value: v[k], onInput: (e) => setV({ ...v, [k]: e.target.value }) });
    return [v, setV, bind];
}

async function submitWith(e, setBusy, setError, fn) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try { await fn(); } catch (err) { setError(err); } finally { setBusy(false); }
}

export function ApiKeys() {
    const [st, reload] = useLoad(() => api('GET', '/v1/api-keys').then((r) => r.data), []);
    const [v, setV, bind] = useForm({ label: '', mode: 'live' });
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [made, setMade] = useState(null);
    const create = (e) => submitWith(e, setBusy, setError, async () => {
        const r = await api('POST', '/v1/api-keys', { mode: v.mode, ...(v.label ? { label: v.label } : {}) });
        setMade(r.data.key);
        setV({ label: '', mode: 'live' });
        toast('API key created');
        reload(true);
    });
    const remove = async (k) => {
        if (!(await confirmAction(`Delete the API key ${k.prefix}…${k.label ? ` (${k.label})` : ''}? Its next request is refused.`, 'Delete key'))) return;
        if ((await act(() => api('DELETE', `/v1/api-keys/${k.key_id}`), 'API key deleted')) !== undefined) reload(true);
    };
    return (
        <section class="card">
            <h2>API keys</h2>
            <form class="grid" onSubmit={create} aria-label="Create an API key">
                <label>Label<input {...bind('label')} /></label>
                <label>Mode<select aria-label="Mode" value={v.mode} onChange={(e) => setV({ ...v, mode: e.target.value })}><option>live</option><option>test</option></select></label>
                <button class="primary" disabled={busy}>Create key</button>
            </form>
            <ErrorLine error={error} />
            {made && <OnceSecret label="New API key" value={made} onDone={() => setMade(null)} />}
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && (
                <div class="table-wrap"><table class="stack" aria-label="API keys">
                    <thead><tr><th>Prefix</th><th>Label</th><th>Mode</th><th class="wide-only">Created</th><th class="wide-only">Last used</th><th></th></tr></thead>
                    <tbody>{st.data.map((k) => (
                        <tr key={k.key_id}>
                            <td><code>{k.prefix}…</code></td><td>{k.label || '—'}</td><td>{k.mode}</td>
                            <td class="wide-only">{fmtTime(k.created_at)}</td><td class="wide-only">{fmtTime(k.last_used_at)}</td>
                            <td><button type="button" class="danger" onClick={() => remove(k)}>Delete</button></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
        </section>
    );
}

function PortalLink({ app, onClose }) {
    const [minutes, setMinutes] = useState('60');
    const [link, setLink] = useState(null);
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const make = (e) => submitWith(e, setBusy, setError, async () => {
        const r = await api('POST', `/api/portal/webhook-applications/${encodeURIComponent(app.id)}/magic-link`, { expiresInMinutes: Number(minutes) });
        setLink(r.data);
        toast('Portal link created');
    });
    return (
        <Modal title={`Portal link for ${app.name}`} onClose={onClose}>
            <form class="grid" onSubmit={make}>
                <label>Valid for (minutes)<input type="number" min="1" max="1440" required value={minutes} onInput={(e) => setMinutes(e.target.value)} /></label>
                <button class="primary" disabled={busy}>Create link</button>
            </form>
            <ErrorLine error={error} />
            {link && (
                <div class="secret">
                    <p>Anyone with this link manages the webhooks of <b>{app.name}</b> until {fmtTime(link.expiresAt)}.</p>
                    <p><code data-testid="portal-link">{link.url}</code></p>
                    <div class="row"><CopyButton text={link.url} label="Copy link" /><a href={link.url} target="_blank" rel="noopener">Open the portal</a></div>
                </div>
            )}
        </Modal>
    );
}

export function Applications({ onChanged }) {
    const [st, reload] = useLoad(() => api('GET', '/api/webhook-applications?limit=250').then((r) => r.data), []);
    const [v, setV, bind] = useForm({ name: '', externalId: '' });
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [linkFor, setLinkFor] = useState(null);
    const create = (e) => submitWith(e, setBusy, setError, async () => {
        await api('POST', '/api/webhook-applications', { name: v.name, ...(v.externalId ? { externalId: v.externalId } : {}) });
        setV({ name: '', externalId: '' });
        toast('Application created');
        reload(true);
        onChanged && onChanged();
    });
    const remove = async (a) => {
        if (!(await confirmAction(`Delete the application ${a.name}? Its endpoints go with it.`, 'Delete application'))) return;
        if ((await act(() => api('DELETE', `/api/webhook-applications/${a.id}`), 'Application deleted')) !== undefined) { reload(true); onChanged && onChanged(); }
    };
    return (
        <section class="card">
            <h2>Applications</h2>
            <form class="grid" onSubmit={create} aria-label="Create an application">
                <label>Name<input required {...bind('name')} /></label>
                <label>External id<input {...bind('externalId')} placeholder="your customer's id" /></label>
                <button class="primary" disabled={busy}>Create application</button>
            </form>
            <ErrorLine error={error} />
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && st.data.length === 0 && <p class="muted">No applications yet.</p>}
            {st.data && st.data.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Applications">
                    <thead><tr><th>Name</th><th>External id</th><th class="wide-only">Id</th><th class="wide-only">Created</th><th></th></tr></thead>
                    <tbody>{st.data.map((a) => (
                        <tr key={a.id} data-app={a.name}>
                            <td>{a.name}</td><td>{a.externalId || '—'}</td><td class="wide-only"><code>{a.id}</code></td><td class="wide-only">{fmtTime(a.createdAt)}</td>
                            <td><div class="row">
                                <button type="button" onClick={() => setLinkFor(a)}>Portal link</button>
                                <button type="button" class="danger" onClick={() => remove(a)}>Delete</button>
                            </div></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
            {linkFor && <PortalLink app={linkFor} onClose={() => setLinkFor(null)} />}
        </section>
    );
}

export function EventTypes() {
    const [st, reload] = useLoad(() => api('GET', '/api/event-types?limit=250').then((r) => r.data), []);
    const [v, setV, bind] = useForm({ name: '', category: '', description: '', examplePayload: '' });
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const create = (e) => submitWith(e, setBusy, setError, async () => {
        const body = { name: v.name };
        for (const k of ['category', 'description', 'examplePayload']) if (v[k]) body[k] = v[k];
        await api('POST', '/api/event-types', body);
        setV({ name: '', category: '', description: '', examplePayload: '' });
        toast('Event type created');
        reload(true);
    });
    const toggle = async (t) => {
        if (t.isEnabled && !(await confirmAction(`Archive ${t.name}? Sending it is then refused.`, 'Archive'))) return;
        if ((await act(() => api('PATCH', `/api/event-types/${t.id}`, { isEnabled: !t.isEnabled }), t.isEnabled ? 'Event type archived' : 'Event type enabled')) !== undefined) reload(true);
    };
    return (
        <section class="card">
            <h2>Event types</h2>
            <form class="grid" onSubmit={create} aria-label="Create an event type">
                <label>Event type name<input required {...bind('name')} placeholder="order.created" /></label>
                <label>Category<input {...bind('category')} /></label>
                <label>Event description<input {...bind('description')} /></label>
                <label>Example payload (JSON)<textarea rows="2" {...bind('examplePayload')} /></label>
                <button class="primary" disabled={busy}>Create event type</button>
            </form>
            <ErrorLine error={error} />
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && st.data.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Event types">
                    <thead><tr><th>Name</th><th>Category</th><th class="wide-only">Description</th><th>State</th><th></th></tr></thead>
                    <tbody>{st.data.map((t) => (
                        <tr key={t.id}>
                            <td><code>{t.name}</code></td><td>{t.category || '—'}</td><td class="wide-only">{t.description}</td>
                            <td><Badge kind={t.isEnabled ? 'ok' : 'disabled'}>{t.isEnabled ? 'enabled' : 'archived'}</Badge></td>
                            <td><button type="button" onClick={() => toggle(t)}>{t.isEnabled ? 'Archive' : 'Enable'}</button></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
        </section>
    );
}

// The policy members of an endpoint (docs/policies/) the console edits; auth is shown as
// a hint only, so it is set by adding it here, never prefilled.
const POLICY_KEYS = ['retry', 'delay_ms', 'deduplicate', 'rate_limit', 'max_concurrency', 'fifo',
    'http_method', 'transformation', 'signature_scheme', 'header_prefix', 'svix_headers',
    'url_locked_while_active', 'rate_limit_rps', 'burst'];
const policyOf = (e) => Object.fromEntries(POLICY_KEYS.filter((k) => e[k] !== undefined && e[k] !== null).map((k) => [k, e[k]]));

function PolicyEditor({ e, id, done }) {
    const [text, setText] = useState(() => JSON.stringify(policyOf(e), null, 2));
    const [error, setError] = useState(null);
    const save = async (ev) => {
        ev.preventDefault();
        let body;
        try { body = JSON.parse(text); } catch { setError('The policies are not JSON'); return; }
        if (!body || typeof body !== 'object' || Array.isArray(body)) { setError('The policies must be a JSON object'); return; }
        setError(null);
        try {
            await api('PATCH', `/v1/endpoints/${id}`, body);
            toast('Policies saved');
            done();
        } catch (err) { setError(err.message); }
    };
    return (
        <form class="grid" onSubmit={save} aria-label="Edit policies">
            <label>Policies (JSON: the members of docs/policies; null removes one)
                <textarea rows="8" data-testid="policy-json" value={text} onInput={(ev) => setText(ev.target.value)} /></label>
            {error && <p class="error" role="alert" data-testid="policy-error">{error}</p>}
            <button class="primary">Save policies</button>
        </form>
    );
}

export function EndpointDetail({ id, onClose, onChanged }) {
    const [st, reload] = useLoad(() => api('GET', `/v1/endpoints/${id}`).then((r) => r.data), [id]);
    const [payload, setPayload] = useState('{"hello": "world"}');
    const [sent, setSent] = useState(null);
    const done = () => { reload(true); onChanged(); };
    const send = async (e) => {
        e.preventDefault();
        let p;
        try { p = JSON.parse(payload); } catch { toast('The payload is not JSON', 'err'); return; }
        const r = await act(() => api('POST', '/v1/webhooks/send', { endpoint_id: id, payload: p }), 'Message queued');
        if (r) setSent(r.data.message_id);
    };
    const e = st.data;
    return (
        <Modal title={e ? `Endpoint ${e.url}` : 'Endpoint'} onClose={onClose}>
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {e && (
                <>
                    <div class="row">
                        <Badge kind={e.disabled ? 'disabled' : e.paused ? 'warn' : 'ok'}>{e.disabled ? 'disabled' : e.paused ? 'paused' : e.status}</Badge>
                        <Badge kind={e.circuit_state}>circuit {e.circuit_state}</Badge>
                        {e.paused
                            ? <button type="button" onClick={async () => (await act(() => api('POST', `/v1/endpoints/${id}/resume`), 'Endpoint resumed')) && done()}>Resume</button>
                            : <button type="button" onClick={async () => (await act(() => api('POST', `/v1/endpoints/${id}/pause`), 'Endpoint paused')) && done()}>Pause</button>}
                        {e.circuit_state !== 'closed' && <button type="button" onClick={async () => (await act(() => api('POST', `/v1/endpoints/${id}/reset-circuit`), 'Circuit closed')) && done()}>Reset circuit</button>}
                    </div>
                    <form class="grid" onSubmit={send} aria-label="Send a message">
                        <label>Payload to send (JSON)<textarea rows="3" value={payload} onInput={(ev) => setPayload(ev.target.value)} /></label>
                        <button class="primary">Send message</button>
                    </form>
                    {sent && <p>Queued message <code data-testid="sent-id">{sent}</code></p>}
                    <h3>Policies</h3>
                    <PolicyEditor key={e.updated_at} e={e} id={id} done={done} />
                    <h3>Settings</h3>
                    <pre data-testid="endpoint-json">{pretty(e)}</pre>
                </>
            )}
        </Modal>
    );
}

export function Endpoints({ endpoints, reload, openEndpoint }) {
    const [v, setV, bind] = useForm({ url: '', description: '' });
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [secret, setSecret] = useState(null);
    const create = (e) => submitWith(e, setBusy, setError, async () => {
        const r = await api('POST', '/v1/endpoints', { url: v.url, ...(v.description ? { description: v.description } : {}) });
        setSecret(r.data.signing_secret);
        setV({ url: '', description: '' });
        toast('Endpoint created');
        reload(true);
    });
    const remove = async (ep) => {
        if (!(await confirmAction(`Delete the endpoint ${ep.url}? Messages already queued still go out.`, 'Delete endpoint'))) return;
        if ((await act(() => api('DELETE', `/v1/endpoints/${ep.id}`), 'Endpoint deleted')) !== undefined) reload(true);
    };
    return (
        <section class="card">
            <h2>Endpoints (/v1)</h2>
            <form class="grid" onSubmit={create} aria-label="Create an endpoint">
                <label>Endpoint URL<input type="url" required {...bind('url')} placeholder="https://example.com/webhooks" /></label>
                <label>Description<input {...bind('description')} /></label>
                <button class="primary" disabled={busy}>Create endpoint</button>
            </form>
            <ErrorLine error={error} />
            {secret && <OnceSecret label="Signing secret" value={secret} onDone={() => setSecret(null)} />}
            {endpoints.loading && <Spinner />}
            <ErrorLine error={endpoints.error} />
            {endpoints.data && endpoints.data.length === 0 && <p class="muted">No endpoints yet.</p>}
            {endpoints.data && endpoints.data.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Endpoints">
                    <thead><tr><th>URL</th><th>State</th><th>Circuit</th><th class="wide-only">Created</th><th></th></tr></thead>
                    <tbody>{endpoints.data.map((ep) => (
                        <tr key={ep.id} data-endpoint={ep.url}>
                            <td class="url">{ep.url}{ep.description && <div class="muted">{ep.description}</div>}</td>
                            <td><Badge kind={ep.disabled ? 'disabled' : ep.paused ? 'warn' : 'ok'}>{ep.disabled ? 'disabled' : ep.paused ? 'paused' : ep.status}</Badge></td>
                            <td><Badge kind={ep.circuit_state}>{ep.circuit_state}</Badge></td>
                            <td class="wide-only">{fmtTime(ep.created_at)}</td>
                            <td><div class="row">
                                <button type="button" onClick={() => openEndpoint(ep.id)}>Details</button>
                                <button type="button" class="danger" onClick={() => remove(ep)}>Delete</button>
                            </div></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
        </section>
    );
}
