-- Argo CD health check for dataproducts.dev/RedshiftDataProduct (and the two connection
-- kinds): the Ready condition, read only when it describes the current generation.
--   Healthy     Ready=True for metadata.generation
--   Progressing no status yet, a spec change not yet observed, or Ready=False for a reason the
--               operator is still working through (creating, waiting for a run, throttled)
--   Degraded    Ready=False for any other reason (failed run, name taken, missing project...)
local hs = { status = "Progressing", message = "waiting for the operator" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < generation then
  hs.message = "the operator has not yet observed generation " .. generation
  return hs
end
local progressing = {
  Progressing = true, Pending = true, Creating = true, Updating = true, Settling = true,
  Running = true, Waiting = true, Throttled = true, ThrottlingException = true,
}
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    if condition.observedGeneration ~= nil and generation ~= nil
        and condition.observedGeneration < generation then
      hs.message = "Ready describes generation " .. condition.observedGeneration
      return hs
    end
    hs.message = condition.message or condition.reason or ""
    if condition.status == "True" then
      hs.status = "Healthy"
    elseif condition.status == "False" and not progressing[condition.reason] then
      hs.status = "Degraded"
    end
    return hs
  end
end
return hs
