#!/bin/sh
# One-shot service `db-certs` of docker-compose.yml: a private CA and the PostgreSQL server certificate for the
# name "postgres" (the service name in DATABASE_URL), made once per volume. The API trusts only this CA
# (DB_SSL_CA) and checks the name (DB_SSL_MODE=verify-full). The CA key is deleted after signing: a new
# volume makes a new CA. Bring your own certificates by filling the volume with ca.crt, server.crt, server.key.
set -eu
cd /certs
if [ -f ca.crt ] && [ -f server.crt ] && [ -f server.key ]; then
  echo "db-certs: certificates present"
  exit 0
fi
apk add --no-cache openssl >/dev/null
EC="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $EC -keyout ca.key -out ca.crt -days 3650 -subj "/CN=Hearth compose database CA"
openssl req $EC -keyout server.key -out server.csr -subj "/CN=postgres"
printf 'subjectAltName=DNS:postgres\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 825 -extfile server.ext
rm -f ca.key ca.srl server.csr server.ext
# The postgres image runs the server as uid 999 and refuses a key that others can read.
chown 999:999 server.key server.crt
chmod 600 server.key
chmod 644 ca.crt server.crt
echo "db-certs: made a CA and a certificate for postgres"
