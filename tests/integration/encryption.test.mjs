// Secrets at rest: the key file hookd creates on first start, private data
// files, no plaintext signing secret in the database, WAL or shared memory,
// clear start-up errors for a missing or wrong key, and offline rotation
// (`hookd encryption rotate`) after which signatures still verify with the
// endpoints' original secrets. On PostgreSQL (HOOKD_TEST_PG) the database is
// the server's: what is stored is read through psql instead of the files.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { spawnSync } from 'node:child_process';
import { setup, phpPost, PG_URL, pgDbOf } from './lib/hookd.mjs';
import { expectOk, scaled } from './lib/util.mjs';

const T = { timeout: scaled(60_000) };
const DB_FILES = ['hookd.db', 'hookd.db-wal', 'hookd.db-shm'];
const mode = (p) => fs.statSync(p).mode & 0o777;

/** PostgreSQL: the rows of the tables that hold secrets, as text. */
function pgStored(dataDir) {
    const sql = ['signing_keys', 'endpoints', 'encryption']
        .map((t) => `SELECT string_agg(t::text, E'\\n') FROM ${t} t`).join(' UNION ALL ');
    const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', pgDbOf(path.resolve(dataDir)), '-c', sql],
        { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout;
}

/** Names of the database files that contain needle (a string or Buffer) in their bytes
 * (PostgreSQL: ['rows'] when a row of the secret tables does). */
function filesContaining(dataDir, needle) {
    if (PG_URL) return pgStored(dataDir).includes(needle) ? ['rows'] : [];
    return DB_FILES.filter((f) => {
        const p = path.join(dataDir, f);
        return fs.existsSync(p) && fs.readFileSync(p).includes(needle);
    });
}

/** Writes a fresh random key (hex) to a new 0600 file in dir; returns {file, hex}. */
function keyFile(dir, name) {
    const hex = crypto.randomBytes(32).toString('hex');
    const file = path.join(dir, name);
    fs.writeFileSync(file, hex + '\n', { mode: 0o600 });
    return { file, hex };
}

/** Sends one message to ep and returns the receiver's copy of its first delivery. */
async function deliverOne(h, rcv, ep) {
    const before = rcv.requests.length;
    const { message_id } = await h.send({ endpoint_id: ep.id, payload: { n: before } });
    await h.waitForMessage(message_id, 'succeeded');
    const req = rcv.requestsFor(message_id)[0];
    assert.ok(req, 'the receiver got the message');
    return req;
}

/** Starts hookd expecting it to exit before listening; returns {code, stderr}. */
async function startFails(env, opts) {
    const h = await env.startHookd(opts).then(
        () => assert.fail('hookd started, but it should have refused'),
        (e) => e);
    assert.match(String(h.message), /exited/);
    const failed = env.hookds.at(-1);
    assert.notEqual(failed.exit.code, 0, 'a non-zero exit');
    return { code: failed.exit.code, stderr: failed.stderr };
}

test('first start creates a private key file once; data files are 0600', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd({ dataDir: path.join(env.dir, 'made-by-hookd') });
    const keyPath = path.join(h.dataDir, 'encryption.key');
    assert.match(h.stderr, /created the encryption key file '.*encryption\.key' \(mode 0600\)/);
    assert.match(fs.readFileSync(keyPath, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(mode(keyPath), 0o600);
    assert.equal(mode(h.dataDir), 0o700);
    await h.createEndpoint({ url: 'http://127.0.0.1:9/a' });
    if (!PG_URL) // PostgreSQL's files are the server's
        for (const f of [...DB_FILES, 'hookd.lock']) assert.equal(mode(path.join(h.dataDir, f)), 0o600, f);
    const key = fs.readFileSync(keyPath, 'utf8');
    await h.stop();

    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    assert.doesNotMatch(h2.stderr, /created the encryption key file/, 'said once only');
    assert.equal(fs.readFileSync(keyPath, 'utf8'), key, 'the key file is kept');
    assert.equal((await h2.listAllEndpoints()).length, 1);
});

test('no signing secret is stored in plain text: db, WAL and shm', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const eps = [];
    for (let i = 0; i < 3; i++) eps.push(await h.createEndpoint({ url: rcv.url(`/e${i}`) }));
    // Signing-key rotation through the API: add a key, retire the first one.
    const added = expectOk(await phpPost(h, `/v1/endpoints/${eps[0].id}/signing-keys`), 201).data;
    expectOk(await h.api('DELETE', `/v1/endpoints/${eps[0].id}/signing-keys/${eps[0].signing_key_id}`));
    const secrets = [...eps.map((e) => e.signing_secret), added.secret ?? added.signing_secret];
    assert.ok(secrets.every((s) => /^whsec_/.test(s)), JSON.stringify(secrets));
    const req = await deliverOne(h, rcv, eps[1]);
    new Webhook(eps[1].signing_secret).verify(req.body, req.headers);

    // While running (the WAL holds the recent pages) and after a clean stop.
    assert.deepEqual(filesContaining(h.dataDir, 'whsec_'), []);
    for (const s of secrets) assert.deepEqual(filesContaining(h.dataDir, s.slice(6)), [], s);
    if (PG_URL) {
        assert.ok(pgStored(h.dataDir).includes('enc:v1:'), 'the sealed values are there');
    } else {
        const db = fs.readFileSync(path.join(h.dataDir, 'hookd.db'));
        assert.ok(db.includes('enc:v1:') || fs.readFileSync(path.join(h.dataDir, 'hookd.db-wal')).includes('enc:v1:'),
            'the sealed values are there');
    }
    await h.stop();
    assert.deepEqual(filesContaining(h.dataDir, 'whsec_'), []);
    for (const s of secrets) assert.deepEqual(filesContaining(h.dataDir, s.slice(6)), [], s);
});

test('missing, wrong or malformed key: a clear start-up error, never garbage signatures', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    await h.createEndpoint({ url: 'http://127.0.0.1:9/a' });
    await h.stop();
    const keyPath = path.join(h.dataDir, 'encryption.key');
    const keyHex = fs.readFileSync(keyPath, 'utf8').trim();
    const opts = (extra = {}) => ({ dataDir: h.dataDir, bootstrapKey: h.key, ...extra });

    // The key file deleted after secrets were stored.
    fs.renameSync(keyPath, keyPath + '.bak');
    let r = await startFails(env, opts());
    assert.match(r.stderr, /secrets are encrypted \(key id [0-9a-f]{16}\) but no encryption key was given/);
    assert.match(r.stderr, /--encryption-key-file/);
    assert.ok(!fs.existsSync(keyPath), 'no new key is made for a store that has secrets');

    // Another key, from a file, or from the environment.
    const other = keyFile(env.dir, 'other.key');
    r = await startFails(env, opts({ extraArgs: ['--encryption-key-file', other.file] }));
    assert.match(r.stderr, /is not the key this store's secrets are encrypted with/);
    assert.match(r.stderr, /start hookd with the key the store's secrets were encrypted with/);
    r = await startFails(env, opts({ env: { HOOKD_ENCRYPTION_KEY: other.hex } }));
    assert.match(r.stderr, /is not the key this store's secrets are encrypted with/);

    // Malformed keys and conflicting sources.
    r = await startFails(env, opts({ env: { HOOKD_ENCRYPTION_KEY: 'not-a-key' } }));
    assert.match(r.stderr, /HOOKD_ENCRYPTION_KEY: encryption key must be 64 hex characters or the base64 of 32 bytes/);
    r = await startFails(env, opts({ extraArgs: ['--encryption-key-file', path.join(env.dir, 'nope.key')] }));
    assert.match(r.stderr, /cannot read encryption key file '.*nope\.key'/);
    r = await startFails(env, opts({ env: { HOOKD_ENCRYPTION_KEY: keyHex }, extraArgs: ['--encryption-key-file', other.file] }));
    assert.match(r.stderr, /give the encryption key once/);

    // The right key, as hex or base64 text in the environment or as the restored file.
    const rcv = await env.startReceiver({ status: 200 });
    const b64 = Buffer.from(keyHex, 'hex').toString('base64');
    const h2 = await env.startHookd(opts({ env: { HOOKD_ENCRYPTION_KEY: b64 } }));
    const ep = await h2.createEndpoint({ url: rcv.url('/b') });
    new Webhook(ep.signing_secret).verify(...(await deliverOne(h2, rcv, ep).then((q) => [q.body, q.headers])));
    await h2.stop();
    fs.renameSync(keyPath + '.bak', keyPath);
    const h3 = await env.startHookd(opts());
    const req = await deliverOne(h3, rcv, ep);
    new Webhook(ep.signing_secret).verify(req.body, req.headers);
});

test('encryption rotate with key files: old secrets still verify, the old key is refused', T, async (t) => {
    const env = await setup(t);
    const oldKey = keyFile(env.dir, 'old.key');
    const newFile = path.join(env.dir, 'new.key');
    const h = await env.startHookd({ extraArgs: ['--encryption-key-file', oldKey.file] });
    assert.doesNotMatch(h.stderr, /created the encryption key file/);
    assert.ok(!fs.existsSync(path.join(h.dataDir, 'encryption.key')));
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/r') });
    const second = expectOk(await phpPost(h, `/v1/endpoints/${ep.id}/signing-keys`), 201).data;

    // Not while the server runs.
    let r = await env.run(['encryption', 'rotate', '--data', h.dataDir, '--encryption-key-file', oldKey.file,
        '--new-key-file', newFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the store is in use \(is hookd serve running\?\); stop it/);
    await h.stop();

    // A new key file must be named when the key does not live in the data directory.
    r = await env.run(['encryption', 'rotate', '--data', h.dataDir, '--encryption-key-file', oldKey.file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /give --new-key-file FILE/);
    if (fs.existsSync(newFile)) fs.unlinkSync(newFile); // left by the refused run above

    r = await env.run(['encryption', 'rotate', '--data', h.dataDir, '--encryption-key-file', oldKey.file,
        '--new-key-file', newFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /re-encrypted 2 secrets: key [0-9a-f]{16} -> [0-9a-f]{16}/);
    assert.match(r.stdout, /the new key is in '.*new\.key' \(generated, mode 0600\)/);
    assert.equal(mode(newFile), 0o600);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(oldKey.hex));
    assert.deepEqual(filesContaining(h.dataDir, 'whsec_'), []);

    const failed = await startFails(env, { dataDir: h.dataDir, bootstrapKey: h.key,
        extraArgs: ['--encryption-key-file', oldKey.file] });
    assert.match(failed.stderr, /is not the key this store's secrets are encrypted with/);

    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key,
        extraArgs: ['--encryption-key-file', newFile] });
    const req = await deliverOne(h2, rcv, ep);
    // Both active keys sign; each original secret verifies on its own.
    new Webhook(ep.signing_secret).verify(req.body, req.headers);
    new Webhook(second.secret ?? second.signing_secret).verify(req.body, req.headers);
    const keys = expectOk(await h2.api('GET', `/v1/endpoints/${ep.id}/signing-keys`)).data;
    assert.equal(keys.length, 2);
});

test('encryption rotate of the default key file replaces it in place', T, async (t) => {
    const env = await setup(t);
    const h = await env.startHookd();
    const rcv = await env.startReceiver({ status: 200 });
    const ep = await h.createEndpoint({ url: rcv.url('/d') });
    await h.stop();
    const keyPath = path.join(h.dataDir, 'encryption.key');
    const before = fs.readFileSync(keyPath, 'utf8');

    const r = await env.run(['encryption', 'rotate', '--data', h.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /re-encrypted 1 secrets/);
    assert.match(r.stdout, /the new key replaced '.*encryption\.key'/);
    const after = fs.readFileSync(keyPath, 'utf8');
    assert.match(after, /^[0-9a-f]{64}\n$/);
    assert.notEqual(after, before);
    assert.equal(mode(keyPath), 0o600);
    assert.ok(!fs.existsSync(keyPath + '.new'));

    const h2 = await env.startHookd({ dataDir: h.dataDir, bootstrapKey: h.key });
    const req = await deliverOne(h2, rcv, ep);
    new Webhook(ep.signing_secret).verify(req.body, req.headers);
    await h2.stop();
    // The old key, given explicitly, is refused.
    const failed = await startFails(env, { dataDir: h.dataDir, bootstrapKey: h.key,
        env: { HOOKD_ENCRYPTION_KEY: before.trim() } });
    assert.match(failed.stderr, /is not the key this store's secrets are encrypted with/);
});
