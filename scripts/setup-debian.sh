#!/usr/bin/env bash
# Installs the Debian packages the test suites and benchmarks use: the real peers (tayga as the
# network's NAT64, unbound as upstream resolver and reference DNS64, iperf3, dnsperf), the
# tools the netns tests drive (iproute2, ping, traceroute, tcpdump), scapy for the translator's
# fixture generator, g++/make for the native addon, Chromium for the UI tests, and dbus-daemon
# for a private bus the systemd-resolved integration tests talk D-Bus on; fonts-nanum so the
# Korean UI test and screenshots draw Hangul.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup-debian.sh: run as root (sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  iproute2 iputils-ping traceroute procps kmod \
  tayga unbound iperf3 dnsperf tcpdump dnsutils socat nftables curl \
  python3 python3-scapy make g++ dbus-daemon \
  chromium fonts-dejavu-core fonts-nanum librsvg2-bin >/dev/null
# Debian starts unbound's own service on install where systemd runs; the tests start their own.
modprobe tun 2>/dev/null || true
