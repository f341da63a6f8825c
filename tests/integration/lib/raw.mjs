// Raw HTTP/1.1 over a net.Socket: the exact request bytes reach hookd (curl,
// fetch and node:http would normalise or refuse bytes such as "\xff" in the
// method or path). One request per connection ("Connection: close").
import net from 'node:net';
import { scaled } from './util.mjs';

/**
 * Sends head (request line + headers, a Buffer or latin1 string, WITHOUT the
 * blank line) and body; resolves {status, headers, body (Buffer), text, json,
 * utf8Valid}. contentLength=false sends the body without a Content-Length
 * (e.g. chunked framing written by the caller). Rejects on transport errors or after timeout ms.
 */
export function rawRequest(port, head, body = Buffer.alloc(0), { timeout = 10_000, contentLength = true } = {}) {
    const headBuf = Buffer.isBuffer(head) ? head : Buffer.from(head, 'latin1');
    const bodyBuf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const extra = `Host: 127.0.0.1\r\nConnection: close\r\n` +
        (bodyBuf.length && contentLength ? `Content-Length: ${bodyBuf.length}\r\n` : '') + '\r\n';
    return new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        const chunks = [];
        const timer = setTimeout(() => sock.destroy(new Error('raw request: timeout')), scaled(timeout));
        sock.on('connect', () => sock.end(Buffer.concat([headBuf, Buffer.from('\r\n' + extra), bodyBuf])));
        sock.on('data', (c) => chunks.push(c));
        sock.on('error', (e) => { clearTimeout(timer); reject(e); });
        sock.on('close', () => {
            clearTimeout(timer);
            const all = Buffer.concat(chunks);
            const sep = all.indexOf('\r\n\r\n');
            if (sep < 0) {
                reject(new Error(`no HTTP response (got ${all.length} bytes: ${all.toString('latin1').slice(0, 200)})`));
                return;
            }
            const lines = all.subarray(0, sep).toString('latin1').split('\r\n');
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
            const headers = {};
            for (const l of lines.slice(1)) {
                const i = l.indexOf(':');
                if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
            }
            const resBody = all.subarray(sep + 4);
            let text = null;
            let utf8Valid = true;
            try { text = new TextDecoder('utf-8', { fatal: true }).decode(resBody); } catch { utf8Valid = false; }
            let json;
            try { json = JSON.parse(text); } catch { json = undefined; }
            resolve({ status, headers, body: resBody, text, json, utf8Valid });
        });
    });
}
