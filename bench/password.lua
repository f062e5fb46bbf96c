-- wrk script for the password grant: POST with HTTP Basic client
-- authentication and a form body with a Cloud Directory user's credentials,
-- counting answers by status (200 signed in, 429 told to come back).
--
-- Environment: BENCH_AUTH_HEADER ("Basic ..."), BENCH_USERNAME, BENCH_PASSWORD
-- (form-encoded already), BENCH_RESULT_FILE (where `done` writes
-- "ok<TAB>busy<TAB>other").

local auth = os.getenv("BENCH_AUTH_HEADER")
wrk.method = "POST"
wrk.body = "grant_type=password&username=" .. os.getenv("BENCH_USERNAME") .. "&password=" .. os.getenv("BENCH_PASSWORD")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = auth

local threads = {}
-- Globals, not locals: `done` reads each thread's counts with thread:get.
ok, busy, other = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 429 then
    busy = busy + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_busy, total_other = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_busy = total_busy + thread:get("busy")
    total_other = total_other + thread:get("other")
  end
  local file = io.open(os.getenv("BENCH_RESULT_FILE"), "w")
  file:write(string.format("%d\t%d\t%d\n", total_ok, total_busy, total_other))
  file:close()
end
