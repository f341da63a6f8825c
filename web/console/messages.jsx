// Messages: the search of /v1/logs (status, application, endpoint, time) or,
// with an event type, of the Hookbase outbound-message list; a message with
// its attempts (and its payload when the API can read it), replay, retry now,
// cancel; the DLQ with bulk replay.
import { useEffect, useState } from 'preact/hooks';
import { fmtTime, pretty } from '../shared/api.js';
import { Spinner, ErrorLine, Modal, act, confirmAction, toast } from '../shared/ui.jsx';
import { api, useLoad, Badge, MESSAGE_STATUSES, statusKind } from './common.jsx';

// /v1 status -> Hookbase outbound status (for the event-type search)
const HB_STATUS = { queued: 'pending', delivering: 'pending', pending_retry: 'pending', succeeded: 'success', deduplicated: 'success', failed_permanent: 'failed' };

// What was sent (GET /v1/messages/{id}/payload: JSON, or text when it is not JSON;
// 410 once retention removed it), and the event type of a published message.
async function payloadOf(id) {
    const p = (await api('GET', `/v1/messages/${id}/payload`)).data;
    const om = await api('GET', `/api/outbound-messages/${id}`).then((r) => r.data).catch(() => ({}));
    return {
        eventType: om.eventType || null, eventId: om.messageId || null,
        payload: p.payload !== undefined ? p.payload : p.payload_text, contentType: p.content_type,
    };
}

export function MessageDetail({ id, onClose, onChanged }) {
    const [m, reload] = useLoad(() => api('GET', `/v1/messages/${id}`).then((r) => r.data), [id]);
    const [at, reloadAt] = useLoad(() => api('GET', `/v1/messages/${id}/attempts`).then((r) => r.data), [id]);
    const [pl] = useLoad(() => payloadOf(id).catch(() => ({ payload: null })), [id]);
    const refresh = () => { reload(true); reloadAt(true); onChanged && onChanged(); };
    const replay = async () => { if (await act(() => api('POST', `/v1/messages/${id}/replay`), 'Message replayed: a new delivery is queued')) refresh(); };
    const retryNow = async () => { if (await act(() => api('POST', `/v1/messages/${id}/retry-now`), 'Retrying now')) refresh(); };
    const cancel = async () => {
        if (!(await confirmAction('Cancel this message? Its remaining retries are dropped and it fails for good.', 'Cancel message'))) return;
        if (await act(() => api('POST', `/v1/messages/${id}/cancel`), 'Message cancelled')) refresh();
    };
    const d = m.data;
    return (
        <Modal title={`Message ${id}`} onClose={onClose}>
            {m.loading && <Spinner />}
            <ErrorLine error={m.error} />
            {d && (
                <>
                    <div class="table-wrap"><table><tbody>
                        <tr><th>Status</th><td><Badge kind={statusKind(d.status)}>{d.status}</Badge></td></tr>
                        <tr><th>Endpoint</th><td><code>{d.endpoint_id}</code></td></tr>
                        {pl.data && pl.data.eventType && <tr><th>Event type</th><td><code>{pl.data.eventType}</code> <span class="muted">{pl.data.eventId}</span></td></tr>}
                        <tr><th>Attempts</th><td>{d.attempt_count} (replayed {d.replay_count} times)</td></tr>
                        <tr><th>Next attempt</th><td>{fmtTime(d.next_attempt_at)}</td></tr>
                        <tr><th>Size</th><td>{d.size_bytes} bytes, sha256 <code>{(d.payload_sha256 || '').slice(0, 16)}…</code></td></tr>
                        <tr><th>Created</th><td>{fmtTime(d.created_at)}</td></tr>
                        {d.last_error && <tr><th>Last error</th><td class="error">{d.last_error}</td></tr>}
                    </tbody></table></div>
                    <div class="row">
                        <button type="button" class="primary" onClick={replay}>Replay</button>
                        <button type="button" onClick={retryNow} disabled={d.status !== 'pending_retry'}>Retry now</button>
                        <button type="button" class="danger" onClick={cancel} disabled={d.status !== 'pending_retry'}>Cancel</button>
                    </div>
                    <h3>Payload</h3>
                    {pl.loading ? <Spinner /> : pl.data && pl.data.payload != null
                        ? <pre data-testid="payload">{pretty(pl.data.payload)}</pre>
                        : <p class="muted">No longer kept: its payload retention has ended.</p>}
                </>
            )}
            <h3>Attempts</h3>
            {at.loading && <Spinner />}
            <ErrorLine error={at.error} />
            {at.data && at.data.length === 0 && <p class="muted">No attempt yet.</p>}
            {at.data && at.data.length > 0 && (
                <div class="table-wrap"><table aria-label="Attempts">
                    <thead><tr><th>#</th><th>When</th><th>Response</th><th>Latency</th><th>Error / body</th></tr></thead>
                    <tbody>{at.data.map((a) => (
                        <tr key={a.id} data-attempt={a.attempt_no}>
                            <td>{a.attempt_no}</td>
                            <td>{fmtTime(a.created_at)}</td>
                            <td>{a.response_status ? <Badge kind={a.response_status < 300 ? 'ok' : 'bad'}>HTTP {a.response_status}</Badge> : '—'}</td>
                            <td>{a.response_latency_ms ?? '—'} ms</td>
                            <td>{a.error_text && <div class="error">{a.error_text}</div>}{a.response_body && <pre>{a.response_body}</pre>}</td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
        </Modal>
    );
}

const toIso = (local) => (local ? new Date(local).toISOString() : '');

export function Messages({ apps, endpoints }) {
    const [f, setF] = useState({ status: '', app: '', endpoint: '', eventType: '', start: '', end: '' });
    const [applied, setApplied] = useState(f);
    const [cursor, setCursor] = useState([]); // stack of cursors for paging
    const [open, setOpen] = useState(null);
    const [st, reload] = useLoad(async () => {
        const c = cursor[cursor.length - 1];
        if (applied.eventType) {
            const q = new URLSearchParams({ eventType: applied.eventType, limit: '25' });
            if (applied.status) q.set('status', HB_STATUS[applied.status]);
            if (applied.app) q.set('applicationId', applied.app);
            if (applied.endpoint) q.set('endpointId', applied.endpoint);
            if (applied.start) q.set('startDate', toIso(applied.start));
            if (applied.end) q.set('endDate', toIso(applied.end));
            if (c) q.set('cursor', c);
            const r = await api('GET', `/api/outbound-messages?${q}`);
            return {
                items: r.data.map((o) => ({ message_id: o.id, endpoint: o.endpointUrl, endpoint_id: o.endpointId, status: o.status, attempt_count: o.attempts, created_at: o.createdAt, event_type: o.eventType })),
                next: r.pagination && r.pagination.hasMore ? r.pagination.nextCursor : null,
            };
        }
        const q = new URLSearchParams({ limit: '25' });
        if (applied.status) q.set('status', applied.status);
        if (applied.app) q.set('application_id', applied.app);
        if (applied.endpoint) q.set('endpoint_id', applied.endpoint);
        if (applied.start) q.set('start_time', toIso(applied.start));
        if (applied.end) q.set('end_time', toIso(applied.end));
        if (c) q.set('cursor', c);
        const r = await api('GET', `/v1/logs?${q}`);
        return { items: r.data, next: r.meta.has_more ? r.meta.next_cursor : null };
    }, [applied, cursor]);
    const search = (e) => { e.preventDefault(); setCursor([]); setApplied({ ...f }); };
    const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
    return (
        <section class="card">
            <h2>Messages</h2>
            <form class="filters" onSubmit={search} aria-label="Search messages">
                <label>Status<select aria-label="Status" value={f.status} onChange={set('status')}>
                    <option value="">any</option>{MESSAGE_STATUSES.map((s) => <option key={s}>{s}</option>)}
                </select></label>
                <label>Application<select aria-label="Application" value={f.app} onChange={set('app')}>
                    <option value="">any</option><option value="default">default (/v1 endpoints)</option>
                    {(apps || []).map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
                </select></label>
                <label>Endpoint<select aria-label="Endpoint" value={f.endpoint} onChange={set('endpoint')}>
                    <option value="">any</option>{(endpoints || []).map((e) => <option key={e.id} value={e.id}>{e.url}</option>)}
                </select></label>
                <label>Event type<input value={f.eventType} onInput={set('eventType')} placeholder="order.created" /></label>
                <label>From<input type="datetime-local" value={f.start} onInput={set('start')} /></label>
                <label>Until<input type="datetime-local" value={f.end} onInput={set('end')} /></label>
                <button class="primary">Search</button>
            </form>
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && st.data.items.length === 0 && <p class="muted">No messages match.</p>}
            {st.data && st.data.items.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="Messages">
                    <thead><tr><th>Message</th><th>Status</th><th>Endpoint</th><th>Attempts</th><th class="wide-only">Created</th><th></th></tr></thead>
                    <tbody>{st.data.items.map((m) => (
                        <tr key={m.message_id} data-message={m.message_id}>
                            <td><code>{m.message_id.slice(0, 13)}…</code>{m.event_type && <div><code>{m.event_type}</code></div>}</td>
                            <td><Badge kind={statusKind(m.status)}>{m.status}</Badge></td>
                            <td class="url">{m.endpoint}</td>
                            <td>{m.attempt_count}</td>
                            <td class="wide-only">{fmtTime(m.created_at)}</td>
                            <td><button type="button" onClick={() => setOpen(m.message_id)} aria-label={`Open message ${m.message_id}`}>Open</button></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
            <div class="row end">
                <button type="button" disabled={cursor.length === 0} onClick={() => setCursor(cursor.slice(0, -1))}>Previous</button>
                <button type="button" disabled={!st.data || !st.data.next} onClick={() => setCursor([...cursor, st.data.next])}>Next</button>
                <button type="button" onClick={() => reload()}>Refresh</button>
            </div>
            {open && <MessageDetail id={open} onClose={() => setOpen(null)} onChanged={() => reload(true)} />}
        </section>
    );
}

export function Dlq() {
    const [cursor, setCursor] = useState([]);
    const [sel, setSel] = useState(new Set());
    const [open, setOpen] = useState(null);
    const [st, reload] = useLoad(() => {
        const q = new URLSearchParams({ limit: '50' });
        const c = cursor[cursor.length - 1];
        if (c) q.set('cursor', c);
        return api('GET', `/v1/dlq/messages?${q}`).then((r) => r.data);
    }, [cursor]);
    useEffect(() => setSel(new Set()), [st.data]);
    const toggle = (id) => { const s = new Set(sel); s.has(id) ? s.delete(id) : s.add(id); setSel(s); };
    const items = st.data ? st.data.messages : [];
    const replayOne = async (id) => { if (await act(() => api('POST', `/v1/dlq/replay/${id}`), 'Replayed from the DLQ')) reload(true); };
    const replaySelected = async () => {
        const ids = [...sel];
        if (!(await confirmAction(`Replay ${ids.length} message(s) from the DLQ?`, 'Replay'))) return;
        const r = await act(() => api('POST', '/v1/messages/replay-batch', { message_ids: ids }));
        if (r) { toast(`Replayed ${r.data.replayed}, failed ${r.data.failed}, still running ${r.data.stuck}`); reload(true); }
    };
    const replayAll = async () => {
        if (!(await confirmAction('Replay every message that failed for good (up to 1000)?', 'Replay all'))) return;
        const r = await act(() => api('POST', '/v1/messages/replay-all?status=failed_permanent&limit=1000'));
        if (r) { toast(`Replayed ${r.data.replayed} message(s)`); reload(true); }
    };
    return (
        <section class="card">
            <div class="row between">
                <h2>Dead-letter queue</h2>
                <div class="row">
                    <button type="button" class="primary" disabled={sel.size === 0} onClick={replaySelected}>Replay selected ({sel.size})</button>
                    <button type="button" onClick={replayAll} disabled={items.length === 0}>Replay all</button>
                    <button type="button" onClick={() => reload()}>Refresh</button>
                </div>
            </div>
            {st.loading && <Spinner />}
            <ErrorLine error={st.error} />
            {st.data && items.length === 0 && <p class="muted">The DLQ is empty.</p>}
            {items.length > 0 && (
                <div class="table-wrap"><table class="stack" aria-label="DLQ">
                    <thead><tr><th><input type="checkbox" aria-label="Select all" checked={sel.size === items.length} onChange={(e) => setSel(e.target.checked ? new Set(items.map((m) => m.message_id)) : new Set())} /></th><th>Message</th><th>Endpoint</th><th>Attempts</th><th>Last error</th><th></th></tr></thead>
                    <tbody>{items.map((m) => (
                        <tr key={m.message_id} data-message={m.message_id}>
                            <td><input type="checkbox" aria-label={`Select ${m.message_id}`} checked={sel.has(m.message_id)} onChange={() => toggle(m.message_id)} /></td>
                            <td><code>{m.message_id.slice(0, 13)}…</code></td>
                            <td class="url">{m.endpoint}</td>
                            <td>{m.attempt_count}</td>
                            <td class="error">{m.last_error}</td>
                            <td><div class="row">
                                <button type="button" onClick={() => setOpen(m.message_id)} aria-label={`Open message ${m.message_id}`}>Open</button>
                                <button type="button" onClick={() => replayOne(m.message_id)}>Replay</button>
                            </div></td>
                        </tr>
                    ))}</tbody>
                </table></div>
            )}
            <div class="row end">
                <button type="button" disabled={cursor.length === 0} onClick={() => setCursor(cursor.slice(0, -1))}>Previous</button>
                <button type="button" disabled={!st.data || !st.data.has_more} onClick={() => setCursor([...cursor, st.data.next_cursor])}>Next</button>
            </div>
            {open && <MessageDetail id={open} onClose={() => setOpen(null)} onChanged={() => reload(true)} />}
        </section>
    );
}
