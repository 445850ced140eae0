#!/bin/sh
# Entrypoint of the bridge image (under tini): fills shared secrets, then runs the command.
#
# With SHARED_SECRETS_DIR set (the compose prod profile mounts one volume there in every replica), an unset
# CUSTOMER_TOKEN_SECRET or ADMIN_API_KEY is read from that directory, and the first replica to start creates it.
# Replicas must agree on both: a token minted through one has to verify on the other. Values set in the
# environment always win; without SHARED_SECRETS_DIR nothing changes.
set -eu

shared_secret() { # <file name> <random bytes>
  file="$SHARED_SECRETS_DIR/$1"
  if [ ! -s "$file" ]; then
    tmp=$(mktemp "$SHARED_SECRETS_DIR/.new.XXXXXX")
    node -e "process.stdout.write(require('node:crypto').randomBytes($2).toString('base64url'))" >"$tmp"
    # A hard link appears whole or not at all: when replicas race, the first link wins and the others read it.
    ln "$tmp" "$file" 2>/dev/null || true
    rm -f "$tmp"
  fi
  cat "$file"
}

if [ -n "${SHARED_SECRETS_DIR:-}" ]; then
  umask 077
  : "${CUSTOMER_TOKEN_SECRET:=$(shared_secret customer_token_secret 32)}"
  : "${ADMIN_API_KEY:=$(shared_secret admin_api_key 24)}"
  export CUSTOMER_TOKEN_SECRET ADMIN_API_KEY
fi

exec "$@"
