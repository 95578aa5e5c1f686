#!/usr/bin/env bash
# Installs Wharf as a systemd service run by an unprivileged user; docs/guides/running-as-a-service.md.
# Usage (as root): install-service.sh [--root DIR] [--user NAME] [--no-start]
#   --root DIR   install under DIR instead of / (a dry run to inspect, or a test)
#   --user NAME  the service user (default: wharf, created as a system user when missing)
#   --no-start   do not run systemctl (no systemd, or --root given)
set -euo pipefail
root='' user=wharf start=1
while (($#)); do
  case $1 in
    --root) root=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
wharf=$(cd "$here/../.." && pwd)
node=$(command -v node)
config=/etc/wharf data=/var/lib/wharf

if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --home-dir "$data" --no-create-home --shell /usr/sbin/nologin "$user"
fi
group=$(id -gn "$user")

# The data directory: the service user's only (database, blobs, keys).
install -d -m 0700 -o "$user" -g "$group" "$root$data"
# The configuration: root's, readable by the service (it holds secrets: 0640, never world).
install -d -m 0750 -o root -g "$group" "$root$config"
if [[ ! -f $root$config/wharf.yaml ]]; then
  install -m 0640 -o root -g "$group" /dev/null "$root$config/wharf.yaml"
  cat > "$root$config/wharf.yaml" <<YAML
dataDir: $root$data
server:
  listen: 127.0.0.1:5000
YAML
fi
if [[ ! -f $root$config/wharf.env ]]; then
  # Read once, at the first start, to create the administrator; remove it afterwards.
  install -m 0640 -o root -g "$group" /dev/null "$root$config/wharf.env"
  echo "WHARF_ADMIN_PASSWORD=$(openssl rand -base64 18)" > "$root$config/wharf.env"
fi
install -d "$root/etc/systemd/system"
sed -e "s|@NODE@|$node|" -e "s|@WHARF@|$wharf|" -e "s|@USER@|$user|" -e "s|@CONFIG@|$root$config|g" \
  -e "s|@DATA@|$root$data|" "$here/wharf.service" > "$root/etc/systemd/system/wharf.service"
echo "installed $root/etc/systemd/system/wharf.service (user $user, data $root$data, config $root$config)"

if ((start)); then
  systemctl daemon-reload
  systemctl enable --now wharf
  echo "started; the administrator's password is in $config/wharf.env"
fi
