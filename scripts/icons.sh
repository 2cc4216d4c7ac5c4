#!/usr/bin/env bash
# Renders the tray and app icons from their SVG sources (needs rsvg-convert: apt-get install librsvg2-bin).
# The PNGs are committed, so a build does not need this; rerun it after editing an SVG.
#
# Tray: assets/icons/tray-src/STATE.svg (off, standby, active, attention) with colour placeholders,
# rendered for light panels (dark glyph) and dark panels (light glyph) at the sizes Linux trays
# ask for (16, 22, 24, 32, 48, each also @2x), plus macOS template images (black and alpha only;
# the menu bar tints them): STATE-THEME-SIZE[@2x].png and STATETemplate[@2x].png in assets/icons/tray/.
set -euo pipefail
cd "$(dirname "$0")/../assets/icons"
mkdir -p tray
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render() { # src theme fg on warn
  sed -e "s/@FG@/$3/g" -e "s/@ACCENT_ON@/$4/g" -e "s/@ACCENT_WARN@/$5/g" "$1" >"$tmp/icon.svg"
}
for src in tray-src/*.svg; do
  state=$(basename "$src" .svg)
  for theme in light dark; do
    if [ "$theme" = light ]; then render "$src" light '#333333' '#1a7f37' '#b35c00'; else render "$src" dark '#eeeeee' '#3fb950' '#f0a020'; fi
    for size in 16 22 24 32 48; do
      rsvg-convert -w $size -h $size "$tmp/icon.svg" -o "tray/$state-$theme-$size.png"
      rsvg-convert -w $((size * 2)) -h $((size * 2)) "$tmp/icon.svg" -o "tray/$state-$theme-$size@2x.png"
    done
  done
  render "$src" template '#000000' '#000000' '#000000'
  rsvg-convert -w 22 -h 22 "$tmp/icon.svg" -o "tray/${state}Template.png"
  rsvg-convert -w 44 -h 44 "$tmp/icon.svg" -o "tray/${state}Template@2x.png"
done
mkdir -p app
for size in 16 32 48 64 128 256 512; do
  rsvg-convert -w $size -h $size clatbar-active.svg -o "app/${size}x${size}.png"
done
