#!/bin/sh
# Installs the engine's systemd unit and polkit action shipped inside the package.
set -e
install -m 0644 /opt/clatbar/resources/assets/linux/clatbar-engine.service /lib/systemd/system/clatbar-engine.service || true
install -m 0644 /opt/clatbar/resources/assets/linux/org.clatbar.engine.policy /usr/share/polkit-1/actions/ || true
systemctl daemon-reload || true
