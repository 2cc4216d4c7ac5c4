#!/usr/bin/env bash
# Renders the tray and app icons from their SVG sources (needs rsvg-convert: apt-get install librsvg2-bin).
# The PNGs are committed, so a build does not need this; rerun it after editing an SVG.
set -euo pipefail
cd "$(dirname "$0")/../assets/icons"
for svg in clatbar-*.svg; do
  base=${svg%.svg}
  rsvg-convert -w 22 -h 22 "$svg" -o "$base.png"
  rsvg-convert -w 44 -h 44 "$svg" -o "$base@2x.png"
done
mkdir -p app
for size in 16 32 48 64 128 256 512; do
  rsvg-convert -w $size -h $size clatbar-active.svg -o "app/${size}x${size}.png"
done
