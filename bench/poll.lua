-- wrk script: GET with the headers bench/live_poll.py sets (If-None-Match, Cookie) and one
-- "BENCH_JSON {...}" line of figures at the end, read by bench/live_poll.py.
wrk.method = "GET"
local etag = os.getenv("BENCH_IF_NONE_MATCH")
if etag and etag ~= "" then wrk.headers["If-None-Match"] = etag end
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
