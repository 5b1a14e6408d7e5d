#!/usr/bin/env bash
# Prepares the local RabbitMQ (3.10, run as root) to stand in for an ApsaraMQ for MQTT instance's
# AMQP endpoint of client status notices (docs/status-notices.md):
#   - starts RabbitMQ when nothing answers, and waits for it;
#   - the virtual host MQTT, guest allowed on it, and the durable queue STATUS in it;
#   - rabbitmq_auth_backend_http enabled and asked about every login the internal backend does not
#     know: the signed server-SDK logins, which src/local/amqp-auth-endpoint.ts checks.
#
# Usage: scripts/prepare-rabbitmq.sh [AUTH_URL]   (default http://127.0.0.1:15680/auth)
#        scripts/prepare-rabbitmq.sh --restore    (auth_backends back to the internal one alone)
#
# Idempotent. The auth settings are runtime only (application:set_env): a broker restart forgets
# them, so run this again after one. Environment: AMQP_SETUP_URL, the guest URL used to declare the
# queue (default amqp://guest:guest@127.0.0.1:5672/MQTT); STATUS_QUEUE (default STATUS).
set -euo pipefail

readonly DEFAULT_AUTH_URL='http://127.0.0.1:15680/auth'
readonly VHOST='MQTT'
readonly QUEUE="${STATUS_QUEUE:-STATUS}"
readonly SETUP_URL="${AMQP_SETUP_URL:-amqp://guest:guest@127.0.0.1:5672/${VHOST}}"
readonly STARTUP_TIMEOUT_S=60
cd "$(dirname "$0")/.."

fail() { echo "prepare-rabbitmq: $*" >&2; exit 1; }

# Runs a command quietly; on failure prints what it said and stops.
quietly() {
  local output
  if ! output="$("$@" 2>&1)"; then
    fail "'$*' failed: ${output}"
  fi
}

running() { rabbitmqctl -q ping >/dev/null 2>&1; }

ensure_running() {
  command -v rabbitmqctl >/dev/null || fail 'rabbitmqctl not found: install rabbitmq-server'
  running && return 0
  echo 'prepare-rabbitmq: RabbitMQ is not answering; starting it (rabbitmq-server -detached)'
  quietly rabbitmq-server -detached
  # await_startup needs the Erlang node up first: poll ping, then wait for the rabbit app itself.
  local deadline=$((SECONDS + STARTUP_TIMEOUT_S))
  until running; do
    ((SECONDS < deadline)) || fail "RabbitMQ did not answer within ${STARTUP_TIMEOUT_S} s (see /var/log/rabbitmq/)"
    sleep 0.5
  done
  quietly rabbitmqctl -q await_startup --timeout "${STARTUP_TIMEOUT_S}"
}

set_auth_backends() {
  quietly rabbitmqctl -q eval "application:set_env(rabbit, auth_backends, $1)."
}

if [[ "${1:-}" == '--restore' ]]; then
  (($# == 1)) || fail 'usage: prepare-rabbitmq.sh --restore'
  running || fail 'RabbitMQ is not running: nothing to restore'
  set_auth_backends '[rabbit_auth_backend_internal]'
  exit 0
fi

(($# <= 1)) || fail 'usage: prepare-rabbitmq.sh [AUTH_URL] | --restore'
auth_url="${1:-$DEFAULT_AUTH_URL}"
auth_url="${auth_url%/}"
# The URL goes into an Erlang string literal: refuse anything that could end it.
[[ "$auth_url" =~ ^https?://[A-Za-z0-9._~:/@%+=,-]+$ ]] || fail "AUTH_URL must be a plain http(s) URL; got '${auth_url}'"

ensure_running

# Through amqplib (a dependency of this repository): rabbitmqadmin needs the management plugin, and a
# guest connection to MQTT that declares the queue is also the cheapest check that the vhost and
# guest's permissions are there (each rabbitmqctl call costs a second or more: it starts an Erlang VM).
# The consumer never declares STATUS itself: the cloud owns it, and the SDK only consumes from it.
command -v node >/dev/null || fail 'node not found: it declares the queue (through amqplib)'
declare_queue() {
  node -e '
    const amqp = require("amqplib");
    (async () => {
      const connection = await amqp.connect(process.argv[1]);
      const channel = await connection.createChannel();
      await channel.assertQueue(process.argv[2], { durable: true });
      await connection.close();
    })().catch((error) => { console.error(error.message); process.exit(1); });
  ' "$SETUP_URL" "$QUEUE" 2>&1
}
# Before `npm ci` (as .ci/run runs it) amqplib is not installed yet: then the vhost and permissions
# are made with rabbitmqctl, and the queue is left to the first publisher, which asserts it.
if [[ -d node_modules/amqplib ]] && declare_queue >/dev/null; then
  :
else
  if ! rabbitmqctl -q list_vhosts name | grep -qx "$VHOST"; then
    quietly rabbitmqctl -q add_vhost "$VHOST"
  fi
  quietly rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*'
  if [[ -d node_modules/amqplib ]]; then
    quietly declare_queue
  else
    echo "prepare-rabbitmq: queue ${QUEUE} not declared (amqplib is not installed yet: npm ci); the local instance's publisher declares it"
  fi
fi

# One eval when the plugin already runs; `rabbitmq-plugins enable` (about 6 s) only when it does not.
point_http_backend() {
  rabbitmqctl -q eval "
    case lists:keymember(rabbitmq_auth_backend_http, 1, application:which_applications()) of
      false -> plugin_not_running;
      true ->
        application:set_env(rabbitmq_auth_backend_http, http_method, post),
        application:set_env(rabbitmq_auth_backend_http, user_path, \"${auth_url}/user\"),
        application:set_env(rabbitmq_auth_backend_http, vhost_path, \"${auth_url}/vhost\"),
        application:set_env(rabbitmq_auth_backend_http, resource_path, \"${auth_url}/resource\"),
        application:set_env(rabbitmq_auth_backend_http, topic_path, \"${auth_url}/topic\"),
        application:set_env(rabbit, auth_backends, [rabbit_auth_backend_internal, rabbit_auth_backend_http])
    end." 2>&1
}
outcome="$(point_http_backend)" || fail "rabbitmqctl eval failed: ${outcome}"
if [[ "$outcome" == 'plugin_not_running' ]]; then
  quietly rabbitmq-plugins -q enable rabbitmq_auth_backend_http
  outcome="$(point_http_backend)" || fail "rabbitmqctl eval failed: ${outcome}"
fi
[[ "$outcome" == 'ok' ]] || fail "could not point rabbitmq_auth_backend_http at ${auth_url}: ${outcome}"
