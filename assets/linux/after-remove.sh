#!/bin/sh
# Debian postrm of clatbar (electron-builder's deb afterRemove), called as `postrm remove`,
# `postrm purge`, `postrm upgrade NEW-VERSION` and on failed or aborted installs. Only remove
# and purge act: they take away what after-install.sh put in place (the engine was stopped by
# before-remove.sh); purge also deletes the engine's saved choices (/var/lib/clatbar). An upgrade
# leaves everything in place (after-install.sh of the new version restarts the engine). The
# group clatbar stays, as Debian leaves system groups, and so does /etc/clatbar (the admin's).
set -eu

case "${1:-}" in
  remove | purge) ;;
  *) exit 0 ;;
esac

rm -f /lib/systemd/system/clatbar-engine.service \
  /usr/lib/sysusers.d/clatbar.conf \
  /usr/lib/tmpfiles.d/clatbar.conf \
  /usr/share/polkit-1/rules.d/50-clatbar.rules \
  /etc/xdg/autostart/clatbar.desktop \
  /etc/NetworkManager/conf.d/90-clatbar.conf

if [ "$1" = purge ]; then
  rm -rf /var/lib/clatbar
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if systemctl is-active --quiet NetworkManager.service; then
    nmcli general reload conf
  fi
fi
