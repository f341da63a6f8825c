// Test environment for one node:test test: a temp directory, hookd processes
// started from $HOOKD_BIN with their stderr in log files, scripted receivers,
// and the API helpers. Everything is torn down after the test; on failure the
// hookd logs are printed and the temp directory is kept.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { startReceiver } from './receiver.mjs';
import { expectOk, httpRequest, scaled, waitFor } from './util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const HOOKD_BIN = process.env.HOOKD_BIN ?? path.resolve(here, '../../../hookd');

export const newLiveKey = () => 'hk_live_' + crypto.randomBytes(20).toString('hex');

/** Environment of child processes: ours minus every HOOKD_* variable. */
function childEnv(extra = {}) {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOOKD_')) env[k] = v;
    return { ...env, ...extra };
}

// With HOOKD_TEST_PG (a PostgreSQL server's URL, as scripts/pg-throwaway.sh prints)
// every hookd of the suite runs on PostgreSQL: each data directory gets its own schema
// of the database "hookd_it", given to hookd as HOOKD_DB (search_path in the URL).
export const PG_URL = process.env.HOOKD_TEST_PG || null;
const PG_DB = 'hookd_it';

function psql(db, sql) {
    const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', `${PG_URL}/${db}`, '-c', sql],
        { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
}

let pgDbReady = false;
/** The schema name of data directory dir (PostgreSQL mode). */
export const pgSchemaOf = (dir) => 's_' + crypto.createHash('sha1').update(dir).digest('hex').slice(0, 20);

/** The database string hookd gets for data directory dir, creating its schema (PostgreSQL mode). */
export function pgDbOf(dir) {
    if (!pgDbReady) {
        const r = spawnSync('psql', ['-X', '-q', `${PG_URL}/postgres`, '-c', `CREATE DATABASE ${PG_DB}`],
            { encoding: 'utf8' });
        if (r.status !== 0 && !/already exists/.test(r.stderr)) throw new Error(`createdb: ${r.stderr}`);
        pgDbReady = true;
    }
    const schema = pgSchemaOf(dir);
    psql(PG_DB, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    return `${PG_URL}/${PG_DB}?options=-csearch_path%3D${schema}`;
}

/** On PostgreSQL, the HOOKD_DB a hookd with these args and environment should get. */
function pgEnv(args, env) {
    if (!PG_URL || env.HOOKD_DB || args.includes('--db')) return {};
    const i = args.indexOf('--data');
    const dir = i >= 0 ? args[i + 1] : env.HOOKD_DATA;
    return dir ? { HOOKD_DB: pgDbOf(path.resolve(dir)) } : {};
}

/** Creates the environment of test t; cleanup is registered with t.after. */
export async function setup(t) {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hookd-it-'));
    const env = new TestEnv(t, dir);
    t.after(() => env.teardown());
    return env;
}

class TestEnv {
    constructor(t, dir) {
        this.t = t;
        this.dir = dir;
        this.hookds = [];
        this.receivers = [];
        this.seq = 0;
    }

    /** A fresh, empty data directory inside the temp dir. */
    dataDir(name = `data${++this.seq}`) {
        const dir = path.join(this.dir, name);
        fs.mkdirSync(dir);
        return dir;
    }

    /**
     * Starts `hookd serve` with the test flags of the suite and waits until it
     * listens. Options: dataDir, bootstrapKey (null: none), allowHttp,
     * retryFast, retrySlow, deliveryTimeout, extraArgs, args (replace all
     * flags), env (extra environment), useFlags=false (config via env only).
     */
    async startHookd(opts = {}) {
        const h = new Hookd(this, opts);
        this.hookds.push(h);
        await h.start();
        return h;
    }

    async startReceiver(script) {
        const r = await startReceiver(script);
        this.receivers.push(r);
        return r;
    }

    /** Creates one API key per mode with `hookd keys create` (offline) in dataDir;
     * resolves {live, test, ...} with the full keys. */
    async createKeys(dataDir, modes = ['live', 'test']) {
        const keys = {};
        for (const mode of modes) {
            const r = await this.run(['keys', 'create', '--mode', mode, '--data', dataDir]);
            if (r.code !== 0) throw new Error(`hookd keys create --mode ${mode} failed: ${r.stderr}`);
            keys[mode] = r.stdout.trim();
        }
        return keys;
    }

    /** Runs hookd as a command (not a server); resolves {code, signal, stdout, stderr}. */
    run(args, { env = {}, timeout = 15_000 } = {}) {
        return new Promise((resolve, reject) => {
            const child = spawn(HOOKD_BIN, args, { env: childEnv({ ...env, ...pgEnv(args, env) }), stdio: ['ignore', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (c) => { stdout += c; });
            child.stderr.on('data', (c) => { stderr += c; });
            const timer = setTimeout(() => child.kill('SIGKILL'), scaled(timeout));
            child.on('error', (e) => { clearTimeout(timer); reject(e); });
            child.on('close', (code, signal) => {
                clearTimeout(timer);
                fs.appendFileSync(path.join(this.dir, 'commands.log'),
                    `$ hookd ${args.join(' ')}\nexit=${code} signal=${signal}\n--- stdout\n${stdout}--- stderr\n${stderr}\n`);
                resolve({ code, signal, stdout, stderr });
            });
        });
    }

    async teardown() {
        const problems = [];
        for (const r of this.receivers) await r.close().catch((e) => problems.push(e));
        for (const h of this.hookds) {
            if (h.exit) continue;
            try {
                const { code, signal } = await h.stop();
                if (code !== 0) problems.push(new Error(`${h.name} exited with ${code ?? signal} on SIGTERM at teardown`));
            } catch (e) {
                problems.push(e);
            }
        }
        if (!this.t.passed || problems.length) {
            for (const h of this.hookds) h.printLogs();
            const cmds = path.join(this.dir, 'commands.log');
            if (fs.existsSync(cmds)) process.stderr.write(`--- ${cmds}\n${fs.readFileSync(cmds, 'utf8')}`);
            process.stderr.write(`(logs kept in ${this.dir})\n`);
        } else {
            if (PG_URL) {
                for (const d of fs.readdirSync(this.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
                    const schema = pgSchemaOf(path.join(this.dir, d));
                    try { psql(PG_DB, `DROP SCHEMA IF EXISTS ${schema} CASCADE`); } catch { /* kept */ }
                }
            }
            await fsp.rm(this.dir, { recursive: true, force: true });
        }
        if (problems.length) throw problems[0];
    }
}

/** A PHP-client-style body-less POST: declares JSON (and Accept), sends nothing. */
export function phpPost(h, path) {
    return h.api('POST', path, undefined, {
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': '0' },
    });
}

export class Hookd {
    constructor(env, opts) {
        this.env = env;
        this.opts = opts;
        this.dataDir = opts.dataDir ?? env.dataDir();
        this.key = opts.bootstrapKey === undefined ? newLiveKey() : opts.bootstrapKey;
        this.name = `hookd${env.hookds.length + 1}`;
        this.logPath = path.join(env.dir, `${this.name}.stderr.log`);
        this.stdout = '';
        this.stderr = '';
        this.exit = null;
    }

    serveArgs() {
        const o = this.opts;
        if (o.args) return o.args;
        const args = ['serve', '--listen', '127.0.0.1:0', '--data', this.dataDir];
        if (o.allowHttp !== false) args.push('--allow-http');
        if (o.allowPrivate !== false) args.push('--allow-private-networks');
        args.push('--retry-fast', o.retryFast ?? '200ms,400ms');
        args.push('--retry-slow', o.retrySlow ?? '200ms,400ms');
        args.push('--delivery-timeout', o.deliveryTimeout ?? '1s');
        return [...args, ...(o.extraArgs ?? [])];
    }

    start() {
        const env = { ...(this.opts.env ?? {}) };
        if (this.key !== null) env.HOOKD_BOOTSTRAP_KEY = this.key;
        const args = this.opts.useFlags === false ? ['serve'] : this.serveArgs();
        const log = fs.createWriteStream(this.logPath, { flags: 'a' });
        log.write(`$ ${HOOKD_BIN} ${args.join(' ')}\n`);
        this.proc = spawn(HOOKD_BIN, args, { env: childEnv({ ...env, ...pgEnv(args, env) }), stdio: ['ignore', 'pipe', 'pipe'] });
        this.exited = new Promise((resolve) => {
            this.proc.on('close', (code, signal) => {
                this.exit = { code, signal };
                log.end(`--- exit code=${code} signal=${signal}\n`);
                resolve(this.exit);
            });
        });
        this.proc.stdout.on('data', (c) => { this.stdout += c; this.proc.emit('output'); });
        this.proc.stderr.on('data', (c) => { this.stderr += c; log.write(c); this.proc.emit('output'); });
        return new Promise((resolve, reject) => {
            const timeout = scaled(10_000);
            const check = () => {
                const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.stderr);
                if (m) {
                    done();
                    this.port = Number(m[1]);
                    resolve(this);
                } else if (this.exit) {
                    done();
                    reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before listening; stderr:\n${this.stderr}`));
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`${this.name} did not log "listening on" within ${timeout} ms`));
            }, timeout);
            const done = () => {
                clearTimeout(timer);
                this.proc.off('output', check);
                this.proc.off('close', check);
            };
            this.proc.on('output', check);
            this.proc.on('close', check);
            this.proc.on('error', (e) => { done(); reject(e); });
        });
    }

    /** Waits until stdout matches re (bounded); returns the match. */
    async waitForStdout(re, timeout = 5_000) {
        return waitFor(() => re.exec(this.stdout), { timeout, what: `stdout matching ${re}` });
    }

    /** Sends a signal and waits for exit; SIGKILLs and throws after the deadline. */
    async stop(signal = 'SIGTERM', timeout = 15_000) {
        if (this.exit) return this.exit;
        this.proc.kill(signal);
        let timer;
        const deadline = new Promise((resolve) => { timer = setTimeout(resolve, scaled(timeout), 'timeout'); });
        const r = await Promise.race([this.exited, deadline]);
        clearTimeout(timer);
        if (r === 'timeout') {
            this.proc.kill('SIGKILL');
            await this.exited;
            throw new Error(`${this.name} did not exit within ${scaled(timeout)} ms of ${signal}`);
        }
        return r;
    }

    kill9() {
        return this.stop('SIGKILL');
    }

    printLogs() {
        process.stderr.write(`--- ${this.name} stderr (${this.logPath})\n${this.stderr}\n`);
        if (this.stdout) process.stderr.write(`--- ${this.name} stdout\n${this.stdout}\n`);
    }

    /**
     * One API request. body: a value sent as JSON; opts.raw: exact body bytes;
     * opts.key: API key (null: no Authorization); opts.headers: extra headers.
     * Resolves {status, headers, json, text, method, path}.
     */
    async api(method, urlPath, body, opts = {}) {
        const headers = { ...(opts.headers ?? {}) };
        const key = opts.key === undefined ? this.key : opts.key;
        if (key !== null) headers.authorization = `Bearer ${key}`;
        let payload = opts.raw;
        if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
        if (payload !== undefined) {
            headers['content-type'] ??= 'application/json';
            headers['content-length'] = Buffer.byteLength(payload);
        }
        // Every response is checked against docs/openapi.yaml (lib/openapi.mjs).
        const res = await httpRequest({ port: this.port, method, path: urlPath, headers, body: payload, validate: true });
        const text = res.body.toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        return { status: res.status, headers: res.headers, json, text, method, path: urlPath };
    }

    async createEndpoint(fields) {
        return expectOk(await this.api('POST', '/v1/endpoints', fields), 201).data;
    }

    async getEndpoint(id) {
        return expectOk(await this.api('GET', `/v1/endpoints/${id}`)).data;
    }

    /** GET /v1/endpoints following every cursor; returns all items. */
    async listAllEndpoints(limit = 100) {
        const items = [];
        let cursor = null;
        for (let page = 0; page < 100; page++) {
            const q = `limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
            const { data, meta } = expectOk(await this.api('GET', `/v1/endpoints?${q}`));
            items.push(...data);
            if (!meta.has_more) return items;
            cursor = meta.next_cursor;
        }
        throw new Error('endpoint list did not end within 100 pages');
    }

    async send(fields) {
        const { data } = expectOk(await this.api('POST', '/v1/webhooks/send', fields), 202);
        return data;
    }

    async getMessage(id) {
        return expectOk(await this.api('GET', `/v1/messages/${id}`)).data;
    }

    async attempts(id) {
        return expectOk(await this.api('GET', `/v1/messages/${id}/attempts`));
    }

    /** Polls the message until pred(message) (or status === pred); returns it. */
    async waitForMessage(id, pred, timeout = 15_000) {
        const test = typeof pred === 'string' ? (m) => m.status === pred : pred;
        return waitFor(async () => {
            const m = await this.getMessage(id);
            return test(m) ? m : false;
        }, { timeout, interval: 50, what: `message ${id} to reach ${typeof pred === 'string' ? pred : 'condition'}` });
    }

    /**
     * Ordering barrier: sends a marker message to the endpoint and waits until
     * it has succeeded. Work queued before it has been dispatched by then.
     */
    async barrier(endpointId) {
        const { message_id } = await this.send({ endpoint_id: endpointId, payload: { barrier: true } });
        await this.waitForMessage(message_id, 'succeeded');
        return message_id;
    }

    async healthz() {
        return this.api('GET', '/healthz', undefined, { key: null });
    }
}

/** Convenience: one hookd + one receiver + one endpoint pointing at it. */
export async function setupDelivery(t, { receiver = { status: 200 }, endpoint = {}, hookd = {} } = {}) {
    const env = await setup(t);
    const h = await env.startHookd(hookd);
    const rcv = await env.startReceiver(receiver);
    const ep = await h.createEndpoint({ url: rcv.url('/hook'), ...endpoint });
    assert.ok(ep.signing_secret, 'endpoint create returns signing_secret');
    return { env, h, rcv, ep };
}
