// latency_receiver.mjs - a healthy webhook receiver that times send -> receipt, for
// bench/faulty.sh.
//
// Usage: node bench/latency_receiver.mjs [--port PORT] [--hang]
// Prints {"url": "http://127.0.0.1:PORT/hook"} on stdout once it listens (PORT 0, the
// default, picks a free port); runs until SIGTERM/SIGINT.
//
// Every POST is answered 204 at once. Its receipt time is taken when the request's
// headers have arrived (the 'request' event), on CLOCK_MONOTONIC (process.hrtime, the
// same clock in every process of this machine). The JSON body's payload must carry
// "sent_at_ms" (the sender's process.hrtime in ms, taken just before it sent the
// message to hookd) and "tag"; latency = receipt - sent_at_ms, kept per tag.
// GET /_stats?tag=T answers {"count": n, "latencies_ms": [...], "total": all POSTs seen,
// "first_wall_ms": wall-clock ms (Date-based, sub-ms) when the first POST arrived, or null}.
// With --hang every POST is read and never answered (bench/backlog.sh's dead receiver).
// It runs in its own process so that nothing else delays its timestamps.
// SPDX-License-Identifier: MIT
import http from "node:http";

const args = process.argv.slice(2);
const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 0;
const hang = args.includes("--hang");
const byTag = new Map();
let total = 0;
let firstWallMs = null;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const server = http.createServer((req, res) => {
    const receivedMs = nowMs();
    const wallMs = performance.timeOrigin + performance.now();
    if (req.method === "GET" && req.url.startsWith("/_stats")) {
        const tag = new URL(req.url, "http://x").searchParams.get("tag") ?? "";
        const lat = byTag.get(tag) ?? [];
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ count: lat.length, latencies_ms: lat, total, first_wall_ms: firstWallMs }));
        return;
    }
    total++;
    if (firstWallMs === null) firstWallMs = wallMs;
    if (hang) {
        req.resume();
        return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        res.writeHead(204).end();
        try {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            const p = body && typeof body === "object" && "payload" in body ? body.payload : body;
            if (p && typeof p.sent_at_ms === "number" && typeof p.tag === "string") {
                if (!byTag.has(p.tag)) byTag.set(p.tag, []);
                byTag.get(p.tag).push(receivedMs - p.sent_at_ms);
            }
        } catch {
            // not ours: ignore
        }
    });
});
server.keepAliveTimeout = 60000;
server.requestTimeout = 0;
server.headersTimeout = 0;
server.listen(port, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/hook` }) + "\n");
});
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
