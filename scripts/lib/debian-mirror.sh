# Sourced by the scripts that fetch Debian packages (scripts/reference-mdevctl.sh,
# scripts/deb-test-root.sh, libvirt-tests/root.sh): mirror prints the Debian mirror to use,
# MDEVCTL_DEB_MIRROR when set, else the first bookworm or trixie mirror of this machine's
# /etc/apt/sources.list* (one-line `deb URI SUITE ...` entries first, then deb822 `URIs:`/`Suites:`
# stanzas); the security archive is not a mirror of the main one.
mirror() {
  if [ -n "${MDEVCTL_DEB_MIRROR:-}" ]; then echo "$MDEVCTL_DEB_MIRROR"; return; fi
  local m
  m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 ~ / (bookworm|trixie)( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')"
  if [ -z "$m" ]; then
    m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
      awk 'BEGIN { RS = "" } /Suites:[^\n]* (bookworm|trixie)( |\n|$)/ && /URIs:/ { match($0, /URIs:[ \t]*[^ \t\n]+/); u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit }')"
  fi
  case "$m" in *debian-security*|"") m=http://deb.debian.org/debian ;; esac
  echo "$m"
}
