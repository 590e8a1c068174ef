-- wrk workload: a small JSON POST per request, with a random canonical snowflake
-- in x-guild-id (a 17–19 digit decimal, never with a leading zero).
math.randomseed(os.time())
wrk.method = "POST"
wrk.body = '{"type":2,"data":{"name":"ping"}}'
wrk.headers["Content-Type"] = "application/json"

request = function()
  local id = tostring(math.random(100000, 999999)) .. string.format("%012d", math.random(0, 999999999999))
  wrk.headers["x-guild-id"] = id
  return wrk.format()
end
