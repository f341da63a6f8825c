// Small shared pieces of both pages: toasts, a confirmation dialog, a spinner,
// a copy button and an error line.
import { useEffect, useRef, useState } from 'preact/hooks';

let pushToast = () => {};
export function toast(text, kind = 'ok') { pushToast(text, kind); }

export function Toasts() {
    const [items, setItems] = useState([]);
    useEffect(() => {
        let n = 0;
        pushToast = (text, kind) => {
            const id = ++n;
            setItems((xs) => [...xs, { id, text, kind }]);
            setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), 5000);
        };
    }, []);
    return (
        <div class="toasts" role="status" aria-live="polite">
            {items.map((t) => <div key={t.id} class={`toast ${t.kind}`}>{t.text}</div>)}
        </div>
    );
}

let askConfirm = () => Promise.resolve(false);
/** Resolves true when the person confirms. */
export function confirmAction(text, action = 'Confirm') { return askConfirm(text, action); }

export function ConfirmHost() {
    const [q, setQ] = useState(null);
    const okRef = useRef();
    const boxRef = useRef();
    useEffect(() => {
        askConfirm = (text, action) => new Promise((resolve) => setQ({ text, action, resolve }));
    }, []);
    useEffect(() => { if (q && okRef.current) okRef.current.focus(); }, [q]);
    const done = (v) => { q.resolve(v); setQ(null); };
    useEscape(() => done(false), !!q);
    useTrap(boxRef, !!q);
    if (!q) return null;
    return (
        <div class="modal-back">
            <div class="modal" ref={boxRef} role="alertdialog" aria-modal="true" aria-labelledby="confirm-text">
                <p id="confirm-text">{q.text}</p>
                <div class="row end">
                    <button type="button" onClick={() => done(false)}>Cancel</button>
                    <button type="button" class="danger" ref={okRef} onClick={() => done(true)}>{q.action}</button>
                </div>
            </div>
        </div>
    );
}

export const Spinner = ({ label = 'Loading…' }) => <p class="loading" role="status">{label}</p>;

export const ErrorLine = ({ error }) => (error ? <p class="error" role="alert">{String(error.message || error)}</p> : null);

export function CopyButton({ text, label = 'Copy' }) {
    const copy = async () => {
        try {
            await navigator.clipboard.writeText(text);
            toast('Copied to the clipboard');
        } catch {
            toast('Copy failed: select the text and copy it', 'err');
        }
    };
    return <button type="button" onClick={copy}>{label}</button>;
}

/** Runs an async action with a toast for its outcome; returns its value or undefined. */
export async function act(fn, okText) {
    try {
        const v = await fn();
        if (okText) toast(okText);
        return v;
    } catch (e) {
        toast(e.message, 'err');
        return undefined;
    }
}

/** Escape anywhere calls fn while the component is shown. */
function useEscape(fn, active = true) {
    useEffect(() => {
        if (!active) return undefined;
        const h = (e) => { if (e.key === 'Escape') fn(); };
        document.addEventListener('keydown', h);
        return () => document.removeEventListener('keydown', h);
    }, [fn, active]);
}

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary';

/** Tab and Shift+Tab stay inside the element of ref while it is shown. */
function useTrap(ref, active = true) {
    useEffect(() => {
        if (!active) return undefined;
        const h = (e) => {
            if (e.key !== 'Tab' || !ref.current) return;
            const els = [...ref.current.querySelectorAll(FOCUSABLE)];
            if (!els.length) return;
            const first = els[0], last = els[els.length - 1];
            const inside = ref.current.contains(document.activeElement);
            if (e.shiftKey && (document.activeElement === first || !inside)) { e.preventDefault(); last.focus(); }
            else if (!e.shiftKey && (document.activeElement === last || !inside)) { e.preventDefault(); first.focus(); }
        };
        document.addEventListener('keydown', h);
        return () => document.removeEventListener('keydown', h);
    }, [ref, active]);
}

export function Modal({ title, onClose, children }) {
    const ref = useRef();
    const back = useRef();
    useEffect(() => {
        const prev = document.activeElement;
        ref.current && ref.current.focus();
        return () => prev && prev.focus && prev.focus();
    }, []);
    useEscape(onClose);
    useTrap(ref);
    return (
        <div class="modal-back" ref={back} onClick={(e) => e.target === back.current && onClose()}>
            <div class="modal wide" role="dialog" aria-modal="true" aria-label={title} tabIndex={-1} ref={ref}>
                <div class="row between"><h2>{title}</h2><button type="button" onClick={onClose} aria-label="Close">✕</button></div>
                {children}
            </div>
        </div>
    );
}
