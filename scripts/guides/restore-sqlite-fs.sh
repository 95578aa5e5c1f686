#!/usr/bin/env bash
# Restores a backup made by backup-sqlite-fs.sh into a new, empty data directory.
# Usage: restore-sqlite-fs.sh BACKUP_DIR NEW_DATA_DIR [OWNER]
# Start Wharf on NEW_DATA_DIR afterwards; `wharf migrate` first when the version is newer.
set -euo pipefail
backup=$1 data=$2 owner=${3:-}
[[ -f $backup/wharf.db && -f $backup/files.tar.gz ]] || { echo "$backup is not a backup" >&2; exit 1; }
if [[ -e $data && -n $(ls -A "$data") ]]; then echo "$data is not empty: restore into a new directory" >&2; exit 1; fi
mkdir -p "$data"
chmod 700 "$data"
tar -C "$data" -xzf "$backup/files.tar.gz"
install -m 600 "$backup/wharf.db" "$data/wharf.db"
[[ -z $owner ]] || chown -R "$owner" "$data"
echo "restored $backup into $data"
