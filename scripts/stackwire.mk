# stackwire.mk: `make deploy`, `make preview` and `make health` for a repository whose stacks
# are mapped by stackwire (stacks/<stack>.yaml).
#
# Include it from the repository's Makefile:
#
#     include scripts/stackwire.mk
#
# and run:
#
#     make deploy STACK=production      # pulumi up, then render, sync and health checks
#     make preview STACK=production     # pulumi preview only
#     make health STACK=production      # the health checks only
#     make deploy STACK=production PULUMI_ARGS='--refresh --message "release 1.4"'
#
# Variables (on the command line or from the environment):
#   STACK            which stacks/$(STACK).yaml; empty = the only mapping file in stacks/
#   STACKWIRE        the stackwire binary (default: stackwire on PATH)
#   STACKWIRE_FLAGS  global flags, before the command: -v, -q, -C DIR, --pulumi PATH
#   PULUMI_ARGS      extra arguments for `pulumi up`/`preview`, as shell words, passed unchanged
#                    (not --stack/-C: those come from the mapping)
#   DEPLOY_FLAGS     extra `deploy` flags: --skip-sync, --skip-health
#   HEALTH_FLAGS     extra `health` flags: --json, --only NAME
#
# Credentials come from the environment, never from here: PULUMI_CONFIG_PASSPHRASE (or
# PULUMI_CONFIG_PASSPHRASE_FILE), PULUMI_ACCESS_TOKEN or PULUMI_BACKEND_URL, GH_TOKEN for sync.
# STACKWIRE_PULUMI_TIMEOUT (seconds) bounds every pulumi call (default: 2 h for up, 120 s for reads).
#
# The exit code is stackwire's: 0 ok, 1 a health check failed, 2 invalid input (nothing was
# run), 3 pulumi or an external service failed.

STACKWIRE ?= stackwire
STACK ?=
STACKWIRE_FLAGS ?=
PULUMI_ARGS ?=
DEPLOY_FLAGS ?=
HEALTH_FLAGS ?=

stackwire_cmd = $(STACKWIRE) $(STACKWIRE_FLAGS) $(if $(STACK),--stack $(STACK))
stackwire_pulumi_args = $(if $(strip $(PULUMI_ARGS)),-- $(PULUMI_ARGS))

.PHONY: deploy preview health

## deploy: pulumi up, then render, sync and health checks (STACK=name)
deploy:
	$(stackwire_cmd) deploy $(DEPLOY_FLAGS) $(stackwire_pulumi_args)

## preview: pulumi preview, nothing else (STACK=name)
preview:
	$(stackwire_cmd) deploy --preview $(stackwire_pulumi_args)

## health: run the mapping's health checks (STACK=name)
health:
	$(stackwire_cmd) health $(HEALTH_FLAGS)
