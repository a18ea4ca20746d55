#!/bin/sh
# Installs the Debian 12 packages the build, the tests and the benchmarks use.
# Idempotent; safe to run again. Needs root.
set -eu
export DEBIAN_FRONTEND=noninteractive
# Installing postfix must not start it (CI images forbid starting daemons; so do we).
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
BUILD="build-essential cmake pkg-config libcli11-dev libssl-dev libldns-dev libopendkim-dev
       libfmt-dev libgtest-dev libgmock-dev libpsl-dev libidn2-dev liblmdb-dev libsqlite3-dev libcrypt-dev zlib1g-dev
       clang libclang-rt-14-dev"
PEERS="nsd unbound bind9-dnsutils ldnsutils python3 python3-aiosmtpd python3-dnslib python3-dkim
       python3-spf python3-nacl python3-pytest libmail-dkim-perl libsisimai-perl postfix swaks curl openssl
       iproute2 procps util-linux whois"
apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $BUILD $PEERS >/dev/null
[ "${created_policy:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
