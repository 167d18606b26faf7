-- wrk script for bench/compare.bench.ts: presigned S3 GETs or PUTs, cycling through request targets
-- (path?query, one a line) read from a file.
--
--   wrk -t2 -c32 -d8s -s presigned.lua http://127.0.0.1:PORT <targets> <PUT body file | -> <check> <threads> <keep>
--
-- Thread i of <threads> takes targets i+1, i+1+threads, ... (threads never send the same key at once),
-- at most <keep> of them when <keep> > 0. Every request is built once, in init: wrk copies the string
-- request() returns, but building a new 64 MiB Lua string per request costs wrk ~0.1 s of CPU (fresh
-- pages), so for large bodies <keep> bounds the memory (<keep> x body size per thread).
-- <check> = 1 counts responses outside 2xx in Lua (wrk itself counts only status > 399), by status,
-- and keeps the start of the first one's body; it makes wrk hand every response's headers and body
-- to Lua, so it is for rows whose responses are small.
-- done() prints one line, "compare-result {json}": counts, latency percentiles (us), and wrk's CPU
-- clock ticks at the end and after init (from /proc/self/stat, all threads).

local requests = {}
local cursor = 0
-- Globals, not locals: done() reads them from each thread with thread:get().
bad = 0
init_ticks = 0
statuses = ""  -- with <check>: the statuses outside 2xx, "503=12 404=1"
first_bad = "" -- with <check>: the start of the first such response's body
local counts = {}

local threads = {}

-- CPU clock ticks (utime + stime) wrk has used so far, all threads: /proc/self/stat fields 14 and 15.
local function cpu_ticks()
  local f = io.open("/proc/self/stat", "r")
  if not f then return 0 end
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for w in (stat:match("%) (.*)$") or ""):gmatch("%S+") do
    fields[#fields + 1] = w
    if #fields >= 13 then break end
  end
  return (tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0)
end

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[4])
  local keep = tonumber(args[5])
  local body = nil
  if args[2] ~= "-" then
    local f = assert(io.open(args[2], "rb"))
    body = f:read("*a")
    f:close()
  end
  local host = wrk.headers["Host"]
  local k = 0
  for line in io.lines(args[1]) do
    if #line > 0 then
      if k % nthreads == id and (keep == 0 or #requests < keep) then
        if body then
          requests[#requests + 1] =
            string.format("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", line, host, #body) .. body
        else
          requests[#requests + 1] = string.format("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", line, host)
        end
      end
      k = k + 1
    end
  end
  if #requests == 0 then error("no request targets for thread " .. id .. " in " .. args[1]) end
  if args[3] == "1" then
    response = function(status, headers, body)
      if status >= 200 and status <= 299 then return end
      bad = bad + 1
      counts[status] = (counts[status] or 0) + 1
      local parts = {}
      for code, count in pairs(counts) do parts[#parts + 1] = code .. "=" .. count end
      statuses = table.concat(parts, " ")
      if first_bad == "" and body then first_bad = body:sub(1, 400) end
    end
  end
  -- The threads' init runs one after the other before any request: the last one's figure is the
  -- CPU spent building requests, which done() leaves out.
  init_ticks = cpu_ticks()
end

function request()
  cursor = cursor % #requests + 1
  return requests[cursor]
end

function done(summary, latency, reqs)
  local e = summary.errors
  local total_bad, init_ticks, all, sample = 0, 0, {}, ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + (t:get("bad") or 0)
    init_ticks = math.max(init_ticks, t:get("init_ticks") or 0)
    for code, count in (t:get("statuses") or ""):gmatch("(%d+)=(%d+)") do
      all[code] = (all[code] or 0) + tonumber(count)
    end
    if sample == "" then sample = t:get("first_bad") or "" end
  end
  local parts = {}
  for code, count in pairs(all) do parts[#parts + 1] = code .. "=" .. count end
  io.write(string.format(
    'compare-result {"requests":%d,"bytes":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"bad":%d,"p50Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d,' ..
    '"cpuTicks":%d,"initTicks":%d,"statuses":"%s","firstBad":"%s"}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    total_bad, latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    cpu_ticks(), init_ticks, table.concat(parts, " "), (sample:gsub("[%c\"\\]", " "))))
end
