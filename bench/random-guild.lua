-- wrk script: every request names a random canonical snowflake in x-guild-id.
math.randomseed(os.time())
request = function()
  local id = tostring(math.random(1, 999999)) .. string.format("%012d", math.random(0, 999999999999))
  return wrk.format("GET", "/interactions", { ["x-guild-id"] = id })
end
