#!/bin/bash
# relay-policy benchmark: checks per second in process and as a Postfix policy server (1 and 8
# clients), and what the policy service costs Postfix: smtp-source -> Postfix smtpd with and
# without check_policy_service, in the same run, as a ratio. Loopback only; about a minute.
#   bench/relay-policy/run.sh [BUILD_DIR]    (default: build-relay-policy beside this checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-relay-policy}
RP=$BUILD/bin/relay-policy
[ -x "$RP" ] || { echo "run.sh: $RP is not built" >&2; exit 64; }
T=$(mktemp -d /tmp/bench-relay-policy.XXXXXX); chmod 755 "$T"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  [ -f "$T/pf/etc/main.cf" ] && postfix -c "$T/pf/etc" stop >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

g++ -std=c++20 -O2 -I"$ROOT/common/include" "$ROOT/bench/relay-policy/bench_policy.cpp" \
  "$BUILD/common/librelay_common.a" -lfmt -lldns -lopendkim -lpsl -llmdb -lsqlite3 -lssl -lcrypto -lcrypt \
  -lpthread -o "$T/bench_policy"

cat > "$T/policy.conf" <<CONF
store = $T/store
[defaults]
sender-domains = shop.example
max-size = 10M
max-recipients = 100
user-messages = 1000000/minute 100000000/day
client-messages = 1000000/minute
recipient-domain-recipients = 1000000/minute
[network 127.0.0.0/8]
sender-domains = *
client-messages = 1000000/minute
CONF
"$RP" --policy "$T/policy.conf" init
"$RP" --policy "$T/policy.conf" suppress --add gone@example.test 2>/dev/null

echo "== in process (one thread, each check a call of Policy::check)"
"$T/bench_policy" inprocess "$T/policy.conf" 2

echo "== relay-policy serve (Postfix protocol over TCP, one request in flight per client)"
exec {PORTFD}< <(exec "$RP" --policy "$T/policy.conf" serve --listen 127.0.0.1:0)
SERVER=$!
read -r -t 10 -u $PORTFD PPORT
for clients in 1 8; do "$T/bench_policy" client "$PPORT" $clients 3; done | tee "$T/server.txt"

echo "== Postfix smtpd accepting into hold, 2000 x 1 KB, 20 sessions: alone vs with check_policy_service"
mkdir -p "$T/pf/etc" "$T/pf/queue" "$T/pf/data"; chown postfix:postfix "$T/pf/data"; : > "$T/pf/etc/main.cf"
cp /etc/postfix/postfix-files /etc/postfix/dynamicmaps.cf "$T/pf/etc/"
P1=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
P2=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
postconf -c "$T/pf/etc" -e compatibility_level=3.6 "meta_directory=$T/pf/etc" "queue_directory=$T/pf/queue" \
  "data_directory=$T/pf/data" "maillog_file=$T/pf/maillog" maillog_file_prefixes=/tmp myhostname=mx.example.test \
  mydestination= inet_interfaces=127.0.0.1 inet_protocols=ipv4 alias_maps= smtpd_peername_lookup=no \
  in_flow_delay=0s mynetworks=127.0.0.0/8 smtpd_client_connection_count_limit=0 \
  "plain_restrictions=check_client_access static:HOLD, permit" \
  "policy_restrictions=check_policy_service inet:127.0.0.1:$PPORT, check_client_access static:HOLD, permit" \
  "policy_end=check_policy_service inet:127.0.0.1:$PPORT"
printf '%s\n' "127.0.0.1:$P1 inet n - n - - smtpd -o smtpd_recipient_restrictions=\$plain_restrictions" \
 "127.0.0.1:$P2 inet n - n - - smtpd -o smtpd_recipient_restrictions=\$policy_restrictions -o smtpd_end_of_data_restrictions=\$policy_end" \
 'cleanup unix n - n - 0 cleanup' 'qmgr unix n - n 300 1 qmgr' 'rewrite unix - - n - - trivial-rewrite' \
 'error unix - - n - - error' 'bounce unix - - n - 0 bounce' 'defer unix - - n - 0 bounce' 'trace unix - - n - 0 bounce' \
 'verify unix - - n - 1 verify' 'proxymap unix - - n - - proxymap' 'anvil unix - - n - 1 anvil' \
 'scache unix - - n - 1 scache' 'retry unix - - n - - error' 'postlog unix-dgram n - n - 1 postlogd' > "$T/pf/etc/master.cf"
postfix -c "$T/pf/etc" start >/dev/null 2>&1
for i in $(seq 100); do ss -Hltn "src 127.0.0.1:$P2" | grep -q . && break; sleep 0.05; done

held() { find "$T/pf/queue/hold" -type f | wc -l; }
run_source() {   # PORT -> messages per second
  postsuper -c "$T/pf/etc" -d ALL hold >/dev/null 2>&1 || true
  local start end
  start=$(date +%s.%N)
  smtp-source -s 20 -m 2000 -l 1024 -f news@shop.example -t r@example.test "127.0.0.1:$1"
  end=$(date +%s.%N)
  [ "$(held)" -eq 2000 ] || { echo "run.sh: expected 2000 held messages, found $(held)" >&2; exit 75; }
  /usr/bin/python3 -c "print(round(2000 / ($end - $start)))"
}
run_source "$P2" >/dev/null   # warm-up: Postfix's processes and the policy connections
ALONE=$(run_source "$P1")
WITH=$(run_source "$P2")
ALONE2=$(run_source "$P1")
WITH2=$(run_source "$P2")
echo "postfix alone              $ALONE, $ALONE2 msg/s"
echo "postfix + relay-policy     $WITH, $WITH2 msg/s"
/usr/bin/python3 - "$ALONE" "$ALONE2" "$WITH" "$WITH2" "$T/server.txt" <<'PY'
import sys
alone = (int(sys.argv[1]) + int(sys.argv[2])) / 2
with_policy = (int(sys.argv[3]) + int(sys.argv[4])) / 2
server = [float(l.split()[-2]) for l in open(sys.argv[5])]
print(f"ratio: Postfix with relay-policy / Postfix alone          = {with_policy / alone:.2f}")
print(f"ratio: policy requests/s (8 clients) / Postfix msg/s alone = {server[1] / alone:.1f} "
      "(each message costs Postfix 2 requests: RCPT and END-OF-MESSAGE)")
PY
