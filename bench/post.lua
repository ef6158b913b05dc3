-- wrk script: POST one AdmissionReview body over keep-alive.
-- usage: wrk ... -s bench/post.lua https://127.0.0.1:PORT/validate -- BODY_FILE
--        wrk ... -s bench/post.lua https://127.0.0.1:PORT/healthz      (GET, no body)
local req

function init(args)
  if args[1] == nil then  -- no body file: GET the URL (the TLS + HTTP floor, /healthz)
    req = wrk.format("GET")
    return
  end
  local file = assert(io.open(args[1], "rb"), "cannot open " .. tostring(args[1]))
  local body = file:read("*a")
  file:close()
  req = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function request()
  return req
end

-- Printed once at the end: the counts bench/bench.sh reads (errors include non-2xx and timeouts).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("AWBENCH requests %d\n", summary.requests))
  io.write(string.format("AWBENCH duration_us %d\n", summary.duration))
  io.write(string.format("AWBENCH errors %d\n", e.connect + e.read + e.write + e.status + e.timeout))
  io.write(string.format("AWBENCH timeouts %d\n", e.timeout))
  io.write(string.format("AWBENCH p50_ms %.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("AWBENCH p99_ms %.3f\n", latency:percentile(99) / 1000))
end
