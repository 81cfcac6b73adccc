-- wrk script posting real IM callback bodies.
--
--   wrk -t2 -c32 -d8s -s bench/lua/callbacks.lua http://127.0.0.1:8080 -- \
--       bench/workloads/mix-deny10.plan <requestTime> <sign>
--
-- The plan file lists one request per line ("<path?query> <body file>",
-- bodies read from bodies/ next to the plan); each thread sends them in
-- order, round and round. {requestTime} and {sign} in the path are replaced
-- by the two arguments after the plan (Tencent callback authentication:
-- sign = hex(sha256(token .. requestTime))). Requests are formatted once in
-- init so the hot path only hands wrk a prepared string, and no response()
-- hook is defined, so wrk parses replies natively. done() prints one
-- machine-readable line that the runner parses.

local requests = {}
local index = 0
local threads = 0

-- setup runs in the main Lua state once per thread; it hands each thread
-- its number so threads start at different points of the plan.
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local function dir_of(path)
  return path:match("^(.*)/[^/]*$") or "."
end

function init(args)
  local plan = assert(args[1], "usage: -- <plan file> [requestTime sign]")
  local request_time = args[2] or ""
  local sign = args[3] or ""
  local bodies = dir_of(plan) .. "/bodies/"
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(plan) do
    if line:match("%S") and not line:match("^%s*#") then
      local target, body_file = line:match("^%s*(%S+)%s+(%S+)%s*$")
      assert(target, "bad plan line: " .. line)
      target = target:gsub("{requestTime}", request_time):gsub("{sign}", sign)
      local body = read_file(bodies .. body_file)
      requests[#requests + 1] = wrk.format("POST", target, headers, body)
    end
  end
  assert(#requests > 0, "plan " .. plan .. " has no requests")
  -- Threads start at different points of the plan so a mixed plan is mixed
  -- across threads from the first request on.
  index = ((thread_number or 0) * 7) % #requests
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
  end
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "IMGATE-RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
