-- Argo CD health check for dataproducts.dev/RedshiftDataProduct (and DataZoneSubscription and
-- the two connection kinds): the Ready condition, read only when it describes the current generation.
--   Healthy     Ready=True for metadata.generation
--   Progressing no status yet, a spec change not yet observed, or Ready=False with
--               Reconciling=True (creating, waiting for a run, throttled, a 5xx)
--   Degraded    Ready=False with Stalled=True (failed run, name taken, missing project,
--               a subscription rejected or revoked...)
-- Statuses written before Reconciling/Stalled existed fall back to a list of Ready reasons.
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
local ready, stalled, reconciling = nil, false, false
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Stalled" and condition.status == "True" then
    stalled = true
  elseif condition.type == "Reconciling" and condition.status == "True" then
    reconciling = true
  end
end
if ready == nil then
  return hs
end
if ready.observedGeneration ~= nil and generation ~= nil and ready.observedGeneration < generation then
  hs.message = "Ready describes generation " .. ready.observedGeneration
  return hs
end
hs.message = ready.message or ready.reason or ""
if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status == "False" then
  if stalled then
    hs.status = "Degraded"
  elseif not reconciling and not progressing[ready.reason] then
    hs.status = "Degraded"
  end
end
return hs
