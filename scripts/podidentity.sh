#!/usr/bin/env bash
# Build the upstream pod identity webhook harness (e2e/podidentity/: a tiny main over
# github.com/aws/amazon-eks-pod-identity-webhook's handler) once, cache it, and print the binary's path.
# The parity test (emulator/tests/webhook_parity.rs) feeds it the same AdmissionReviews as the emulator.
#
#   IRSA_PODIDENTITY_BIN=$(scripts/podidentity.sh)
exec "$(dirname "$0")/go-build-cached.sh" e2e/podidentity podidentity
