#!/usr/bin/env bash
# Make the DejaVu fonts available for the weekly PDF (dashboard/report/weekly_pdf.py): it
# prints ✓/✗ lights, accents and dashes, which DejaVu Sans covers. Installs Debian's
# fonts-dejavu-core only when missing and we are root; never fails the build (without it
# the PDF falls back to the Vera font bundled with ReportLab, which lacks ✓ and ✗).
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [ -f "$FONT" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_fonts: installing Debian's fonts-dejavu-core (for the weekly PDF)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-dejavu-core; } \
    >/dev/null 2>&1 || echo "ensure_fonts: could not install fonts-dejavu-core" >&2
else
  echo "ensure_fonts: $FONT missing and not root; the PDF uses ReportLab's Vera font" >&2
fi
exit 0
