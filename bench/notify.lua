-- wrk script: POST like Google's push notifications (bench/watch.py sets the environment).
-- Channel headers come from BENCH_CHANNEL_ID / _TOKEN / _RESOURCE_ID (none: a bare POST);
-- message numbers grow from BENCH_FIRST_NUMBER, as Google's do on one channel.
-- done() prints one line "BENCH_JSON {...}" with the figures bench/watch.py reads.

local counter = 0
local first = tonumber(os.getenv("BENCH_FIRST_NUMBER") or "1")
local channel = os.getenv("BENCH_CHANNEL_ID")

wrk.method = "POST"
wrk.headers["Content-Length"] = "0"
if channel then
  wrk.headers["X-Goog-Channel-Id"] = channel
  wrk.headers["X-Goog-Channel-Token"] = os.getenv("BENCH_CHANNEL_TOKEN")
  wrk.headers["X-Goog-Resource-Id"] = os.getenv("BENCH_RESOURCE_ID")
  wrk.headers["X-Goog-Resource-State"] = "exists"
  wrk.headers["X-Goog-Resource-Uri"] = "https://www.googleapis.com/calendar/v3/calendars/primary/events"
end

request = function()
  counter = counter + 1
  if channel then
    wrk.headers["X-Goog-Message-Number"] = tostring(first + counter)
  end
  return wrk.format()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
