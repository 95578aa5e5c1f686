#!/usr/bin/env bash
# Backs up a running one-node Wharf (SQLite + fs storage); docs/guides/backup-restore.md.
# Usage: backup-sqlite-fs.sh DATA_DIR BACKUP_DIR
# Order matters: the database first, then the files. Every blob the database snapshot refers to
# was committed before the snapshot, so the later file copy holds it; blobs pushed in between
# are extra files, harmless (unreferenced). The files include the token signing key and the
# replication secret key: without them restored tokens and endpoint secrets are useless.
set -euo pipefail
data=$1 backup=$2
db=$data/wharf.db
[[ -f $db ]] || { echo "no SQLite database at $db" >&2; exit 1; }
mkdir -p "$backup"
chmod 700 "$backup"

# 1. The database, with SQLite's online backup (consistent while Wharf writes; WAL included).
sqlite3 "$db" ".backup '$backup/wharf.db'"
check=$(sqlite3 "$backup/wharf.db" 'PRAGMA integrity_check')
[[ $check == ok ]] || { echo "backup database failed its integrity check: $check" >&2; exit 1; }

# 2. Everything else in the data directory: blobs, keys (the live database files excluded).
tar -C "$data" --exclude=./wharf.db --exclude=./wharf.db-wal --exclude=./wharf.db-shm \
  -czf "$backup/files.tar.gz" .

echo "backed up $data to $backup ($(du -sh "$backup" | cut -f1))"
