#!/usr/bin/env bash
# Build e2e/gosdk (aws-sdk-go-v2's default config + STS GetCallerIdentity) once, cache it, print its path.
# The whole-flow test runs it with a pod's env to show aws-sdk-go-v2 assumes the role through the emulator.
#
#   IRSA_GOSDK_BIN=$(scripts/gosdk.sh)
exec "$(dirname "$0")/go-build-cached.sh" e2e/gosdk gosdk-whoami
