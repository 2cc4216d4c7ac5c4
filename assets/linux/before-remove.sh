#!/bin/sh
# Debian prerm of clatbar (fpm --before-remove, electron-builder.yml deb.fpm), called as
# `prerm remove`, `prerm upgrade NEW-VERSION`, `prerm deconfigure ...` or `prerm failed-upgrade`.
# On removal the engine is stopped while its program is still installed: it undoes its changes
# to the network on SIGTERM, and the unit's ExecStopPost replays its journal. On an upgrade it
# keeps running; after-install.sh restarts it on the new version.
set -eu

case "${1:-}" in
  remove | deconfigure)
    if [ -d /run/systemd/system ]; then
      systemctl stop clatbar-engine.service
    fi
    systemctl disable clatbar-engine.service
    ;;
  *) ;;
esac
