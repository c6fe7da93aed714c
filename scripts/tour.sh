#!/usr/bin/env bash
# The guided tour of docs/tour.md, for real: brings up two 3-node clusters (host-gw, then VXLAN), applies
# examples/ plus the tour's own manifests, runs every command the tour shows and writes each command's real
# output to docs/tour-output/NN-name.txt (a transcript: `$ command` lines followed by what the command printed,
# and `[exit status N]` when it failed). Both clusters are always taken down (trap), also on failure or ^C.
#
#   bash scripts/tour.sh            # as root, from anywhere; about a minute
#   bash scripts/tour.sh --check    # no cluster: check that every excerpt in docs/tour.md matches its file
#
# Every wait is bounded (kubectl wait --timeout, timeout(1) around each command, counted polling loops).
# After a new run the IPs, names and random choices differ: re-check the doc (--check) and update it.
set -uo pipefail
cd "$(dirname "$0")/.."

# --check: each excerpt in docs/tour.md is the line "[tour-output/F](tour-output/F)" followed by a text block
# whose lines are F's lines in order, except "[... N lines ...]", which stands for N lines left out.
if [ "${1:-}" = "--check" ]; then
  exec node_modules/.bin/node --input-type=module -e '
    import { existsSync, readdirSync, readFileSync } from "node:fs";
    const doc = readFileSync("docs/tour.md", "utf8").split("\n");
    const fence = "`".repeat(3);
    const used = new Set();
    let blocks = 0, problems = 0;
    const problem = (line, text) => { problems++; console.log(`docs/tour.md:${line + 1}: ${text}`); };
    for (let i = 0; i < doc.length; i++) {
      const m = /^\[tour-output\/([^\]]+)\]\(tour-output\/([^)]+)\)$/.exec(doc[i]);
      if (m === null) continue;
      const file = `docs/tour-output/${m[1]}`;
      if (m[1] !== m[2] || doc[i + 1] !== fence + "text") { problem(i, "the link must name one file and be followed by a text block"); continue; }
      if (!existsSync(file)) { problem(i, `${file} does not exist`); continue; }
      used.add(m[1]);
      const end = doc.indexOf(fence, i + 2);
      const lines = readFileSync(file, "utf8").split("\n");
      if (lines.at(-1) === "") lines.pop();
      let at = 0, ok = true;
      for (let j = i + 2; j < end && ok; j++) {
        const skip = /^\[\.\.\. (\d+) lines \.\.\.\]$/.exec(doc[j]);
        if (skip !== null) { at += Number(skip[1]); continue; }
        if (lines[at] !== doc[j]) { problem(j, `differs from ${file}:${at + 1}: ${JSON.stringify(lines[at] ?? "<end of file>")}`); ok = false; }
        at++;
      }
      if (ok && at !== lines.length) problem(end, `${file} has ${lines.length} lines, the excerpt accounts for ${at}`);
      blocks++;
    }
    const unused = readdirSync("docs/tour-output").filter((f) => f.endsWith(".txt") && !used.has(f));
    if (unused.length > 0) console.log(`not shown in docs/tour.md: ${unused.join(", ")}`);
    console.log(`${blocks} excerpts checked, ${problems} problems`);
    process.exit(problems === 0 && blocks > 0 ? 0 : 1);
  '
fi

OUT=docs/tour-output
CMD_TIMEOUT=120                      # seconds any one tour command may take
SUFFIX=$(printf '%04x' $((RANDOM * 2 + RANDOM % 2)))
HG=hostgw-$SUFFIX                    # the host-gw cluster
VX=vxlan-$SUFFIX                     # the VXLAN cluster
STARTED=()                           # clusters this run brought up (the trap takes them down)
BG_PIDS=()                           # the background helper (tcpdump, socat) still running, if any
TMP=$(mktemp -d /tmp/flatnet-tour.XXXXXX)
T0=$(date +%s)

log() { printf 'tour: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  for c in "${STARTED[@]}"; do
    [ -n "$c" ] || continue
    log "taking down $c"
    bin/flatnet down --name "$c" >"$TMP/down-$c.log" 2>&1 || log "flatnet down --name $c failed: $(cat "$TMP/down-$c.log")"
  done
  rm -rf "$TMP"
  log "done in $(( $(date +%s) - T0 )) s (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" -eq 0 ] || die "run as root (the lab creates network namespaces)"
[ -x node_modules/.bin/node ] || die "run scripts/setup.sh first"
for c in "$HG" "$VX"; do
  bin/flatnet list 2>/dev/null | awk 'NR>1 {print $1}' | grep -qx "$c" && die "a cluster named $c exists already; run again"
done

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.yaml

# --- transcript helpers -------------------------------------------------------------------------------------

# A command whose output does not end in a newline must not glue the next "$ " line to it.
ensure_newline() { [ ! -s "$1" ] || [ -z "$(tail -c 1 "$1")" ] || printf '\n' >>"$1"; }

# run FILE COMMAND: append "$ COMMAND" and everything it prints to $OUT/FILE.txt. COMMAND is shown exactly as
# it runs (callers expand their variables into it first), under timeout(1), stdin closed.
run() {
  local file=$OUT/$1.txt cmd=$2 rc=0
  printf '$ %s\n' "$cmd" >>"$file"
  timeout "$CMD_TIMEOUT" bash -c "$cmd" >>"$file" 2>&1 </dev/null || rc=$?
  ensure_newline "$file"
  [ "$rc" -eq 0 ] || printf '[exit status %d]\n' "$rc" >>"$file"
  return 0
}

# must FILE COMMAND: like run, but the tour cannot go on if COMMAND fails.
must() {
  local file=$OUT/$1.txt cmd=$2 rc=0
  printf '$ %s\n' "$cmd" >>"$file"
  timeout "$CMD_TIMEOUT" bash -c "$cmd" >>"$file" 2>&1 </dev/null || rc=$?
  ensure_newline "$file"
  if [ "$rc" -ne 0 ]; then
    printf '[exit status %d]\n' "$rc" >>"$file"
    die "$cmd (see $file)"
  fi
}

# bg_start FILE COMMAND [READY_PATTERN]: start COMMAND in the background (it must bound itself, e.g. with
# timeout(1)), shown as "$ COMMAND &"; wait (at most 5 s) until its output shows READY_PATTERN.
BG_PID=
bg_start() {
  local file=$OUT/$1.txt cmd=$2 ready=${3:-}
  printf '$ %s &\n' "$cmd" >>"$file"
  : >"$TMP/bg.out"
  bash -c "$cmd" >"$TMP/bg.out" 2>&1 </dev/null &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
  if [ -n "$ready" ]; then
    for _ in $(seq 50); do grep -q "$ready" "$TMP/bg.out" && break; sleep 0.1; done
  else
    sleep 0.5
  fi
}

# bg_wait FILE: "$ wait" and the background command's output.
bg_wait() {
  local file=$OUT/$1.txt rc=0
  printf '$ wait\n' >>"$file"
  wait "$BG_PID" || rc=$?
  cat "$TMP/bg.out" >>"$file"
  ensure_newline "$file"
  [ "$rc" -eq 0 ] || printf '[exit status %d]\n' "$rc" >>"$file"
  BG_PIDS=()
}

# bg_stop: end the background command (a server) without recording anything.
bg_stop() {
  kill "$BG_PID" 2>/dev/null
  wait "$BG_PID" 2>/dev/null
  BG_PIDS=()
}

# The endpoint (ip:port) a conntrack line was DNATed to: the reply direction's source.
ct_endpoint() { awk '{ n = 0; for (i = 1; i <= NF; i++) { if ($i ~ /^src=/) { n++; if (n == 2) ip = substr($i, 5) } if ($i ~ /^sport=/) { m++; if (m == 2) port = substr($i, 7) } } if (ip != "") { print ip ":" port; exit } }'; }

# --- the tour's own manifests (examples/ has the seeds'; these add what each section needs) ----------------

cat >"$OUT/tour-pods.yaml" <<'EOF'
# Pods the tour needs besides examples/ (pinned to nodes so that "same node" and "other node" are certain).
# Seed 002 §3 / seed 004 §5: two containers in one pod talk over localhost.
apiVersion: v1
kind: Pod
metadata:
  name: two-containers
  namespace: demo
spec:
  nodeName: node-1
  containers:
  - name: web
    image: nginx                     # listens on :80
    ports:
    - containerPort: 80
  - name: sidecar                    # the seed's BusyBox sidecar: GET localhost:80 every 10 s
    image: busybox
    command: ["sh", "-c", "sleep 2; while true; do wget -qO- http://localhost:80/ | grep -o '<title>.*</title>'; sleep 10; done"]
---
# A client with curl, dig, ip and tcpdump, on node-1.
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: demo
spec:
  nodeName: node-1
  containers:
  - name: shell
    image: nicolaka/netshoot
    command: ["sleep", "infinity"]
---
# Two servers that answer GET /clientip with the address they see the connection come from:
# one on the client's node, one on another node.
apiVersion: v1
kind: Pod
metadata:
  name: echo-same-node
  namespace: demo
  labels: {app: echo}
spec:
  nodeName: node-1
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost
    args: ["netexec", "--http-port=8080", "--udp-port=-1"]
    ports:
    - containerPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: echo-other-node
  namespace: demo
  labels: {app: echo}
spec:
  nodeName: node-2
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost
    args: ["netexec", "--http-port=8080", "--udp-port=-1"]
    ports:
    - containerPort: 8080
EOF

cat >"$OUT/tour-policy.yaml" <<'EOF'
# The pods the seeds' NetworkPolicies (examples/03-policies.yaml) talk about.
# frontend carries both seeds' client labels (seed 001 app=frontend, seed 004 role=frontend).
apiVersion: v1
kind: Pod
metadata:
  name: frontend
  namespace: demo
  labels: {app: frontend, role: frontend}
spec:
  nodeName: node-1
  containers:
  - name: shell
    image: nicolaka/netshoot
    command: ["sleep", "infinity"]
---
# Seed 001's backend (app=backend), guarded by backend-policy: only app=frontend, only on 8080.
apiVersion: v1
kind: Pod
metadata:
  name: backend
  namespace: demo
  labels: {app: backend}
spec:
  nodeName: node-2
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost
    args: ["netexec", "--http-port=8080", "--udp-port=-1"]
    ports:
    - containerPort: 8080
---
# Seed 004's backend (role=backend), guarded by allow-frontend-to-backend: only role=frontend, any port.
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: demo
  labels: {role: backend}
spec:
  nodeName: node-3
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost
    args: ["netexec", "--http-port=5432", "--udp-port=-1"]
    ports:
    - containerPort: 5432
EOF

cat >"$OUT/tour-services.yaml" <<'EOF'
# A ClusterIP Service over the two echo pods (for the endpoint spread), the nginx pods as NodePort and as
# LoadBalancer, an ExternalName (seed 001 "Service Types"), and a second Ingress adding paths on examples/' host.
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: demo
spec:
  selector: {app: echo}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-nodeport
  namespace: demo
spec:
  type: NodePort
  selector: {app: nginx}
  ports:
  - port: 80
    targetPort: 8080
    nodePort: 30080
---
apiVersion: v1
kind: Service
metadata:
  name: web-lb
  namespace: demo
spec:
  type: LoadBalancer
  selector: {app: nginx}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: internet
  namespace: demo
spec:
  type: ExternalName
  externalName: www.example.com      # a name of the lab's internet (the external namespace's resolver)
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: demo
spec:
  ingressClassName: flatnet
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /clientip
        pathType: Exact
        backend:
          service: {name: echo, port: {number: 80}}
      - path: /header
        pathType: Prefix
        backend:
          service: {name: echo, port: {number: 80}}
EOF

# --- small lookups (not part of the transcripts) ------------------------------------------------------------

kc() { kubectl --context "flatnet-$1" "${@:2}"; }
pod_ip() { kc "$1" -n demo get pod "$2" -o jsonpath='{.status.podIP}'; }
pod_netns() { local uid; uid=$(kc "$1" -n demo get pod "$2" -o jsonpath='{.metadata.uid}'); echo "fn-$1-p-$(tr -dc 'a-z0-9' <<<"$uid" | cut -c1-10)"; }
node_ip() { kc "$1" get node "$2" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}'; }
lb_ip() {
  local ip=
  for _ in $(seq 60); do
    ip=$(kc "$1" -n "$2" get svc "$3" -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null)
    [ -n "$ip" ] && break
    sleep 0.5
  done
  [ -n "$ip" ] || die "Service $2/$3 got no LoadBalancer address"
  echo "$ip"
}

up_cluster() { # up_cluster FILE NAME BACKEND
  STARTED+=("$2")
  must "$1" "bin/flatnet up --name $2 --nodes 3 --backend $3 --wait"
}

# ============================================================================================================
# Part 1: the host-gw cluster
# ============================================================================================================
log "bringing up $HG (host-gw)"
up_cluster 00-up-hostgw "$HG" host-gw
K="kubectl --context flatnet-$HG"
KD="$K -n demo"

log "applying examples/ and the tour's manifests"
must 01-apply "$K apply -f examples/"
must 01-apply "$K apply -f $OUT/tour-pods.yaml -f $OUT/tour-policy.yaml -f $OUT/tour-services.yaml"
must 01-apply "$KD rollout status deploy/nginx --timeout=120s"
must 01-apply "$KD wait --for=condition=Ready pod --all --timeout=120s"
run 02-get-pods "$K get nodes -o wide"
run 02-get-pods "$KD get pods -o wide"

NODE1_IP=$(node_ip "$HG" node-1); NODE2_IP=$(node_ip "$HG" node-2); NODE3_IP=$(node_ip "$HG" node-3)
EXT_IP=${NODE1_IP%.*}.254
CLIENT_IP=$(pod_ip "$HG" client); CLIENT_NS=$(pod_netns "$HG" client)
ECHO1_IP=$(pod_ip "$HG" echo-same-node); ECHO2_IP=$(pod_ip "$HG" echo-other-node)
BACKEND_IP=$(pod_ip "$HG" backend); DB_IP=$(pod_ip "$HG" db)
LB_IP=$(lb_ip "$HG" demo web-lb)
INGRESS_IP=$(lb_ip "$HG" flatnet-ingress flatnet-ingress)
N1="fn-$HG-node-1"; N2="fn-$HG-node-2"; N3="fn-$HG-node-3"; LAB="fn-$HG-lab"; EXT="fn-$HG-ext"
log "client $CLIENT_IP ($CLIENT_NS), echo $ECHO1_IP/$ECHO2_IP, LB $LB_IP, ingress $INGRESS_IP"

# The Ingress routes and the policy rules are programmed asynchronously: wait (bounded) until they are in.
for _ in $(seq 40); do
  [ "$(ip netns exec "$EXT" curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'Host: web.example.com' "http://$INGRESS_IP/clientip")" = 200 ] && break
  sleep 0.5
done
for _ in $(seq 40); do
  ip netns exec "$N2" nft list map ip flatnet-netpol ingress-pods 2>/dev/null | grep -q "$BACKEND_IP" && break
  sleep 0.25
done

# --- The three rules (seed 000 §1, seed 002 §2, seed 003 §1) ----------------------------------------------
run 03-rules-pod-to-pod "$KD exec client -- curl -s -w '\\n' http://$ECHO2_IP:8080/clientip"
run 04-rules-node-to-pod "ip netns exec $N3 curl -s -w '\\n' http://$ECHO2_IP:8080/clientip"
run 05-rules-same-ip "$KD get pod client -o jsonpath='{.status.podIP}{\"\\n\"}'"
run 05-rules-same-ip "$KD exec client -- ip -4 addr show dev eth0"

# --- Container to container over localhost (seed 000 §2.A, 002 §3, 003 §3, 004 §5) -----------------------
run 10-localhost "$KD logs two-containers -c sidecar"
run 10-localhost "$KD exec two-containers -c sidecar -- wget -qO- http://localhost:80/ | head -4"
run 10-localhost "$KD exec two-containers -c sidecar -- netstat -tln"
run 10-localhost "$KD exec two-containers -c web -- ip -4 addr"
run 10-localhost "$KD exec two-containers -c sidecar -- ip -4 addr"
run 11-trace-localhost "bin/flatnet trace --name $HG demo/two-containers localhost:80"

# --- lo, eth0, the veth pair, cni0 (seed 003 "Terminology explanation") -----------------------------------
run 12-pod-interfaces "ip -n $CLIENT_NS addr"
run 12-pod-interfaces "ip -n $CLIENT_NS route"
run 13-node-veths "ip -n $N1 addr show cni0"
run 13-node-veths "ip -n $N1 link show master cni0"
run 14-cni-config "cat /run/flatnet/$HG/node-1/cni/net.d/10-flatnet.conflist"

# --- Pod to pod on one node (seed 000 §2.B, 002 §4, 003 "cni0 Bridge") ------------------------------------
run 20-same-node "$KD exec client -- curl -s -w '\\n' http://$ECHO1_IP:8080/clientip"
run 20-same-node "ip -n $CLIENT_NS neigh"
run 21-trace-same-node "bin/flatnet trace --name $HG demo/client demo/echo-same-node:8080"

# --- Pod to pod across nodes, host-gw (seed 000 §2.C, 001 "Pod Networking", 002 §4, 003 "Routing Table") ---
run 30-node-routes-hostgw "ip -n $N1 route"
run 30-node-routes-hostgw "ip -n $N2 route"
bg_start 31-tcpdump-hostgw "timeout 20 ip netns exec $LAB tcpdump -nn -e -i br0 -c 4 'tcp port 8080 and host $CLIENT_IP'" 'listening on'
run 31-tcpdump-hostgw "$KD exec client -- curl -s -w '\\n' http://$ECHO2_IP:8080/clientip"
bg_wait 31-tcpdump-hostgw
run 31-tcpdump-hostgw "ip -n $N1 -br link show eth0"
run 31-tcpdump-hostgw "ip -n $N2 -br link show eth0"
run 32-trace-cross-node-hostgw "bin/flatnet trace --name $HG demo/client demo/echo-other-node:8080"

# --- Services and kube-proxy (seed 000 §2.D, 001 "Services", 002 §5, 003 "Kube-proxy") -------------------
run 40-service "$KD get svc nginx-service -o wide"
run 40-service "$KD get endpoints nginx-service"
run 40-service "$KD get endpointslices -l kubernetes.io/service-name=nginx-service"
run 41-rules "bin/flatnet rules node-1 --name $HG"
run 42-spread "$KD exec client -- sh -c 'for i in \$(seq 1 40); do curl -s http://echo/hostname; echo; done | sort | uniq -c'"

# --- DNS (seed 001 "DNS", 002 §5) -------------------------------------------------------------------------
run 50-resolv-conf "$KD exec client -- cat /etc/resolv.conf"
for name in nginx-service nginx-service.demo nginx-service.demo.svc.cluster.local nginx-service.demo.svc.cluster.local. example.com internet; do
  run 51-dig-search "$KD exec client -- dig +search +showsearch +noall +question +answer $name"
done

# --- Pod to Service by name, the reply and conntrack (seed 002 §5, 003 "iptables") -----------------------
bg_start 52-service-curl "timeout 20 ip netns exec $CLIENT_NS tcpdump -nn -i eth0 -c 6 'tcp port 80'" 'listening on'
run 52-service-curl "$KD exec client -- curl -s -o /dev/null --local-port 40000 -w '%{http_code} from %{remote_ip}:%{remote_port}\\n' http://nginx-service/"
bg_wait 52-service-curl
for n in node-1 node-2 node-3; do
  run 53-conntrack-service "ip netns exec fn-$HG-$n conntrack -L -p tcp --sport 40000"
done
SVC_EP=$(ip netns exec "$N1" conntrack -L -p tcp --sport 40000 --orig-dst "$(kc "$HG" -n demo get svc nginx-service -o jsonpath='{.spec.clusterIP}')" 2>/dev/null | ct_endpoint)
log "the kernel sent the Service flow to $SVC_EP"
run 54-trace-service "bin/flatnet trace --name $HG demo/client http://nginx-service/ --endpoint $SVC_EP"

# --- Egress with SNAT (seed 000 §2.E, 002 §6, 003 "iptables") --------------------------------------------
bg_start 60-egress "timeout 60 ip netns exec $EXT socat TCP-LISTEN:8080,bind=$EXT_IP,reuseaddr,fork SYSTEM:'echo HTTP/1.0 200 OK; echo; echo hello from the internet - you came from \$SOCAT_PEERADDR'"
run 60-egress "$KD exec client -- curl -s --local-port 40001 http://example.com:8080/"
run 60-egress "ip netns exec $N1 conntrack -L -p tcp --sport 40001"
run 61-egress-rules "ip netns exec $N1 nft list table ip flatnet-egress"
# Still while socat listens: on a live cluster the trace reads the external side's real sockets.
run 62-trace-egress "bin/flatnet trace --name $HG demo/client http://example.com:8080/"
bg_stop

# --- NodePort and LoadBalancer from outside (seed 000 §2.F.1, 001 "Service Types", 002 §6) ----------------
run 70-nodeport "$KD get svc web-nodeport web-lb"
run 70-nodeport "ip netns exec $EXT curl -s -o /dev/null --local-port 40002 -w '%{http_code} from %{remote_ip}:%{remote_port}\\n' http://$NODE2_IP:30080/"
run 70-nodeport "ip netns exec $N2 conntrack -L -p tcp --sport 40002"
NP_EP=$(ip netns exec "$N2" conntrack -L -p tcp --sport 40002 2>/dev/null | ct_endpoint)
log "the kernel sent the NodePort flow to $NP_EP"
run 71-trace-nodeport "bin/flatnet trace --name $HG external $NODE2_IP:30080 --endpoint $NP_EP"

run 72-loadbalancer "ip netns exec $EXT ip route"
run 72-loadbalancer "ip netns exec $EXT curl -s -o /dev/null --local-port 40003 -w '%{http_code} from %{remote_ip}:%{remote_port}\\n' http://$LB_IP/"
for n in node-1 node-2 node-3; do
  run 72-loadbalancer "ip netns exec fn-$HG-$n conntrack -L -p tcp --sport 40003"
done
LB_NODE=; LB_EP=
for n in node-1 node-2 node-3; do
  ep=$(ip netns exec "fn-$HG-$n" conntrack -L -p tcp --sport 40003 --orig-dst "$LB_IP" 2>/dev/null | ct_endpoint)
  if [ -n "$ep" ]; then LB_NODE=$n; LB_EP=$ep; fi
done
log "the LoadBalancer flow entered $LB_NODE and went to $LB_EP"
run 73-trace-loadbalancer "bin/flatnet trace --name $HG external $LB_IP:80 --via-node ${LB_NODE:-node-1} ${LB_EP:+--endpoint $LB_EP}"

# --- Ingress: host and path routing behind the LoadBalancer (seed 000 §2.F.2, 002 §6.2) -------------------
run 80-ingress "$KD get ingress"
run 80-ingress "$K -n flatnet-ingress get svc,pods -o wide"
run 81-ingress-curl "ip netns exec $EXT curl -s -H 'Host: web.example.com' http://$INGRESS_IP/ | grep title"
run 81-ingress-curl "ip netns exec $EXT curl -s -w '\\n' --local-port 40004 -H 'Host: web.example.com' http://$INGRESS_IP/clientip"
run 81-ingress-curl "ip netns exec $EXT curl -s -w '\\n' -H 'Host: web.example.com' 'http://$INGRESS_IP/header?key=X-Forwarded-For'"
run 81-ingress-curl "ip netns exec $EXT curl -s -D - -o /dev/null -H 'Host: other.example.com' http://$INGRESS_IP/ | tr -d '\\r'"
ING_NODE=; ING_EP=
for n in node-1 node-2 node-3; do
  ep=$(ip netns exec "fn-$HG-$n" conntrack -L -p tcp --sport 40004 --orig-dst "$INGRESS_IP" 2>/dev/null | ct_endpoint)
  if [ -n "$ep" ]; then ING_NODE=$n; ING_EP=$ep; fi
done
log "the Ingress flow entered $ING_NODE and went to the controller at $ING_EP"
run 82-trace-ingress "bin/flatnet trace --name $HG external http://$INGRESS_IP/clientip --host-header web.example.com --via-node ${ING_NODE:-node-1} ${ING_EP:+--endpoint $ING_EP}"

# --- NetworkPolicy (seed 001 "Network Policies", 004 §7) --------------------------------------------------
run 90-policies "$KD get networkpolicy"
run 90-policies "$KD get pods frontend backend db client --show-labels"
run 91-policy-curl "$KD exec frontend -- curl -s -w '\\n' -m 3 http://$BACKEND_IP:8080/clientip"
run 91-policy-curl "$KD exec client -- curl -s -w '\\n' -m 3 http://$BACKEND_IP:8080/clientip"
run 91-policy-curl "$KD exec frontend -- curl -s -w '\\n' -m 3 http://$DB_IP:5432/clientip"
run 91-policy-curl "$KD exec client -- curl -s -w '\\n' -m 3 http://$DB_IP:5432/clientip"
run 92-trace-denied "bin/flatnet trace --name $HG demo/client demo/backend:8080"
run 93-netpol-table "ip netns exec $N2 nft list table ip flatnet-netpol"
run 94-matrix "bin/flatnet matrix -f examples/,$OUT/tour-policy.yaml --port 8080"
run 94-matrix "bin/flatnet matrix -f examples/,$OUT/tour-policy.yaml --port 5432"
run 95-matrix-live "bin/flatnet matrix --live --name $HG -n demo --port 8080"

# --- Checking the model against the kernel: flatnet trace --live (section 14) -----------------------------
# No --endpoint/--via-node here: --live reads the kernel's endpoint and ECMP choice off the kernel's own trace.
# Files a0-a4 are section 14's (a1 is the VXLAN cluster's, below).
run a0-live-service "bin/flatnet trace --name $HG demo/client http://nginx-service/ --live"
run a2-live-denied "bin/flatnet trace --name $HG demo/client demo/backend:8080 --live"
run a3-live-ingress "bin/flatnet trace --name $HG external http://$INGRESS_IP/clientip --host-header web.example.com --live"
# A disagreement on purpose: a rule the model cannot know about (added by hand, not by flatnet) drops the flow
# on node-2; --live must flag it and exit 1. The table is deleted again right away (and goes with the cluster).
run a4-live-disagreement "ip netns exec $N2 nft add table ip tour-extra"
run a4-live-disagreement "ip netns exec $N2 nft add chain ip tour-extra forward '{ type filter hook forward priority -10; }'"
run a4-live-disagreement "ip netns exec $N2 nft add rule ip tour-extra forward ip daddr $ECHO2_IP tcp dport 8080 drop"
run a4-live-disagreement "bin/flatnet trace --name $HG demo/client demo/echo-other-node:8080 --live"
run a4-live-disagreement "ip netns exec $N2 nft delete table ip tour-extra"
ip netns exec "$N2" nft delete table ip tour-extra 2>/dev/null || true   # in case the recorded delete failed

# The host-gw cluster is done: take it down before the VXLAN one comes up (one cluster at a time on this box).
must 96-down-hostgw "bin/flatnet down --name $HG"
STARTED=()

# ============================================================================================================
# Part 2: the VXLAN cluster
# ============================================================================================================
log "bringing up $VX (vxlan)"
up_cluster 33-up-vxlan "$VX" vxlan
K="kubectl --context flatnet-$VX"
KD="$K -n demo"
must 34-apply-vxlan "$K apply -f examples/01-namespace.yaml -f $OUT/tour-pods.yaml"
must 34-apply-vxlan "$KD wait --for=condition=Ready pod --all --timeout=120s"
run 34-apply-vxlan "$KD get pods -o wide"

CLIENT_IP=$(pod_ip "$VX" client); CLIENT_NS=$(pod_netns "$VX" client)
ECHO2_IP=$(pod_ip "$VX" echo-other-node)
N1="fn-$VX-node-1"; N3="fn-$VX-node-3"; LAB="fn-$VX-lab"

run 35-vxlan-device "ip -n $N1 route"
run 35-vxlan-device "ip -n $N1 -d link show flannel.1"
run 35-vxlan-device "ip -n $N1 neigh show dev flannel.1"
run 35-vxlan-device "bridge -n $N1 fdb show dev flannel.1"
run 35-vxlan-device "ip -n $CLIENT_NS link show eth0"
bg_start 36-tcpdump-vxlan "timeout 20 ip netns exec $LAB tcpdump -nn -T vxlan -i br0 -c 4 'udp port 8472'" 'listening on'
run 36-tcpdump-vxlan "$KD exec client -- curl -s -w '\\n' http://$ECHO2_IP:8080/clientip"
bg_wait 36-tcpdump-vxlan
run 37-trace-cross-node-vxlan "bin/flatnet trace --name $VX demo/client demo/echo-other-node:8080"
run 38-node-to-pod-vxlan "ip netns exec $N3 curl -s -w '\\n' http://$ECHO2_IP:8080/clientip"
run 38-node-to-pod-vxlan "ip -n $N3 -4 -br addr"
run a1-live-cross-node-vxlan "bin/flatnet trace --name $VX demo/client demo/echo-other-node:8080 --live"

must 39-down-vxlan "bin/flatnet down --name $VX"
STARTED=()
log "transcripts in $OUT/"
