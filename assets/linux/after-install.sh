#!/bin/sh
# Debian postinst of clatbar (electron-builder's deb afterInstall), called as
# `postinst configure [OLD-VERSION]`: puts the engine's unit and the integration files shipped in
# the package in place, creates the group and directories, then starts the engine on a first
# install and restarts it on an upgrade. Any failure fails the installation: an engine that is
# half set up must not look installed.
set -eu

RES=/opt/clatbar/resources/assets/linux
# SOURCE DESTINATION, one per line; after-remove.sh removes the same destinations.
FILES="
clatbar-engine.service /lib/systemd/system/clatbar-engine.service
sysusers-clatbar.conf /usr/lib/sysusers.d/clatbar.conf
tmpfiles-clatbar.conf /usr/lib/tmpfiles.d/clatbar.conf
50-clatbar.rules /usr/share/polkit-1/rules.d/50-clatbar.rules
clatbar-autostart.desktop /etc/xdg/autostart/clatbar.desktop
networkmanager-clatbar.conf /etc/NetworkManager/conf.d/90-clatbar.conf
"

[ "${1:-configure}" = configure ] || exit 0
old_version=${2:-}

echo "$FILES" | while read -r src dst; do
  [ -n "$src" ] || continue
  install -D -m 0644 "$RES/$src" "$dst"
done

systemd-sysusers clatbar.conf
systemd-tmpfiles --create clatbar.conf

# The user who installed clatbar with sudo may change its state from the app: into the group
# (effective at their next login). Installed another way, README says how: adduser USER clatbar.
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && id "$SUDO_USER" >/dev/null 2>&1; then
  adduser --quiet "$SUDO_USER" clatbar
  echo "clatbar: added $SUDO_USER to the group clatbar (log in again for it to count)"
fi

# Starting needs a running systemd (not in a chroot or an image build).
running=no
[ -d /run/systemd/system ] && running=yes
[ $running = yes ] && systemctl daemon-reload
if [ -z "$old_version" ]; then
  # First install: on at boot from now on, and now. An upgrade keeps the admin's choice.
  systemctl enable clatbar-engine.service
  [ $running = no ] || systemctl start clatbar-engine.service
else
  [ $running = no ] || systemctl try-restart clatbar-engine.service
fi
if [ $running = yes ] && systemctl is-active --quiet NetworkManager.service; then
  nmcli general reload conf
fi
