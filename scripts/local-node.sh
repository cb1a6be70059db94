# shellcheck shell=bash
# The node of `scripts/local-cluster up --with-node` (sourced by it; not run on its own): a
# kube-controller-manager and kube-scheduler beside the API server, and a containerd + kubelet
# whose pods live on a bridge in a network namespace this script makes and deletes:
#
#   this machine's namespace                 the node's namespace ($NODE_NETNS)
#   ------------------------                 ------------------------------------------------
#   etcd, kube-apiserver  127.0.0.1:<api> <- netns-forward <- 0.0.0.0:<api> (lo and the bridge)
#   controller-manager, scheduler              containerd, kubelet (their own state, below)
#                                              bridge dz0 10.89.0.1/24, pods 10.89.0.2-254
#
# Pods reach the API server at https://10.89.0.1:<api> (KUBERNETES_SERVICE_HOST/PORT: there is no
# kube-proxy), the kubelet at 127.0.0.1:<api>; nothing on the bridge reaches anything but the
# forwarded ports. Everything the node makes lives under $dir/node, and `down` removes it: the
# pods, the processes, their mounts, the namespace with its bridge. Parts and pitfalls:
# docs/real-node.md.
#
# Expects from local-cluster: $dir, $pki, $logs, $here, $repo, say, die, alive, stop_pid, and the
# testbin directory in $bin.

NODE_GATEWAY=10.89.0.1
NODE_SUBNET=10.89.0.0/24
NODE_NAME=node-1
node=$dir/node

# The namespace's name: one per cluster directory, so two clusters never share one.
node_netns() { echo "dzn-$(printf '%s' "$dir" | md5sum | cut -c1-8)"; }

node_packages() {
  local missing=() cmd pkg
  for pair in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
    ip:iproute2 nsenter:util-linux findmnt:util-linux; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if [[ $cmd == /* ]]; then [ -x "$cmd" ] || missing+=("$pkg"); else command -v "$cmd" >/dev/null || missing+=("$pkg"); fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "the node needs root and the Debian packages ${missing[*]}"
  say "installing ${missing[*]} (Debian packages)"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# in_node: the prefix that runs a command in the node's network namespace, sharing this machine's
# mounts (the kubelet mounts volumes that containerd bind-mounts into containers; `ip netns exec`
# would give each a mount namespace of its own).
in_node() { echo nsenter --net="/run/netns/$(node_netns)"; }

ctr_() { ctr --address "$node/containerd.sock" --namespace k8s.io "$@"; }

node_write_config() {
  mkdir -p "$node/cni" "$node/kubelet" "$node/containerd"
  cat >"$node/containerd.toml" <<TOML
# containerd for the local node: its own root, state and socket under $node. Why each setting
# is what it is: docs/real-node.md.
version = 2
root = "$node/containerd/root"
state = "$node/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.overlayfs"]
[grpc]
  address = "$node/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$node/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:local"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node/cni"
TOML
  cat >"$node/cni/10-dz-node.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "dz-node", "plugins": [
  {"type": "bridge", "bridge": "dz0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$node/cni-ipam",
            "ranges": [[{"subnet": "$NODE_SUBNET", "gateway": "$NODE_GATEWAY"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
  cat >"$node/kubelet.yaml" <<YAML
# The kubelet of the local node. Why each setting is what it is: docs/real-node.md.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$node/containerd.sock
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
evictionHard: {}
localStorageCapacityIsolation: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $node/pod-logs
YAML
}

# node_start NAME CMD...: a node process, detached, its pid in $dir/NAME.pid and log in $logs.
node_start() {
  local name=$1
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# Directories outside $dir that the kubelet and containerd make at fixed paths (device plugins'
# sockets, container log links, shim sockets): removed by `down` when `up` found them absent.
NODE_FIXED_PATHS=(/var/lib/kubelet /var/log/containers /run/containerd)

node_ready() {
  [ "$("$bin/kubectl" --kubeconfig="$dir/kubeconfig" get node "$NODE_NAME" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

node_up() {
  local api_port=$1 ns tar started path
  started=$(date +%s)
  node_packages
  mkdir -p "$node"
  for path in "${NODE_FIXED_PATHS[@]}"; do [ -e "$path" ] || echo "$path"; done >"$dir/node-made-paths"
  ns=$(node_netns)
  echo "$ns" >"$dir/netns"
  # What a test needs to reach the pods: `. $dir/node.env`.
  printf 'NODE_NETNS=%s\nNODE_GATEWAY=%s\n' "$ns" "$NODE_GATEWAY" >"$dir/node.env"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add dz0 type bridge
  ip -n "$ns" addr add "$NODE_GATEWAY/24" dev dz0
  ip -n "$ns" link set dz0 up
  node_start api-forward "$here/netns-forward" "/run/netns/$ns" "0.0.0.0:$api_port" - "127.0.0.1:$api_port"

  node_start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$dir/kubeconfig" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials --leader-elect=false --secure-port=0 \
    --controllers='*,-node-ipam-controller'
  node_start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$dir/kubeconfig" --leader-elect=false --secure-port=0

  node_write_config
  node_start containerd $(in_node) containerd --config "$node/containerd.toml"
  for _ in $(seq 100); do
    ctr_ version >/dev/null 2>&1 && break
    alive containerd || { tail -n 20 "$logs/containerd.log" >&2; die "containerd exited (log: $logs/containerd.log)"; }
    sleep 0.1
  done
  # Every image the node runs is built here (no registry is reachable): the pause image at least.
  [ -f "$IMAGE_DIR/pause.tar" ] || "$here/image-local" >&2
  for tar in "$IMAGE_DIR"/*.tar; do
    ctr_ images import --snapshotter native "$tar" >/dev/null || die "cannot import $tar into containerd"
  done

  node_start kubelet $(in_node) "$bin/kubelet" --config="$node/kubelet.yaml" --kubeconfig="$dir/kubeconfig" \
    --root-dir="$node/kubelet" --cert-dir="$node/kubelet/pki" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_GATEWAY"
  for _ in $(seq 600); do
    node_ready && break
    alive kubelet || { tail -n 20 "$logs/kubelet.log" >&2; die "kubelet exited (log: $logs/kubelet.log)"; }
    sleep 0.2
  done
  node_ready || die "node $NODE_NAME not Ready after 120s (logs: $logs/kubelet.log, $logs/containerd.log)"
  # Pods of a namespace's default ServiceAccount are admitted once the controller has made it.
  for _ in $(seq 300); do
    "$bin/kubectl" --kubeconfig="$dir/kubeconfig" get serviceaccount default -n default >/dev/null 2>&1 && break
    sleep 0.2
  done
  for name in api-forward kube-controller-manager kube-scheduler containerd; do
    alive "$name" || { tail -n 20 "$logs/$name.log" >&2; die "$name exited (log: $logs/$name.log)"; }
  done
  say "node $NODE_NAME Ready in $(($(date +%s) - started))s (network namespace $ns, pods on $NODE_SUBNET)"
}

# node_stop_process NAME: the process of NAME's pid file stopped (stop_pid), the file removed.
node_stop_process() {
  [ -f "$dir/$1.pid" ] || return 0
  stop_pid "$(cat "$dir/$1.pid")"
  rm -f "$dir/$1.pid"
}

# node_down: the pods first (so containerd tears their sandboxes down: network, netns, mounts),
# then the processes, then whatever a crash left behind, then the namespace with its bridge.
node_down() {
  local ns kubectl=() id mnt pid
  [ -f "$dir/netns" ] || return 0
  ns=$(cat "$dir/netns")
  [ -f "$dir/testbin" ] && kubectl=("$(cat "$dir/testbin")/kubectl" --kubeconfig="$dir/kubeconfig")
  # No controller may make a pod again, then every pod goes through the kubelet.
  node_stop_process kube-controller-manager
  node_stop_process kube-scheduler
  if [ "${#kubectl[@]}" -gt 0 ] && alive kubelet && alive kube-apiserver; then
    "${kubectl[@]}" delete pods --all --all-namespaces --grace-period=2 --wait=false >/dev/null 2>&1 || true
    for _ in $(seq 150); do
      [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  node_stop_process kubelet
  # What the kubelet did not stop (a kubelet that had died): killed through containerd.
  if alive containerd; then
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    sleep 0.5
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete --force "$id" >/dev/null 2>&1 || true; done
  fi
  node_stop_process containerd
  # containerd's shims outlive it by design; ours name our socket.
  for pid in $(pgrep -f "containerd-shim.*-address $node/containerd.sock" || true); do
    kill -9 "$pid" 2>/dev/null || true
  done
  node_stop_process api-forward
  # Mounts under the node's directory (volumes, sandbox files, pod network namespaces), deepest first.
  findmnt -rn -o TARGET | grep -F "$node/" | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
  ip netns del "$ns" 2>/dev/null || true
  # The pods' logs stay with the cluster's (the kubelet's links to them go).
  if [ -d "$node/pod-logs" ]; then rm -rf "$logs/pods" && mv "$node/pod-logs" "$logs/pods"; fi
  find /var/log/containers -maxdepth 1 -lname "$node/*" -delete 2>/dev/null || true
  # Another cluster's node may use them now (ours is stopped): then they stay.
  if [ -f "$dir/node-made-paths" ] && ! pgrep -x kubelet >/dev/null; then
    while read -r path; do rm -rf "$path"; done <"$dir/node-made-paths"
  fi
  rm -f "$dir/netns" "$dir/node.env" "$dir/node-made-paths"
  rm -rf "$node"
}

# node_leftovers: what of the node is still here (processes, mounts, the namespace); empty when
# `down` removed it all.
node_leftovers() {
  pgrep -af -- "$dir/" || true
  findmnt -rn -o TARGET | grep -F "$dir/" || true
  ip netns list | grep -w -- "$(node_netns)" || true
}
