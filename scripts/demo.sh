#!/bin/bash
# Sets up and runs a working relay on loopback, delivering to a local sink (Debian 12, root):
#
#   smtp-listen 127.0.0.1:2587 (STARTTLS, AUTH for user "demo", relaying for 127.0.0.0/8)
#     -> incoming/ -> spool-run --stream -- dkim-sign (example.test, selector "demo")
#     -> outgoing/ -> mx-deliver --relayhost 127.0.0.1:2525 -> smtp-sink (the local sink)
#   spool-retry brings deferred mail back; nothing ever leaves this machine.
#
#   sh scripts/demo.sh              run in the foreground until Ctrl-C
#   sh scripts/demo.sh --self-test  send one message through it, check it arrived signed, stop
#
# State (spool, keys, sink) lives in RELAY_DEMO_DIR (default /var/tmp/relay-demo).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # the README runs it with sh
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
self_test=0
[ "${1:-}" = --self-test ] && self_test=1

if [ "${RELAY_DEMO_NO_SETUP:-0}" != 1 ]; then
    sh scripts/install-deps.sh
    build=$(sh scripts/build.sh | tail -n 1)
    BIN=$top/$build/bin
else
    BIN=${RELAY_BIN:-$top/build/bin}
fi
STATE=${RELAY_DEMO_DIR:-/var/tmp/relay-demo}
SMTP_PORT=${RELAY_DEMO_PORT:-2587}
SINK_PORT=${RELAY_DEMO_SINK_PORT:-2525}
PASSWORD=demo-password

mkdir -p "$STATE" && chmod 755 "$STATE"
spool=$STATE/spool
"$BIN/spool-ctl" --spool "$spool" init

# DKIM key for example.test, a TLS certificate and the AUTH user, made once.
mkdir -p "$STATE/dkim" && chmod 700 "$STATE/dkim"
if [ ! -f "$STATE/dkim/example.test.demo.key" ]; then
    "$BIN/dkim-keygen" --domain example.test --selector demo --key "$STATE/dkim/example.test.demo.key" \
        > "$STATE/dkim/example.test.demo.txt"
fi
echo "example.test demo $STATE/dkim/example.test.demo.key" > "$STATE/dkim/keytable"
if [ ! -f "$STATE/tls.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$STATE/tls.key" -out "$STATE/tls.crt" -days 365 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    chmod 600 "$STATE/tls.key"
fi
(umask 077; printf 'demo:%s\n' "$(openssl passwd -6 "$PASSWORD")" > "$STATE/users")

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The local sink: Postfix's smtp-sink, writing each message it receives into sink/.
mkdir -p "$STATE/sink" && chown nobody "$STATE/sink"
smtp-sink -u nobody -d "$STATE/sink/%Y%m%d%H/" "127.0.0.1:$SINK_PORT" 100 2>>"$STATE/sink.log" &
pids+=($!)

# The submission server; it writes a newline on fd 3 once it listens.
ready=$STATE/smtp-listen.ready
rm -f "$ready" && mkfifo "$ready"
"$BIN/smtp-listen" --spool "$spool" --listen "127.0.0.1:$SMTP_PORT" --allow-ip 127.0.0.0/8 \
    --tls-cert "$STATE/tls.crt" --tls-key "$STATE/tls.key" --auth-file "$STATE/users" \
    --notify-fd 3 3>"$ready" >/dev/null 2>>"$STATE/relay.log" &
pids+=($!)
if ! timeout 20 head -n 1 "$ready" >/dev/null; then
    echo "demo: fatal: smtp-listen did not start; see $STATE/relay.log" >&2
    exit 75
fi

# Signing stage and delivery, each a long-running loop.
"$BIN/spool-run" --spool "$spool" --from incoming --to outgoing --stream --loop \
    -- "$BIN/dkim-sign" --keys "$STATE/dkim/keytable" --on-missing-key pass 2>>"$STATE/relay.log" &
pids+=($!)
"$BIN/mx-deliver" --spool "$spool" --loop --relayhost "127.0.0.1:$SINK_PORT" --tls none \
    >>"$STATE/deliveries.log" 2>>"$STATE/relay.log" &
pids+=($!)
"$BIN/spool-retry" --spool "$spool" --loop --interval 30s 2>>"$STATE/relay.log" &
pids+=($!)

if [ "$self_test" = 1 ]; then
    before=$(find "$STATE/sink" -type f | wc -l)
    swaks --server "127.0.0.1:$SMTP_PORT" --tls --auth PLAIN --auth-user demo --auth-password "$PASSWORD" \
        -f app@example.test -t someone@example.net --header "Subject: relay demo self-test" \
        --timeout 20 >"$STATE/swaks.log" 2>&1 || { echo "demo: fatal: submission failed; see $STATE/swaks.log" >&2; exit 75; }
    for _ in $(seq 100); do
        [ "$(find "$STATE/sink" -type f | wc -l)" -gt "$before" ] && break
        sleep 0.2
    done
    newest=$(find "$STATE/sink" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    if [ "$(find "$STATE/sink" -type f | wc -l)" -le "$before" ]; then
        echo "demo: fatal: the message did not reach the sink in 20 s; see $STATE/relay.log" >&2
        exit 75
    fi
    if ! grep -q '^DKIM-Signature: .*d=example.test' "$newest"; then
        echo "demo: fatal: the delivered message is not DKIM-signed: $newest" >&2
        exit 65
    fi
    echo "demo: ok: submitted on 127.0.0.1:$SMTP_PORT, signed for example.test, delivered to the sink: $newest"
    exit 0
fi

cat <<EOF
relay running on loopback (state in $STATE, logs in $STATE/relay.log):
  submit:  swaks --server 127.0.0.1:$SMTP_PORT --tls --auth PLAIN --auth-user demo \\
               --auth-password $PASSWORD -f app@example.test -t someone@example.net
  queue:   $BIN/spool-ls --spool $spool
  sink:    $STATE/sink/ (every delivered message)
Ctrl-C stops it.
EOF
wait
