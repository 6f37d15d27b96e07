#!/usr/bin/env bash
# Installs Mesa's lavapipe (software Vulkan) from bookworm-backports so that Dawn finds an adapter on a
# machine without a GPU. Debian 12's own Mesa (22.3) gives Dawn no adapter; the backports Mesa (25.x) does.
# The backports source is derived from the machine's own Debian entry (the URIs of the `bookworm` suite
# in /etc/apt/sources.list.d/*.sources, or a `deb URI bookworm` line of sources.list): no host is written
# here. Exit status 0 when a lavapipe ICD is installed afterwards; non-zero (with the reason) otherwise.
set -uo pipefail

have_lavapipe() { ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && ldconfig -p | grep -q 'libvulkan.so.1'; }

mesa_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'; }

if have_lavapipe && [ "$(mesa_major)" -ge 24 ] 2>/dev/null; then
  echo "provision: lavapipe already installed (mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then echo "provision: not root, cannot apt-get install"; exit 1; fi

# The URIs and Signed-By of the deb822 stanza whose Suites list `bookworm` itself.
uri=""; key=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  read -r uri key < <(awk '
    function flush() { if (isbw && u != "") { print u, (k == "" ? "-" : k); found = 1; exit } u = ""; k = ""; isbw = 0 }
    /^[[:space:]]*$/ { flush(); next }
    /^URIs:/ { u = $2 }
    /^Signed-By:/ { k = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") isbw = 1 }
    END { if (!found) flush() }' "$f") || true
  [ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then echo "provision: no bookworm entry in the apt sources to derive bookworm-backports from"; exit 1; fi

{
  echo "Types: deb"
  echo "URIs: $uri"
  echo "Suites: bookworm-backports"
  echo "Components: main"
  [ -n "$key" ] && [ "$key" != "-" ] && echo "Signed-By: $key"
} > /etc/apt/sources.list.d/infodcl-bookworm-backports.sources

export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/tmp/provision-apt.log 2>&1 || { tail -n 5 /tmp/provision-apt.log; echo "provision: apt-get update failed"; exit 1; }
apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1 >>/tmp/provision-apt.log 2>&1 \
  || { tail -n 5 /tmp/provision-apt.log; echo "provision: apt-get install mesa-vulkan-drivers failed"; exit 1; }
if ! have_lavapipe; then echo "provision: installed, but no lavapipe ICD / libvulkan.so.1 found"; exit 1; fi
echo "provision: lavapipe installed (mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
