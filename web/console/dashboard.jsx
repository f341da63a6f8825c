// Dashboard: /v1/metrics for a window, /v1/metrics/timeseries as an inline SVG
// chart, and the endpoints that are failing (circuit open, disabled, paused,
// or with messages that failed for good recently).
import { useState } from 'preact/hooks';
import { Spinner, ErrorLine } from '../shared/ui.jsx';
import { api, useLoad, Badge } from './common.jsx';

function Chart({ buckets }) {
    const W = 720, H = 200, P = 28;
    const max = Math.max(1, ...buckets.map((b) => b.total));
    const maxLat = Math.max(1, ...buckets.map((b) => b.avg_latency_ms));
    const bw = (W - P * 2) / Math.max(1, buckets.length);
    const y = (v) => H - P - (v / max) * (H - P * 2);
    const line = buckets.map((b, i) => `${P + i * bw + bw / 2},${H - P - (b.avg_latency_ms / maxLat) * (H - P * 2)}`).join(' ');
    const label = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return (
        <figure>
            <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Messages per bucket, at most ${max}; the line is the mean latency, at most ${maxLat} ms`}>
                <line x1={P} y1={H - P} x2={W - P} y2={H - P} stroke="#999" />
                <text x={2} y={P} font-size="11" fill="#555">{max}</text>
                {buckets.map((b, i) => {
                    const x = P + i * bw + 1;
                    const w = Math.max(1, bw - 2);
                    return (
                        <g key={b.timestamp}>
                            <title>{`${label(b.timestamp)}: ${b.total} messages, ${b.succeeded} succeeded, ${b.failed} failed, ${b.avg_latency_ms} ms`}</title>
                            <rect x={x} y={y(b.total)} width={w} height={H - P - y(b.total)} fill="#c9d6f5" />
                            <rect x={x} y={y(b.succeeded)} width={w} height={H - P - y(b.succeeded)} fill="#3a9a5b" />
                            <rect x={x} y={y(b.failed)} width={w} height={H - P - y(b.failed)} fill="#c0392b" />
                        </g>
                    );
                })}
                <polyline points={line} fill="none" stroke="#f0a500" stroke-width="2" />
                {buckets.length > 0 && <text x={P} y={H - 8} font-size="11" fill="#555">{label(buckets[0].timestamp)}</text>}
                {buckets.length > 1 && <text x={W - P} y={H - 8} font-size="11" fill="#555" text-anchor="end">{label(buckets[buckets.length - 1].timestamp)}</text>}
            </svg>
            <figcaption class="muted">Bars: messages (light), succeeded (green), failed (red) per bucket; line: mean latency of successful attempts.</figcaption>
        </figure>
    );
}

export function Dashboard({ openEndpoint }) {
    const [win, setWin] = useState('24h');
    const [m] = useLoad(() => api('GET', `/v1/metrics?window=${win}`).then((r) => r.data), [win]);
    const [ts] = useLoad(() => api('GET', `/v1/metrics/timeseries?window=${win}`).then((r) => r.data.buckets), [win]);
    const [failing] = useLoad(async () => {
        const [eps, failed] = await Promise.all([
            api('GET', '/v1/endpoints?limit=100').then((r) => r.data),
            api('GET', '/v1/logs?status=failed_permanent&limit=200').then((r) => r.data),
        ]);
        const count = {};
        for (const f of failed) count[f.endpoint_id] = (count[f.endpoint_id] || 0) + 1;
        return eps.map((e) => ({ ...e, failures: count[e.id] || 0 }))
            .filter((e) => e.failures || e.circuit_state !== 'closed' || e.disabled || e.paused || e.status !== 'active')
            .sort((a, b) => b.failures - a.failures);
    }, []);
    const d = m.data;
    return (
        <>
            <section class="card">
                <div class="row between">
                    <h2>Delivery</h2>
                    <label class="inline">Window<select aria-label="Window" value={win} onChange={(e) => setWin(e.target.value)}>
                        {['1h', '24h', '7d', '30d'].map((w) => <option key={w}>{w}</option>)}
                    </select></label>
                </div>
                {m.loading && <Spinner />}
                <ErrorLine error={m.error} />
                {d && (
                    <div class="cards">
                        <div class="stat" data-testid="success-rate"><span class="muted">Success rate</span><b>{(d.success_rate * 100).toFixed(1)}%</b></div>
                        <div class="stat"><span class="muted">Messages</span><b>{d.total_messages}</b></div>
                        <div class="stat"><span class="muted">Succeeded</span><b>{d.succeeded}</b></div>
                        <div class="stat"><span class="muted">Failed</span><b>{d.failed}</b></div>
                        <div class="stat"><span class="muted">Retries</span><b>{d.retries}</b></div>
                        <div class="stat"><span class="muted">Mean latency</span><b>{d.avg_latency_ms} ms</b></div>
                    </div>
                )}
                <ErrorLine error={ts.error} />
                {ts.data && <Chart buckets={ts.data} />}
            </section>
            <section class="card">
                <h2>Failing endpoints</h2>
                {failing.loading && <Spinner />}
                <ErrorLine error={failing.error} />
                {failing.data && failing.data.length === 0 && <p class="muted">None: every endpoint is healthy.</p>}
                {failing.data && failing.data.length > 0 && (
                    <div class="table-wrap"><table class="stack">
                        <thead><tr><th>URL</th><th>Recent failures</th><th>Circuit</th><th>State</th></tr></thead>
                        <tbody>{failing.data.map((e) => (
                            <tr key={e.id}>
                                <td class="url"><button type="button" class="link" onClick={() => openEndpoint(e.id)}>{e.url}</button></td>
                                <td>{e.failures}</td>
                                <td><Badge kind={e.circuit_state}>{e.circuit_state}</Badge></td>
                                <td>{e.disabled ? <Badge kind="disabled">disabled{e.disabled_reason ? `: ${e.disabled_reason}` : ''}</Badge> : e.paused ? <Badge kind="warn">paused</Badge> : <Badge kind="ok">{e.status}</Badge>}</td>
                            </tr>
                        ))}</tbody>
                    </table></div>
                )}
            </section>
        </>
    );
}
