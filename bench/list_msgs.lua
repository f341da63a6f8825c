-- list_msgs.lua - wrk script for bench/tenants.sh: GET BENCH_PATH (a Svix list) with
-- BENCH_API_KEY as the bearer token.
local api_key = os.getenv("BENCH_API_KEY")
local path = os.getenv("BENCH_PATH")
function request()
    return wrk.format("GET", path, {["Authorization"]="Bearer " .. api_key})
end
