#!/usr/bin/env bash
# Runs nginx in front of Wharf with TLS, from the guide's config (docs/guides/reverse-proxy.md).
# Usage: nginx-proxy.sh DIR LISTEN_PORT UPSTREAM_HOST:PORT
#   DIR holds everything (config, self-signed certificate, logs, pid); nginx runs in the
#   background until `nginx -p DIR -c DIR/nginx.conf -s quit`.
# A real host uses its own certificate and /etc/nginx/conf.d/wharf.conf instead.
set -euo pipefail
dir=$1 port=$2 upstream=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/logs"

# A self-signed certificate for 127.0.0.1 (clients then need --tls-verify=false or the CA).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null

sed -e "s|@UPSTREAM@|$upstream|" -e "s|@LISTEN@|127.0.0.1:$port|" -e "s|@SERVER_NAME@|127.0.0.1|" \
  -e "s|@CERT@|$dir/tls.crt|" -e "s|@KEY@|$dir/tls.key|" "$here/nginx-wharf.conf" > "$dir/wharf.conf"

# The main config a package would provide; only what a non-root, self-contained nginx needs.
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 256; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/wharf.conf;
}
CONF
nginx -t -q -p "$dir" -c "$dir/nginx.conf"
nginx -p "$dir" -c "$dir/nginx.conf"
echo "nginx on https://127.0.0.1:$port -> http://$upstream"
