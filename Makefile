# Thin aliases for the scripts; the scripts are the source of truth.
#   make run                      -> scripts/run
#   make test ARGS="-k invite"    -> scripts/test -k invite
#   make ci                       -> .ci/run (installs packages and starts services; as root)

.PHONY: run test ci

run:
	scripts/run $(ARGS)

test:
	scripts/test $(ARGS)

ci:
	.ci/run
