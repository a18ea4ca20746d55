#!/bin/bash
# dkim-rotate.sh: the steps of a DKIM key rotation with two selectors live at once
# (docs/dkim-rotation.md). Each step checks what the next one depends on.
#
#   dkim-rotate.sh new     DOMAIN SELECTOR [dkim-keygen options]   make the key, print its record
#   dkim-rotate.sh check   DOMAIN SELECTOR                         is that record in the DNS?
#   dkim-rotate.sh switch  DOMAIN OLD NEW                          sign with NEW instead of OLD
#   dkim-rotate.sh retire  DOMAIN OLD                              put OLD's key away, print its revocation
#
# Environment: KEYTABLE (default /etc/relay/dkim/keytable); keys live in its directory as
# DOMAIN.SELECTOR.pem. RESOLVER=IP[:PORT] makes check ask that server. RELAY_BIN is where
# dkim-keygen is (default: found in PATH).
set -euo pipefail

KEYTABLE=${KEYTABLE:-/etc/relay/dkim/keytable}
KEYDIR=$(dirname "$KEYTABLE")
KEYGEN=${RELAY_BIN:+$RELAY_BIN/}dkim-keygen

die() { echo "dkim-rotate: fatal: $*" >&2; exit "${2:-64}"; }
key_path() { echo "$KEYDIR/$1.$2.pem"; }

# The record text published at SELECTOR._domainkey.DOMAIN, strings joined.
published() {
  local server=() name="$2._domainkey.$1"
  if [ -n "${RESOLVER:-}" ]; then
    server=("@${RESOLVER%%:*}")
    [[ "$RESOLVER" == *:* ]] && server+=(-p "${RESOLVER##*:}")
  fi
  dig "${server[@]}" +short +time=3 +tries=2 "$name" TXT | sed 's/" "//g; s/^"//; s/"$//'
}

# The p= value of a record text.
public_key() { sed -n 's/.*p=\([A-Za-z0-9+\/=]*\).*/\1/p'; }

cmd_new() {
  local domain=$1 selector=$2; shift 2
  "$KEYGEN" --domain "$domain" --selector "$selector" --key "$(key_path "$domain" "$selector")" "$@"
  echo "dkim-rotate: publish the record above, then: dkim-rotate.sh check $domain $selector" >&2
}

cmd_check() {
  local domain=$1 selector=$2 want got
  want=$("$KEYGEN" --domain "$domain" --selector "$selector" --key "$(key_path "$domain" "$selector")" --print --json |
         public_key)
  got=$(published "$domain" "$selector" | public_key)
  [ -n "$got" ] || die "no key record at $selector._domainkey.$domain yet" 75
  [ "$got" = "$want" ] || die "$selector._domainkey.$domain publishes another key" 65
  echo "dkim-rotate: $selector._domainkey.$domain publishes the key of $(key_path "$domain" "$selector")"
}

cmd_switch() {
  local domain=$1 old=$2 new=$3 tmp
  cmd_check "$domain" "$new"
  grep -Eq "^[[:space:]]*$domain[[:space:]]+$old[[:space:]]" "$KEYTABLE" ||
    die "$KEYTABLE has no row for $domain $old" 78
  tmp=$(mktemp "$KEYTABLE.XXXXXX")
  awk -v d="$domain" -v o="$old" -v n="$new" -v k="$(key_path "$domain" "$new")" \
    '$1 == d && $2 == o { print d, n, k; next } { print }' "$KEYTABLE" > "$tmp"
  chmod --reference="$KEYTABLE" "$tmp"
  mv "$tmp" "$KEYTABLE"   # one rename: a signer starting now reads the old table or the new one
  echo "dkim-rotate: $domain signs with $new from the next dkim-sign start; keep $old published" \
       "until mail signed with it is delivered (the queue lifetime, then some days)"
}

cmd_retire() {
  local domain=$1 old=$2 key
  key=$(key_path "$domain" "$old")
  ! grep -Eq "^[[:space:]]*$domain[[:space:]]+$old[[:space:]]" "$KEYTABLE" ||
    die "$KEYTABLE still signs $domain with $old: switch first" 78
  if [ -e "$key" ]; then
    mkdir -p -m 0700 "$KEYDIR/retired"
    mv "$key" "$KEYDIR/retired/"
  fi
  echo "$old._domainkey.$domain. IN TXT \"v=DKIM1; p=\""
  echo "dkim-rotate: publish the revocation above in place of the old record; remove it later" >&2
}

[ $# -ge 1 ] || die "usage: dkim-rotate.sh new|check|switch|retire DOMAIN SELECTOR..."
command=$1; shift
case "$command" in
  new) [ $# -ge 2 ] || die "usage: dkim-rotate.sh new DOMAIN SELECTOR [dkim-keygen options]"; cmd_new "$@" ;;
  check) [ $# -eq 2 ] || die "usage: dkim-rotate.sh check DOMAIN SELECTOR"; cmd_check "$@" ;;
  switch) [ $# -eq 3 ] || die "usage: dkim-rotate.sh switch DOMAIN OLD NEW"; cmd_switch "$@" ;;
  retire) [ $# -eq 2 ] || die "usage: dkim-rotate.sh retire DOMAIN OLD"; cmd_retire "$@" ;;
  *) die "unknown step $command (new, check, switch, retire)" ;;
esac
