// make_endpoints.mjs PORT KEY N > ids - for bench/spread.sh: create N endpoints on a
// loopback hookd (URLs on port 9, nothing listens) and pause each, 16 requests at a
// time over keep-alive; prints their ids, one per line. BENCH_ENDPOINT_FIELDS (as for
// run.sh: members without the braces, e.g. '"deduplicate":{"window_ms":3600000}') adds
// members to each endpoint's create body.
const [port, key, n] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const extra = process.env.BENCH_ENDPOINT_FIELDS ? JSON.parse(`{${process.env.BENCH_ENDPOINT_FIELDS}}`) : {};
const base = `http://127.0.0.1:${port}`;
const h = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
let next = 0; const ids = [];
async function worker() {
  while (next < n) {
    const i = next++;
    const r = await fetch(`${base}/v1/endpoints`, { method: 'POST', headers: h, body: JSON.stringify({ url: `http://127.0.0.1:9/h${i}`, ...extra }) });
    const id = (await r.json()).data.id;
    await (await fetch(`${base}/v1/endpoints/${id}/pause`, { method: 'POST', headers: h })).text();
    ids.push(id);
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
process.stdout.write(ids.join('\n') + '\n');
