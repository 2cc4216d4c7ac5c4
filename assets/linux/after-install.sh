#!/bin/sh
# Installs the engine's systemd unit, polkit action and NetworkManager drop-in shipped inside
# the package.
set -e
install -m 0644 /opt/clatbar/resources/assets/linux/clatbar-engine.service /lib/systemd/system/clatbar-engine.service || true
install -m 0644 /opt/clatbar/resources/assets/linux/org.clatbar.engine.policy /usr/share/polkit-1/actions/ || true
install -D -m 0644 /opt/clatbar/resources/assets/linux/networkmanager-clatbar.conf /etc/NetworkManager/conf.d/90-clatbar.conf || true
systemctl daemon-reload || true
nmcli general reload conf 2>/dev/null || true
