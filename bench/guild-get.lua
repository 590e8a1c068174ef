-- wrk workload: a GET per request, with a random canonical snowflake in
-- x-guild-id (a 17–19 digit decimal, never with a leading zero).
math.randomseed(os.time())

request = function()
  local id = tostring(math.random(100000, 999999)) .. string.format("%012d", math.random(0, 999999999999))
  wrk.headers["x-guild-id"] = id
  return wrk.format("GET", "/interactions")
end
