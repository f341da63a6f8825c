// Response validation against docs/openapi.yaml. Every response the suite
// receives from hookd (see httpRequest in util.mjs, and the validating fetch
// the `svix` SDK clients of svix.mjs use) goes through validateResponse(): the
// (method, path, status) must be an operation's documented response (or one of
// the document's x-hookd-unrouted-responses, or x-hookd-svix-unrouted-responses
// under /api/v1, for paths/methods hookd does not route), and the body must
// match that response's schema, including the x-error-codes (HookBridge
// `error.code`) or x-svix-error-codes (Svix `code`) list of error responses. A
// response marked x-hookd-portal-token-only is only valid for a request whose
// Authorization is a portal token (`Bearer whpt_…`).
// Schemas are compiled with Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses)
// against the whole document, so '#/components/schemas/X' refs resolve.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OPENAPI_PATH = path.resolve(here, '../../../docs/openapi.yaml');
const DOC_ID = 'https://hookd.invalid/openapi.yaml';

let state = null;

/** The parsed document (cached). */
export function loadSpec() {
    return getState().doc;
}

function getState() {
    if (state) return state;
    const doc = YAML.parse(fs.readFileSync(OPENAPI_PATH, 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: DOC_ID });
    const templates = Object.keys(doc.paths ?? {}).map((tpl) => ({
        tpl,
        segs: splitPath(tpl),
        params: splitPath(tpl).filter((s) => s.startsWith('{')).length,
    }));
    state = { doc, ajv, templates, validators: new Map() };
    return state;
}

/** Path segments as hookd's router sees them: split at '/', empty ones dropped. */
function splitPath(p) {
    return p.split('?')[0].split('/').filter((s) => s !== '');
}

function segMatch(tplSegs, segs) {
    if (tplSegs.length !== segs.length) return false;
    return tplSegs.every((t, i) => (t.startsWith('{') ? segs[i].length > 0 : t === segs[i]));
}

const ptr = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The operation for method + request path, as hookd routes it: among the
 * templates matching the path, the most literal one that has the method.
 * Returns {op, tpl, pointer} | {unrouted: 404|405}.
 */
export function findOperation(method, urlPath) {
    const { doc, templates } = getState();
    const m = method.toLowerCase();
    const segs = splitPath(urlPath);
    const matching = templates.filter((t) => segMatch(t.segs, segs)).sort((a, b) => a.params - b.params);
    if (!matching.length) return { unrouted: 404 };
    const withMethod = matching.find((t) => doc.paths[t.tpl][m]);
    if (!withMethod) return { unrouted: 405 };
    return {
        op: doc.paths[withMethod.tpl][m],
        tpl: withMethod.tpl,
        pointer: `#/paths/${ptr(withMethod.tpl)}/${m}`,
    };
}

/** Follows a $ref to components (responses are not schemas; Ajv does not see them). */
function deref(obj, pointer) {
    const { doc } = getState();
    let cur = obj;
    let at = pointer;
    for (let i = 0; cur && cur.$ref && i < 10; i++) {
        at = cur.$ref;
        cur = at.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
            .reduce((o, k) => o?.[k], doc);
        if (!cur) throw new Error(`docs/openapi.yaml: dangling $ref ${at}`);
    }
    return { obj: cur, pointer: at };
}

function validatorFor(schemaPointer) {
    const s = getState();
    let v = s.validators.get(schemaPointer);
    if (!v) {
        v = s.ajv.compile({ $ref: `${DOC_ID}${schemaPointer}` });
        s.validators.set(schemaPointer, v);
    }
    return v;
}

/** Validates value against the schema at a JSON pointer of the document; returns Ajv errors or null. */
export function validateAgainst(schemaPointer, value) {
    const v = validatorFor(schemaPointer);
    return v(value) ? null : v.errors;
}

function fail(where, why, res) {
    const body = (res.text ?? '').slice(0, 1000);
    throw new Error(`OpenAPI: ${where}: ${why}\n  response body: ${body}`);
}

function formatErrors(errors) {
    return errors.slice(0, 8).map((e) => {
        const extra = e.params?.additionalProperty ?? e.params?.unevaluatedProperty;
        return `${e.instancePath || '(body)'} ${e.message}${extra ? ` '${extra}'` : ''}` +
            (e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : '') +
            ` [schema ${e.schemaPath}]`;
    }).join('\n    ');
}

/** Is this a path of the Svix surface (/api/v1/...)? */
export function isSvixPath(urlPath) {
    const segs = splitPath(urlPath);
    return segs[0] === 'api' && segs[1] === 'v1';
}

/** Does a request with these headers carry a portal token (`Authorization: Bearer whpt_…`)? */
function portalRequest(headers = {}) {
    const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    return /^bearer\s+whpt_/i.test(String(auth ?? ''));
}

/**
 * What hookd may answer, before or instead of routing, to a request that
 * matches no operation: {allowedKey, statuses, expected}.
 */
function unroutedRule(method, urlPath, found) {
    const m = method.toUpperCase();
    if (isSvixPath(urlPath)) {
        // svix_route: OPTIONS is a preflight on any path; else authenticate (401/429),
        // portal scope (403), Idempotency-Key of a POST (422), then 404/405.
        if (m === 'OPTIONS') return { key: 'x-hookd-svix-unrouted-responses', statuses: ['204'], expected: 204 };
        const statuses = [String(found.unrouted), '401', '403', '429', '500', '503'];
        if (m === 'POST') statuses.push('422');
        return { key: 'x-hookd-svix-unrouted-responses', statuses, expected: found.unrouted };
    }
    // 401 and 403 (a portal token) are only possible before routing on /v1 paths; 404/405 per the router.
    const statuses = [String(found.unrouted), '503'];
    if (splitPath(urlPath)[0] === 'v1') statuses.push('401', '403');
    return { key: 'x-hookd-unrouted-responses', statuses, expected: found.unrouted };
}

/**
 * Throws unless the response {status, headers, text} to method + urlPath is
 * described by docs/openapi.yaml. req: the request's {headers} (for responses
 * only a portal token may get). Returns the name of what it was checked
 * against (operationId or 'unrouted').
 */
export function validateResponse(method, urlPath, res, req = {}) {
    const { doc } = getState();
    const found = findOperation(method, urlPath);
    const status = String(res.status);
    let response;
    let respPointer;
    let opName;
    if (found.unrouted) {
        opName = `unrouted ${method} ${urlPath.split('?')[0]}`;
        const rule = unroutedRule(method, urlPath, found);
        const allowed = doc[rule.key] ?? {};
        if (!rule.statuses.includes(status) || !allowed[status]) {
            fail(opName, `hookd has no operation for ${method} ${urlPath} in docs/openapi.yaml, ` +
                `and ${status} is not the router's answer for it (expected ${rule.expected})`, res);
        }
        ({ obj: response, pointer: respPointer } = deref(allowed[status], `#/${rule.key}/${status}`));
    } else {
        opName = `${found.op.operationId} (${method} ${found.tpl})`;
        const responses = found.op.responses ?? {};
        if (!responses[status]) {
            fail(opName, `status ${status} is not documented (documented: ` +
                `${Object.keys(responses).join(', ')})`, res);
        }
        ({ obj: response, pointer: respPointer } = deref(responses[status],
            `${found.pointer}/responses/${status}`));
    }
    const where = `${opName} -> ${status}`;
    if (response['x-hookd-portal-token-only'] && !portalRequest(req.headers)) {
        fail(where, 'only a request with a portal token (Bearer whpt_…) may get this response', res);
    }
    const content = response.content;
    const bodyless = method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304;
    if (!content || bodyless) {
        if (res.text && res.text.length && !bodyless) fail(where, 'documented without a body, but one was sent', res);
        checkHeaders(where, response, respPointer, res);
        return opName;
    }
    const ctype = String(res.headers?.['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const media = content[ctype];
    if (!media) fail(where, `content-type '${ctype}' is not documented (documented: ${Object.keys(content).join(', ')})`, res);
    const schemaPointer = `${respPointer}/content/${ptr(ctype)}/schema`;
    const value = ctype.includes('json') ? parseJson(res, where) : res.text;
    const errs = media.schema ? validateAgainst(schemaPointer, value) : null;
    if (errs) fail(where, `body does not match ${media.schema.$ref ?? schemaPointer}:\n    ${formatErrors(errs)}`, res);
    const codes = media['x-error-codes'];
    if (codes && !codes.includes(value?.error?.code)) {
        fail(where, `error.code '${value?.error?.code}' is not documented for this response (documented: ${codes.join(', ')})`, res);
    }
    const svixCodes = media['x-svix-error-codes'];
    if (svixCodes && !svixCodes.includes(value?.code)) {
        fail(where, `code '${value?.code}' is not documented for this response (documented: ${svixCodes.join(', ')})`, res);
    }
    checkHeaders(where, response, respPointer, res);
    return opName;
}

/**
 * Documented response headers: a `required` one must be present, any present
 * one must match its schema (integer headers are parsed first), and
 * X-Request-Id must equal the body's meta.request_id.
 */
function checkHeaders(where, response, respPointer, res) {
    for (const [name, h0] of Object.entries(response.headers ?? {})) {
        const { obj: h, pointer } = deref(h0, `${respPointer}/headers/${ptr(name)}`);
        const raw = res.headers?.[name.toLowerCase()];
        if (raw === undefined) {
            if (h.required) fail(where, `required header ${name} is missing`, res);
            continue;
        }
        const type = deref(h.schema ?? {}, `${pointer}/schema`).obj.type;
        const value = type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
        const errs = h.schema ? validateAgainst(`${pointer}/schema`, value) : null;
        if (errs) fail(where, `header ${name}: '${raw}' ${formatErrors(errs)}`, res);
        if (name.toLowerCase() === 'x-request-id') {
            let body;
            try { body = res.json ?? JSON.parse(res.text); } catch { body = undefined; }
            const id = body?.meta?.request_id;
            if (id !== undefined && id !== raw) fail(where, `X-Request-Id ${raw} != meta.request_id ${id}`, res);
        }
    }
}

function parseJson(res, where = 'response') {
    if (res.json !== undefined) return res.json;
    try {
        return JSON.parse(res.text);
    } catch (e) {
        return fail(where, `body is not JSON (${e.message})`, res);
    }
}

/** Is this request path one of hookd's (so its response must be validated)? */
export function isHookdPath(urlPath) {
    const segs = splitPath(urlPath);
    return segs[0] === 'v1' || isSvixPath(urlPath) ||
        (segs.length === 1 && (segs[0] === 'healthz' || segs[0] === 'metrics'));
}
