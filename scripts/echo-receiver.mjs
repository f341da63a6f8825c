#!/usr/bin/env node
// A tiny webhook receiver for the quick start: prints every delivery and
// answers 204. Usage: node scripts/echo-receiver.mjs [port]   (default 9000)
import http from 'node:http';

const port = Number(process.argv[2] || 9000);
http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      console.log(`${req.method} ${req.url}`);
      for (const [k, v] of Object.entries(req.headers)) console.log(`  ${k}: ${v}`);
      console.log(`  body: ${Buffer.concat(chunks).toString()}\n`);
      res.writeHead(204).end();
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`receiver listening on http://127.0.0.1:${port}`));
