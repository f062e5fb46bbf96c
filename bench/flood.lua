-- wrk script: token requests with made-up 2 KB client IDs (no valid
-- credentials; only the public tenant ID is known), each one different.
local counter = 0
local filler = string.rep("x", 2000)
request = function()
  counter = counter + 1
  local id = string.format("%d-%d-%s", math.random(1, 2^30), counter, filler)
  local body = "grant_type=client_credentials&client_id=" .. id .. "&client_secret=guess"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
