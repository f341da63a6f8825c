-- publish.lua - wrk script for bench/fanout.sh: POST /api/v1/app/{BENCH_APP}/msg, a
-- Svix publish of one event of type invoice.paid with the same ~200-byte payload as
-- send.lua; BENCH_API_KEY is the bearer token.
local api_key = os.getenv("BENCH_API_KEY")
local path = "/api/v1/app/" .. os.getenv("BENCH_APP") .. "/msg"
local body = '{"eventType":"invoice.paid","payload":{"type":"invoice.paid",' ..
    '"data":{"invoice_id":"inv_0123456789abcdef","customer_id":"cus_0123456789abcdef",' ..
    '"amount":4200,"currency":"eur","lines":[{"sku":"plan-pro","qty":1}],"note":"bench"}}}'
function request()
    return wrk.format("POST", path, {["Content-Type"]="application/json",
        ["Authorization"]="Bearer " .. api_key}, body)
end
