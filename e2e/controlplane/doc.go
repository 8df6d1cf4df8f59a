// Package controlplane holds nothing: the module exists to pin the versions of
// the kube-apiserver and etcd binaries built from cmd/ for the e2e tests
// (see scripts/controlplane.sh).
package controlplane
