// fetch with a bearer credential; API errors become Error with the server's message.
export function makeApi(getToken, onUnauthorized) {
    return async function api(method, path, body) {
        const headers = { authorization: `Bearer ${getToken()}` };
        const init = { method, headers };
        if (body !== undefined) {
            headers['content-type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let res;
        try {
            res = await fetch(path, init);
        } catch (e) {
            throw new Error(`network error: ${e.message}`);
        }
        if (res.status === 204) return null;
        const text = await res.text();
        let json;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        if (!res.ok) {
            const err = json && json.error;
            const msg = (err && (err.message || err.detail)) || (json && json.detail) || text || res.statusText;
            const e = new Error(`${res.status}: ${typeof msg === 'string' ? msg : JSON.stringify(msg)}`);
            e.status = res.status;
            if (res.status === 401 && onUnauthorized) onUnauthorized();
            throw e;
        }
        return json;
    };
}

export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');
export const pretty = (v) => {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'string') {
        try { return JSON.stringify(JSON.parse(v), null, 2); } catch { return v; }
    }
    return JSON.stringify(v, null, 2);
};
