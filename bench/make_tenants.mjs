// make_tenants.mjs PORT KEY APPS URL > app-ids - for bench/tenants.sh: create APPS
// applications with 3 endpoints each (pointing at URL), 16 requests at a time over
// keep-alive, through the Svix surface; prints the application ids, one per line.
const [port, key, apps, url] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];
const base = `http://127.0.0.1:${port}/api/v1`;
const h = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
async function post(path, body) {
  const r = await fetch(base + path, { method: 'POST', headers: h, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}
let next = 0; const ids = new Array(apps);
async function worker() {
  while (next < apps) {
    const i = next++;
    const app = await post('/app', { name: `tenant ${i}`, uid: `tenant-${i}` });
    for (let e = 0; e < 3; e++) await post(`/app/${app.id}/endpoint`, { url: `${url}/t${i}/e${e}` });
    ids[i] = app.id;
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
process.stdout.write(ids.join('\n') + '\n');
