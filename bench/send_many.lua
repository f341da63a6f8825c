-- send_many.lua - wrk script for bench/spread.sh: POST /v1/webhooks/send, each request
-- to the next endpoint id of the file BENCH_IDS_FILE (one per line), with the same
-- ~200-byte payload as send.lua; BENCH_API_KEY is the bearer token. The two wrk
-- threads start 1000 ids apart.
local api_key = os.getenv("BENCH_API_KEY")
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS_FILE")) do table.insert(ids, line) end
local n = 0
local counter = 1
function setup(thread)
    thread:set("offset", counter * 1000)
    counter = counter + 1
end
function init(args)
    n = tonumber(wrk.thread:get("offset")) or 0
end
function request()
    n = n + 1
    local id = ids[(n % #ids) + 1]
    local body = '{"endpoint_id":"' .. id .. '","payload":{"type":"invoice.paid",' ..
        '"data":{"invoice_id":"inv_0123456789abcdef","customer_id":"cus_0123456789abcdef",' ..
        '"amount":4200,"currency":"eur","lines":[{"sku":"plan-pro","qty":1}],"note":"bench"}}}'
    return wrk.format("POST", "/v1/webhooks/send", {["Content-Type"]="application/json", ["Authorization"]="Bearer " .. api_key}, body)
end
