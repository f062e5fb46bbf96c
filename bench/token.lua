-- wrk script for the token endpoint: POST with HTTP Basic client
-- authentication and a form body asking for the client credentials grant.
--
-- Environment (read by every wrk thread):
--   BENCH_AUTH_HEADER   the full Authorization header value ("Basic ...")
--   BENCH_CREDENTIALS_FILE  instead: a file of such values, one per line, one
--                       per application; each request takes one of them
--   BENCH_ORDER         with a credentials file: "random" (default), a
--                       random line per request, or "sequential", each
--                       thread walking its share of the lines in order
--                       (thread k of n: lines k, k + n, ...; then again)
--   BENCH_SAMPLE_DIR    where each thread writes sampled response bodies,
--                       one per line (samples-N.jsonl) and the first non-2xx
--                       bodies (non2xx-N.txt); unset: nothing is written
--   BENCH_RESULT_FILE   where `done` writes one tab-separated result line
--   BENCH_SAMPLE_FIRST  bodies kept at the start of each thread (default 100)
--   BENCH_SAMPLE_EVERY  then every Nth body (default 100)
--   BENCH_SAMPLE_MAX    at most this many bodies per thread (default 1000)

local auth = os.getenv("BENCH_AUTH_HEADER")
local credentials_file = os.getenv("BENCH_CREDENTIALS_FILE")
if credentials_file == "" then credentials_file = nil end
if credentials_file == nil and (auth == nil or auth == "") then
  io.stderr:write("token.lua: neither BENCH_AUTH_HEADER nor BENCH_CREDENTIALS_FILE is set\n")
  os.exit(2)
end

wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
if credentials_file == nil then wrk.headers["Authorization"] = auth end

-- Main Lua state: keep a handle on each thread to aggregate in done().
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

-- Thread Lua states.
responses = 0
non2xx = 0
sampled = 0
local sample_file = nil
local bad_file = nil
local bad_written = 0
local first, every, max_samples

local credentials = nil
local next_line = 0
local step = 1
local sequential = false

function init(args)
  if credentials_file ~= nil then
    credentials = {}
    for line in io.lines(credentials_file) do
      if line ~= "" then credentials[#credentials + 1] = line end
    end
    if #credentials == 0 then
      io.stderr:write("token.lua: no credentials in " .. credentials_file .. "\n")
      os.exit(2)
    end
    sequential = os.getenv("BENCH_ORDER") == "sequential"
    next_line = thread_id - 1
    step = tonumber(os.getenv("BENCH_THREADS") or "1")
    math.randomseed(os.time() * 1000 + thread_id)
  end
  first = tonumber(os.getenv("BENCH_SAMPLE_FIRST") or "100")
  every = tonumber(os.getenv("BENCH_SAMPLE_EVERY") or "100")
  max_samples = tonumber(os.getenv("BENCH_SAMPLE_MAX") or "1000")
  local dir = os.getenv("BENCH_SAMPLE_DIR")
  if dir ~= nil and dir ~= "" then
    sample_file = assert(io.open(dir .. "/samples-" .. thread_id .. ".jsonl", "w"))
    bad_file = assert(io.open(dir .. "/non2xx-" .. thread_id .. ".txt", "w"))
  end
end

if credentials_file ~= nil then
  function request()
    local line
    if sequential then
      line = credentials[next_line % #credentials + 1]
      next_line = next_line + step
    else
      line = credentials[math.random(#credentials)]
    end
    wrk.headers["Authorization"] = line
    return wrk.format()
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if bad_file ~= nil and bad_written < 20 then
      bad_written = bad_written + 1
      bad_file:write(status, " ", body or "", "\n")
      bad_file:flush()
    end
    return
  end
  if sample_file ~= nil and sampled < max_samples
      and (responses <= first or responses % every == 0) then
    sampled = sampled + 1
    -- One body per line; a body containing a newline fails verification.
    sample_file:write(body or "", "\n")
    sample_file:flush()
  end
end

function done(summary, latency, requests)
  local total_responses, total_non2xx, total_sampled = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_responses = total_responses + thread:get("responses")
    total_non2xx = total_non2xx + thread:get("non2xx")
    total_sampled = total_sampled + thread:get("sampled")
  end
  local seconds = summary.duration / 1e6
  local rps = 0
  if seconds > 0 then rps = summary.requests / seconds end
  local e = summary.errors
  local line = string.format(
    "%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n",
    summary.requests, summary.duration, rps,
    latency:percentile(50), latency:percentile(99),
    total_non2xx, total_responses, total_sampled,
    e.connect, e.read, e.write, e.timeout, e.status)
  local out = os.getenv("BENCH_RESULT_FILE")
  if out ~= nil and out ~= "" then
    local f = assert(io.open(out, "w"))
    f:write(line)
    f:close()
  end
  io.write(string.format(
    "token.lua: %d requests in %.2fs, %.1f req/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, sampled %d\n",
    summary.requests, seconds, rps, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, total_non2xx, total_sampled))
end
