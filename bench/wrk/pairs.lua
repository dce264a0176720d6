-- wrk script for bench/web.py: rotate over (session, URL) rows, check every answer, print
-- the result as one JSON line.
--
--   wrk -t2 -c16 -d6s -s bench/wrk/pairs.lua http://127.0.0.1:PORT -- ROWS_FILE RUN_ID
--
-- ROWS_FILE has one request a line, tab-separated: method, expected status ("200" or "3xx"),
-- Cookie header (may be empty), path, form body (POST only). A POST gets a fresh
-- idempotency_key (RUN_ID, thread and counter: never the same twice), as a browser's form
-- would. Any answer other than the expected one is counted in `bad`.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local rows = {}
local counter = 0
local run = "run"
bad = 0
bad_example = ""

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  run = args[2] or "run"
  for line in io.lines(args[1]) do
    local f = split(line)
    if #f >= 4 then
      table.insert(rows, {method = f[1], expect = f[2], cookie = f[3], path = f[4], body = f[5] or ""})
    end
  end
  if #rows == 0 then
    error("no rows in " .. args[1])
  end
  -- Threads start at different rows, so the sessions are spread from the first request.
  counter = math.floor((id - 1) * #rows / 2)
end

local expect = nil

function request()
  counter = counter + 1
  local row = rows[(counter % #rows) + 1]
  local headers = {}
  if row.cookie ~= "" then
    headers["Cookie"] = row.cookie
  end
  if row.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local key = string.format("bench-%s-%d-%09d", run, id, counter)
    return wrk.format("POST", row.path, headers, row.body .. "&idempotency_key=" .. key)
  end
  return wrk.format(row.method, row.path, headers)
end

-- Every row of a file expects the same answer (bench/web.py writes one file per page), so
-- an answer is checked against the file's expectation, whichever row it was for.
function response(status, headers, body)
  expect = expect or rows[1].expect
  local ok
  if expect == "3xx" then
    ok = status >= 300 and status < 400
  else
    ok = status == tonumber(expect)
  end
  if not ok then
    bad = bad + 1
    if bad_example == "" then
      bad_example = tostring(status) .. " " .. (headers["Location"] or "")
    end
  end
end

function done(summary, latency, requests)
  local total_bad, example = 0, ""
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (tonumber(thread:get("bad")) or 0)
    local e = thread:get("bad_example")
    if example == "" and e then
      example = e
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "mean_us": %.1f, "max_us": %d, "bad": %d, "bad_example": "%s", '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.mean, latency.max, total_bad,
    (example:gsub('[%c"\\]', "")), e.connect, e.read, e.write, e.status, e.timeout))
end
