// The console's API client (the operator's API key, sessionStorage only) and small helpers.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { makeApi } from '../shared/api.js';

export const KEY = 'hookd.console.key';
let onExpired = () => {};
export const setOnExpired = (f) => { onExpired = f; };
export const api = makeApi(() => sessionStorage.getItem(KEY) || '', () => onExpired());

export function useLoad(fn, deps) {
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

export const Badge = ({ kind, children }) => <span class={`badge ${kind}`}>{children}</span>;

export const MESSAGE_STATUSES = ['queued', 'delivering', 'succeeded', 'pending_retry', 'failed_permanent', 'deduplicated'];
export const statusKind = (s) => ({ succeeded: 'ok', failed_permanent: 'bad', pending_retry: 'warn', deduplicated: 'ok' }[s] || 'pending');
