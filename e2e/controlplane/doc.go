// Package controlplane holds nothing: the module exists to pin the versions of
// the Kubernetes binaries built from cmd/ — kube-apiserver and etcd for the e2e
// tests' local control plane (scripts/controlplane.sh), and the kubelet,
// kubeadm and the other components of the offline kind node image
// (scripts/kind-node-image.sh) — all from the one k8s.io/kubernetes version.
package controlplane
