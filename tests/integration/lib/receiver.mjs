// A scripted loopback webhook receiver. It records every request (raw body
// bytes and headers) and answers per a script: a fixed response, a list of
// responses consumed one per request (the last one repeats), or a function of
// (record, index). A response is {status, headers, body, delayMs, hang}; a
// hanging response is never answered (its socket is destroyed on close()).
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { scaled } from './util.mjs';

export async function startReceiver(script = { status: 200 }) {
    const r = new Receiver(script);
    await r.listen();
    return r;
}

export class Receiver extends EventEmitter {
    constructor(script) {
        super();
        this.setMaxListeners(1000);
        this.requests = [];
        this.respond(script);
        this.server = http.createServer((req, res) => this.onRequest(req, res));
        this.server.requestTimeout = 0;
        this.server.headersTimeout = 0;
        this.server.keepAliveTimeout = 1000;
        this.timers = new Set();
    }

    listen() {
        return new Promise((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(0, '127.0.0.1', () => {
                this.port = this.server.address().port;
                resolve();
            });
        });
    }

    /** URL of this receiver for an endpoint; distinct paths keep endpoint URLs unique. */
    url(path = '/hook') {
        return `http://127.0.0.1:${this.port}${path}`;
    }

    /** Replaces the script; the index of list scripts restarts at the next request. */
    respond(script) {
        if (Array.isArray(script)) {
            const start = this.requests.length;
            const list = script;
            this.script = (_rec, i) => list[Math.min(i - start, list.length - 1)];
        } else if (typeof script === 'function') {
            this.script = script;
        } else {
            this.script = () => script;
        }
    }

    onRequest(req, res) {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks);
            const rec = {
                index: this.requests.length,
                method: req.method,
                path: req.url,
                headers: req.headers,
                body,
                text: body.toString('utf8'),
                webhookId: req.headers['webhook-id'],
                receivedAt: Date.now(),
                answered: null,
            };
            this.requests.push(rec);
            const spec = { status: 200, ...(this.script(rec, rec.index) ?? {}) };
            this.emit('request', rec);
            if (spec.hang) return;
            const answer = () => {
                if (res.destroyed) return;
                res.writeHead(spec.status, { 'content-type': 'text/plain', ...(spec.headers ?? {}) });
                res.end(spec.body ?? 'ok', () => {
                    rec.answered = spec.status;
                    this.emit('answered', rec);
                });
            };
            if (spec.delayMs) {
                const timer = setTimeout(() => { this.timers.delete(timer); answer(); }, spec.delayMs);
                this.timers.add(timer);
            } else {
                answer();
            }
        });
    }

    /** Distinct webhook-id values, optionally only of requests matching filter. */
    distinctIds(filter = () => true) {
        return new Set(this.requests.filter(filter).map((r) => r.webhookId));
    }

    /** Requests carrying this webhook-id. */
    requestsFor(id) {
        return this.requests.filter((r) => r.webhookId === id);
    }

    /** Resolves once pred() is true (checked on every recorded/answered request). */
    waitUntil(pred, { timeout = 10_000, what = 'receiver condition', event = 'request' } = {}) {
        if (pred()) return Promise.resolve();
        return new Promise((resolve, reject) => {
            const onEvent = () => {
                if (!pred()) return;
                cleanup();
                resolve();
            };
            const timer = setTimeout(() => {
                cleanup();
                reject(new Error(`receiver: timed out after ${scaled(timeout)} ms waiting for ${what} ` +
                    `(${this.requests.length} requests, ${this.distinctIds().size} distinct ids)`));
            }, scaled(timeout));
            const cleanup = () => {
                clearTimeout(timer);
                this.off(event, onEvent);
            };
            this.on(event, onEvent);
        });
    }

    /** Waits for at least n recorded requests and returns the first n. */
    async waitForRequests(n, opts = {}) {
        await this.waitUntil(() => this.requests.length >= n, { what: `${n} requests`, ...opts });
        return this.requests.slice(0, n);
    }

    /** Waits for at least n distinct webhook-ids among requests matching filter. */
    async waitForDistinctIds(n, { filter, ...opts } = {}) {
        const event = filter ? 'answered' : 'request';
        await this.waitUntil(() => this.distinctIds(filter).size >= n,
            { what: `${n} distinct webhook-ids`, event, ...opts });
        return this.distinctIds(filter);
    }

    /** Stops listening and destroys every open (e.g. hanging) connection. */
    async close() {
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        const closed = new Promise((resolve) => this.server.close(resolve));
        this.server.closeAllConnections();
        await closed;
    }
}
