// The `svix` SDKs (2.x as `svix`, 1.x as `svix1`) pointed at a hookd, with every
// response they receive validated against docs/openapi.yaml (lib/openapi.mjs),
// as httpRequest does for raw requests: both SDK versions take a custom
// `fetch`, and validatingFetch checks the response before the SDK sees it. A
// response the document does not describe rejects the SDK call with the
// validator's message (the SDK does not retry it: retries are off).
import { Svix as Svix2 } from 'svix';
import { Svix as Svix1 } from 'svix1';
import { validateResponse } from './openapi.mjs';

/** fetch, then validate the response to a hookd path; resolves with the untouched response. */
export async function validatingFetch(input, init = {}) {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = (init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const text = await res.clone().text();
    const headers = Object.fromEntries(res.headers);
    validateResponse(method, url.pathname + url.search, { status: res.status, headers, text },
        { headers: init.headers instanceof Headers ? Object.fromEntries(init.headers) : (init.headers ?? {}) });
    return res;
}

/**
 * Both SDK clients for hookd h with key (an API key or a portal token):
 * {v2, v1}. retryScheduleInMs [] turns the SDKs' retries of 5xx off, so a 5xx
 * fails the test; every response is validated (validatingFetch).
 */
export function clients(h, key = h.key, opts = {}) {
    const o = { serverUrl: `http://127.0.0.1:${h.port}`, retryScheduleInMs: [], fetch: validatingFetch, ...opts };
    return { v2: new Svix2(key, o), v1: new Svix1(key, o) };
}
