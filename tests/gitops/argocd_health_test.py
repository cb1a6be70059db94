"""Runs examples/gitops/argocd-health.lua under Lua (lupa) the way Argo CD does: the resource as
the global `obj`, the chunk's return value as the health. Also checks that argocd-cm.yaml embeds
the script verbatim for each kind. Usage: python argocd_health_test.py <repo root>"""
import copy
import pathlib
import sys

import lupa

root = pathlib.Path(sys.argv[1])
script = (root / "examples/gitops/argocd-health.lua").read_text()
failures = []


def health(obj):
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    hs = lua.execute(script)
    return hs["status"], hs["message"]


def product(generation, observed=None, ready=None, progress=None):
    """A RedshiftDataProduct as the operator writes it; ready = (status, reason, generation);
    progress = "Reconciling" or "Stalled" (True, with Ready's reason)."""
    obj = {"apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
           "metadata": {"name": "sales", "namespace": "team-sales", "generation": generation}}
    if observed is not None or ready is not None:
        obj["status"] = {"observedGeneration": observed, "conditions": [
            {"type": "ConnectionResolved", "status": "True", "reason": "Resolved", "message": "ok",
             "observedGeneration": observed},
        ]}
        if ready is not None:
            status, reason, gen = ready
            obj["status"]["conditions"].append(
                {"type": "Ready", "status": status, "reason": reason, "message": f"{reason} message",
                 "observedGeneration": gen})
            if progress is not None:
                obj["status"]["conditions"].append(
                    {"type": progress, "status": "True", "reason": reason, "message": f"{reason} message",
                     "observedGeneration": gen})
    return obj


cases = [
    ("just applied, no status", product(1), "Progressing"),
    ("status without Ready", product(1, observed=1), "Progressing"),
    ("published", product(2, observed=2, ready=("True", "Published", 2)), "Healthy"),
    ("spec changed, not yet observed", product(3, observed=2, ready=("True", "Published", 2)), "Progressing"),
    ("Ready left from an older generation", product(3, observed=3, ready=("True", "Published", 2)), "Progressing"),
    ("environment creating", product(1, observed=1, ready=("False", "Creating", 1)), "Progressing"),
    ("data source settling", product(1, observed=1, ready=("False", "Settling", 1)), "Progressing"),
    ("run in progress", product(1, observed=1, ready=("False", "Running", 1)), "Progressing"),
    ("waiting for the next run", product(1, observed=1, ready=("False", "Waiting", 1)), "Progressing"),
    ("throttled by DataZone", product(1, observed=1, ready=("False", "ThrottlingException", 1)), "Progressing"),
    ("run failed", product(1, observed=1, ready=("False", "RunFailed", 1)), "Degraded"),
    ("name taken by another owner", product(1, observed=1, ready=("False", "NameTaken", 1)), "Degraded"),
    ("project missing", product(1, observed=1, ready=("False", "ProjectNotFound", 1)), "Degraded"),
    ("Ready Unknown", product(1, observed=1, ready=("Unknown", "Pending", 1)), "Progressing"),
    ("stalled on any reason", product(1, observed=1, ready=("False", "Creating", 1), progress="Stalled"), "Degraded"),
    ("stalled: quota", product(1, observed=1, ready=("False", "RunQuotaExceeded", 1), progress="Stalled"), "Degraded"),
    ("reconciling through a 5xx",
     product(1, observed=1, ready=("False", "ServiceUnavailable", 1), progress="Reconciling"), "Progressing"),
    ("reconciling, new reason",
     product(1, observed=1, ready=("False", "SomethingNew", 1), progress="Reconciling"), "Progressing"),
]


def subscription(reason, ready="False", progress=None):
    """A DataZoneSubscription as the operator writes it: Ready with `reason`, and Reconciling or
    Stalled (progress) while not Ready."""
    obj = product(1, observed=1, ready=(ready, reason, 1), progress=progress)
    obj["kind"] = "DataZoneSubscription"
    obj["status"]["conditions"][0] = {"type": "Requested", "status": "True", "reason": "Filed",
                                      "message": "request filed", "observedGeneration": 1}
    return obj


# Every state of a subscription (src/controller/decide/subscription.rs): an app's sync wave or
# dependsOn waits while it is Progressing and stops on Degraded.
cases += [
    ("subscription: just applied", {**subscription("Granted"), "status": None}, "Progressing"),
    ("subscription: pending", subscription("AwaitingApproval", progress="Reconciling"), "Progressing"),
    ("subscription: listing not published yet", subscription("NotFound", progress="Reconciling"), "Progressing"),
    ("subscription: accepted", subscription("Accepted", progress="Reconciling"), "Progressing"),
    ("subscription: granting", subscription("Granting", progress="Reconciling"), "Progressing"),
    ("subscription: no grant yet", subscription("NoTarget", progress="Reconciling"), "Progressing"),
    ("subscription: granted", subscription("Granted", ready="True"), "Healthy"),
    ("subscription: rejected", subscription("Rejected", progress="Stalled"), "Degraded"),
    ("subscription: revoked", subscription("Revoked", progress="Stalled"), "Degraded"),
    ("subscription: cancelled elsewhere", subscription("Cancelled", progress="Stalled"), "Degraded"),
    ("subscription: withdrawn elsewhere", subscription("Withdrawn", progress="Stalled"), "Degraded"),
    ("subscription: a grant failed", subscription("GrantFailed", progress="Stalled"), "Degraded"),
    ("subscription: not a member", subscription("NotAMember", progress="Stalled"), "Degraded"),
    ("subscription: ambiguous name", subscription("Ambiguous", progress="Stalled"), "Degraded"),
]

for name, obj, want in cases:
    before = copy.deepcopy(obj)
    got, message = health(obj)
    if got != want:
        failures.append(f"{name}: got {got} ({message!r}), want {want}")
    elif want == "Degraded" and obj["status"]["conditions"][-1]["reason"] not in message:
        failures.append(f"{name}: the message {message!r} does not carry the condition's message")
    assert obj == before

# The ConfigMap carries the same script for the four kinds, indented four spaces.
cm = (root / "examples/gitops/argocd-cm.yaml").read_text().splitlines()
for kind in ("RedshiftDataProduct", "DataZoneSubscription", "DataZoneConnection", "ClusterDataZoneConnection"):
    key = f"  resource.customizations.health.dataproducts.dev_{kind}: |"
    if key not in cm:
        failures.append(f"argocd-cm.yaml has no health check for {kind}")
        continue
    block = []
    for line in cm[cm.index(key) + 1:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    if "\n".join(block).strip() != script.strip():
        failures.append(f"argocd-cm.yaml's script for {kind} differs from argocd-health.lua")

for f in failures:
    print("FAIL", f)
print(f"argocd health: {len(cases)} cases, {len(failures)} failures")
sys.exit(1 if failures else 0)
