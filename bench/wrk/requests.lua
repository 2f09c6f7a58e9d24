-- wrk script: send the requests listed in a file, round-robin, then print one JSON line.
--
--   wrk -t1 -c8 -d8s -s bench/wrk/requests.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- REQUESTS_FILE has one request a line, four tab-separated fields:
--   METHOD <tab> PATH <tab> BEARER TOKEN or empty <tab> JSON BODY or empty
-- wrk drives a closed loop (each connection sends its next request when the last one
-- is answered), so this measures the server's maximum rate; fixed-rate latency runs use
-- bench/driver.py instead, since wrk (unlike wrk2) would hide queueing delay.

local list = {}
local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(args[1]) do
      local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      if method then
         local headers = { ["Accept"] = "application/json" }
         if token ~= "" then headers["Authorization"] = "Bearer " .. token end
         if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
         list[#list + 1] = wrk.format(method, path, headers, body)
      end
   end
   -- Threads start at different places so they do not send the same request together.
   counter = id * 7919
end

function request()
   counter = counter + 1
   return list[(counter % #list) + 1]
end

function done(summary, latency, _)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean))
end
