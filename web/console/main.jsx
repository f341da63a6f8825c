// The operator console (/console/): log in with an API key (sessionStorage,
// never the URL); dashboard, messages, DLQ, endpoints, applications (portal
// links), event types and API keys over /v1 and the Hookbase /api routes.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import '../shared/style.css';
import { Toasts, ConfirmHost, ErrorLine } from '../shared/ui.jsx';
import { api, KEY, setOnExpired, useLoad } from './common.jsx';
import { Dashboard } from './dashboard.jsx';
import { Messages, Dlq } from './messages.jsx';
import { ApiKeys, Applications, EventTypes, Endpoints, EndpointDetail } from './manage.jsx';

function Login({ onIn, expired }) {
    const [key, setKey] = useState('');
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const submit = async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        sessionStorage.setItem(KEY, key.trim());
        try {
            await api('GET', '/v1/metrics?window=1h');
            onIn();
        } catch (err) {
            sessionStorage.removeItem(KEY);
            setError(err);
        } finally { setBusy(false); }
    };
    return (
        <main><section class="card" style="max-width: 32rem; margin: 3rem auto;">
            <h2>hookd console</h2>
            {expired && <p class="error" role="alert">The session ended (the key was refused): log in again.</p>}
            <form class="grid" onSubmit={submit} aria-label="Log in">
                <label>API key<input type="password" autocomplete="off" required value={key} onInput={(e) => setKey(e.target.value)} placeholder="hk_live_…" /></label>
                <button class="primary" disabled={busy}>{busy ? 'Checking…' : 'Log in'}</button>
            </form>
            <ErrorLine error={error} />
            <p class="muted">The key stays in this tab (sessionStorage) and is sent only to this server.</p>
        </section></main>
    );
}

const TABS = [['dashboard', 'Dashboard'], ['messages', 'Messages'], ['dlq', 'DLQ'], ['endpoints', 'Endpoints'], ['apps', 'Applications'], ['types', 'Event types'], ['keys', 'API keys']];

function Console({ onOut }) {
    const [tab, setTab] = useState('dashboard');
    const [epOpen, setEpOpen] = useState(null);
    const [endpoints, reloadEndpoints] = useLoad(() => api('GET', '/v1/endpoints?limit=100').then((r) => r.data), []);
    const [apps, reloadApps] = useLoad(() => api('GET', '/api/webhook-applications?limit=250').then((r) => r.data), []);
    return (
        <>
            <header class="top">
                <h1>hookd console</h1>
                <nav aria-label="Sections">
                    {TABS.map(([id, label]) => <button key={id} type="button" aria-current={tab === id ? 'page' : undefined} onClick={() => setTab(id)}>{label}</button>)}
                    <button type="button" onClick={onOut}>Log out</button>
                </nav>
            </header>
            <main>
                <ErrorLine error={apps.error} />
                {tab === 'dashboard' && <Dashboard openEndpoint={setEpOpen} />}
                {tab === 'messages' && <Messages apps={apps.data} endpoints={endpoints.data} />}
                {tab === 'dlq' && <Dlq />}
                {tab === 'endpoints' && <Endpoints endpoints={endpoints} reload={reloadEndpoints} openEndpoint={setEpOpen} />}
                {tab === 'apps' && <Applications onChanged={() => reloadApps(true)} />}
                {tab === 'types' && <EventTypes />}
                {tab === 'keys' && <ApiKeys />}
            </main>
            {epOpen && <EndpointDetail id={epOpen} onClose={() => setEpOpen(null)} onChanged={() => reloadEndpoints(true)} />}
        </>
    );
}

function App() {
    const [inside, setInside] = useState(!!sessionStorage.getItem(KEY));
    const [expired, setExpired] = useState(false);
    setOnExpired(() => { sessionStorage.removeItem(KEY); setExpired(true); setInside(false); });
    if (!inside) return <Login expired={expired} onIn={() => { setExpired(false); setInside(true); }} />;
    return <Console onOut={() => { sessionStorage.removeItem(KEY); setInside(false); }} />;
}

render(<><App /><Toasts /><ConfirmHost /></>, document.getElementById('app'));
