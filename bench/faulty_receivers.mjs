// faulty_receivers.mjs - nine misbehaving webhook receivers on loopback, for bench/faulty.sh.
//
// Usage: node bench/faulty_receivers.mjs CERT_DIR
//   CERT_DIR holds cert.pem and key.pem (a self-signed pair, made by faulty.sh with openssl).
// Prints one JSON line on stdout once every receiver listens: {kind: url, ...}, then runs
// until SIGTERM/SIGINT, when it prints {kind: connections accepted} and exits.
//
// The receivers, one port each:
//   reset      accepts, reads the request, answers with a TCP RST
//   hang       accepts, reads the request, never answers (until the client gives up)
//   slowloris  answers a 200 one byte a second (a 64-byte body: longer than any timeout)
//   big        answers 200 with a 10 MB body
//   garbage    answers 2 KiB of random non-HTTP bytes, then closes
//   tls        an https:// server whose certificate is self-signed (verification fails)
//   gone       answers 410
//   refused    nothing listens there (a port that was bound and closed again)
//   redirect   answers 301 with a Location
// SPDX-License-Identifier: MIT
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";

const certDir = process.argv[2];
if (!certDir) {
    console.error("usage: node faulty_receivers.mjs CERT_DIR");
    process.exit(2);
}
const BIG = Buffer.alloc(10 * 1024 * 1024, 0x61);
const counts = {};
const sockets = new Set();
const timers = new Set();
const servers = [];

function track(kind, sock) {
    counts[kind] = (counts[kind] ?? 0) + 1;
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
}

function listen(server) {
    servers.push(server);
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server.address().port));
    });
}

function rawServer(kind, onData) {
    return net.createServer((sock) => {
        track(kind, sock);
        sock.once("data", () => onData(sock));
    });
}

function httpServer(kind, handler) {
    const s = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => handler(req, res));
    });
    s.keepAliveTimeout = 60000;
    s.on("connection", (sock) => track(kind, sock));
    return s;
}

const urls = {};
urls.reset = `http://127.0.0.1:${await listen(rawServer("reset", (s) => s.resetAndDestroy()))}/hook`;
urls.hang = `http://127.0.0.1:${await listen(rawServer("hang", () => {}))}/hook`;
const slowResponse = Buffer.from(
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n\r\n" + "x".repeat(64),
);
urls.slowloris = `http://127.0.0.1:${await listen(
    rawServer("slowloris", (sock) => {
        let i = 0;
        const t = setInterval(() => {
            if (i >= slowResponse.length || sock.destroyed) {
                clearInterval(t);
                timers.delete(t);
                return;
            }
            sock.write(slowResponse.subarray(i, i + 1));
            i++;
        }, 1000);
        timers.add(t);
        sock.on("close", () => {
            clearInterval(t);
            timers.delete(t);
        });
    }),
)}/hook`;
urls.big = `http://127.0.0.1:${await listen(
    httpServer("big", (req, res) => {
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": BIG.length });
        res.end(BIG);
    }),
)}/hook`;
urls.garbage = `http://127.0.0.1:${await listen(
    rawServer("garbage", (sock) => {
        const junk = randomBytes(2048);
        junk[0] = 0x00; // never "HTTP/"
        sock.end(junk);
    }),
)}/hook`;
const tls = https.createServer(
    { key: readFileSync(join(certDir, "key.pem")), cert: readFileSync(join(certDir, "cert.pem")) },
    (req, res) => {
        req.resume();
        res.writeHead(204).end();
    },
);
tls.on("connection", (sock) => track("tls", sock));
tls.on("tlsClientError", () => {});
urls.tls = `https://127.0.0.1:${await listen(tls)}/hook`;
urls.gone = `http://127.0.0.1:${await listen(httpServer("gone", (req, res) => res.writeHead(410).end("gone")))}/hook`;
{
    const probe = net.createServer();
    const port = await new Promise((resolve) => probe.listen(0, "127.0.0.1", () => resolve(probe.address().port)));
    await new Promise((resolve) => probe.close(resolve));
    urls.refused = `http://127.0.0.1:${port}/hook`;
}
urls.redirect = `http://127.0.0.1:${await listen(
    httpServer("redirect", (req, res) => res.writeHead(301, { Location: "http://127.0.0.1:9/elsewhere" }).end()),
)}/hook`;

process.stdout.write(JSON.stringify(urls) + "\n");

function stop() {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    process.stdout.write(JSON.stringify({ connections: counts }) + "\n", () => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
