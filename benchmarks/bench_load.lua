-- wrk script for bench_load.sh: optional POST body, status counts, and one summary line.
--
-- Environment: LOAD_NAME (label), LOAD_BODY (form body: when set, every request is a POST of
-- it as application/x-www-form-urlencoded). Cookies come from wrk's -H "Cookie: ...", except
-- with LOAD_SESSIONS (a file of session keys, one a line): then each request uses the next
-- unused session (every thread takes its own share), for a post that ends the session's
-- journey, such as recording an encounter. A redirect back to the start of the journey means
-- the sessions ran out: it is counted as an error.
-- Prints: RESULT name requests seconds p50_ms p95_ms p99_ms errors timeouts over_1s
--         n2xx n3xx n4xx n5xx signin_redirects

local body = os.getenv("LOAD_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local sessions = {}
local next_session = 0

function init(args)
  n2, n3, n4, n5, signin, ran_out = 0, 0, 0, 0, 0, 0
  local path = os.getenv("LOAD_SESSIONS")
  if path and path ~= "" then
    for line in io.lines(path) do
      table.insert(sessions, line)
    end
    next_session = id
  end
end

function request()
  if #sessions == 0 then
    return wrk.format()
  end
  -- Thread k of n takes sessions k, k + n, k + 2n, ...: no two requests share one.
  local key = sessions[((next_session - 1) % #sessions) + 1]
  next_session = next_session + tonumber(os.getenv("LOAD_THREADS") or "1")
  local cookie = string.gsub(wrk.headers["Cookie"], "sessionid=[^;]*", "sessionid=" .. key)
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Cookie"] = cookie
  return wrk.format(nil, nil, headers)
end

function response(status, headers, body)
  if status < 300 then
    n2 = n2 + 1
  elseif status < 400 then
    n3 = n3 + 1
    -- A refused session is a redirect to the sign-in page, not a page served.
    local location = headers["Location"] or headers["location"] or ""
    if string.find(location, "sign-in", 1, true) then
      signin = signin + 1
    end
    if #sessions > 0 and string.find(location, "/encounters/new/", 1, true) then
      ran_out = ran_out + 1
    end
  elseif status < 500 then
    n4 = n4 + 1
  else
    n5 = n5 + 1
  end
end

function done(summary, latency, requests)
  local t = { n2 = 0, n3 = 0, n4 = 0, n5 = 0, signin = 0, ran_out = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do
      local name = key
      t[key] = t[key] + (thread:get(name) or 0)
    end
  end
  local over = 0
  for i = 1, #latency do
    local value, count = latency(i)
    if value > 1000000 then
      over = over + count
    end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout + t.ran_out
  io.write(string.format(
    "RESULT %s %d %.3f %.1f %.1f %.1f %d %d %d %d %d %d %d %d\n",
    os.getenv("LOAD_NAME") or "page", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors, e.timeout, over, t.n2, t.n3, t.n4, t.n5, t.signin))
end
