-- send.lua - wrk script: POST /v1/webhooks/send bodies, count non-2xx answers.
--
-- Used for both wrk measurements in bench/run.sh, so the ceiling run (nginx
-- answering 204) and the hookd run send byte-identical requests:
--   BENCH_ENDPOINT_ID  endpoint id put in the body (default: a dummy ep_ id)
--   BENCH_API_KEY      bearer token (default: a dummy key; nginx ignores it)
--   BENCH_EXPECT       expected status (default 202); anything else is counted
--   BENCH_UNIQUE=1     every request gets its own invoice_id (same length), so no two
--                      payloads are equal (an endpoint with a deduplicate policy then
--                      delivers them all); default: byte-identical requests
--
-- done() prints one machine-readable line for run.sh:
--   BENCH_RESULT requests=N expected=N unexpected=N statuses=CODE:N,...

local endpoint_id = os.getenv("BENCH_ENDPOINT_ID") or "ep_00000000000000000000000000000000"
local api_key = os.getenv("BENCH_API_KEY") or "hk_live_0000000000000000000000000000000000000000"
expect = tonumber(os.getenv("BENCH_EXPECT") or "202")

wrk.method = "POST"
wrk.path = "/v1/webhooks/send"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. api_key
-- A ~200-byte event payload, like a typical small webhook.
wrk.body = '{"endpoint_id":"' .. endpoint_id .. '","payload":{"type":"invoice.paid",' ..
    '"data":{"invoice_id":"inv_0123456789abcdef","customer_id":"cus_0123456789abcdef",' ..
    '"amount":4200,"currency":"eur","lines":[{"sku":"plan-pro","qty":1}],"note":"bench"}}}'

local threads = {}
local unique = os.getenv("BENCH_UNIQUE") == "1"

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

if unique then
    local body_head = '{"endpoint_id":"' .. endpoint_id .. '","payload":{"type":"invoice.paid",' ..
        '"data":{"invoice_id":"inv_'
    local body_tail = '","customer_id":"cus_0123456789abcdef",' ..
        '"amount":4200,"currency":"eur","lines":[{"sku":"plan-pro","qty":1}],"note":"bench"}}}'
    local n = 0
    -- "inv_" + thread id (2 hex digits) + this wrk run's start second (6) + a counter
    -- (8): as long as the fixed invoice_id, so both forms send bodies of the same size,
    -- and unique across the wrk runs of one hookd (they start seconds apart).
    local run = os.time() % 0x1000000
    function request()
        n = n + 1
        return wrk.format(nil, nil, nil,
            body_head .. string.format("%02x%06x%08x", tid or 0, run, n) .. body_tail)
    end
end

function init(args)
    expected = 0
    unexpected = 0
    statuses = {}
end

function response(status, headers, body)
    if status == expect then
        expected = expected + 1
    else
        unexpected = unexpected + 1
        statuses[status] = (statuses[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local exp, unexp, merged = 0, 0, {}
    for _, t in ipairs(threads) do
        exp = exp + t:get("expected")
        unexp = unexp + t:get("unexpected")
        for code, n in pairs(t:get("statuses")) do
            merged[code] = (merged[code] or 0) + n
        end
    end
    local parts = {}
    for code, n in pairs(merged) do
        table.insert(parts, tostring(code) .. ":" .. tostring(n))
    end
    io.write(string.format("BENCH_RESULT requests=%d expected=%d unexpected=%d statuses=%s\n",
        summary.requests, exp, unexp, #parts > 0 and table.concat(parts, ",") or "-"))
end
