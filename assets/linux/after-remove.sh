#!/bin/sh
# Stops the engine (which restores the network) and removes what after-install.sh added.
systemctl disable --now clatbar-engine.service 2>/dev/null || true
rm -f /lib/systemd/system/clatbar-engine.service /usr/share/polkit-1/actions/org.clatbar.engine.policy \
  /etc/NetworkManager/conf.d/90-clatbar.conf
nmcli general reload conf 2>/dev/null || true
systemctl daemon-reload 2>/dev/null || true
