-- wrk script: each connection creates a payment, then captures what was created.
-- Env: PAYTRACK_TOKEN (an admin key). Prints created/captured counts per thread at the end.
local token = os.getenv("PAYTRACK_TOKEN")
local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local threads = {}
local ready = {}   -- created payment ids waiting to be captured
created, captured, failed = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local id = table.remove(ready)
  if id then
    return wrk.format("POST", "/v1/payments/" .. id .. "/capture", headers, "")
  end
  local seller = math.random(1000)
  local body = string.format(
    '{"customer_id":"cust_%d","seller_id":"seller_%d","item_type":"course",' ..
    '"item_id":"course_seller_%d","currency":"USD","subtotal":%d,"method":"card"}',
    math.random(10000), seller, seller, math.random(500, 50000))
  return wrk.format("POST", "/v1/payments", headers, body)
end

function response(status, hdrs, body)
  if status == 201 then
    created = created + 1
    table.insert(ready, body:match('"id":"(pay_[%w]+)"'))
  elseif status == 200 then
    captured = captured + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local c, k, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); k = k + t:get("captured"); f = f + t:get("failed")
  end
  io.write(string.format("RESULT created=%d captured=%d failed=%d seconds=%.3f " ..
                         "p50_ms=%.2f p99_ms=%.2f\n", c, k, f, summary.duration / 1e6,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
