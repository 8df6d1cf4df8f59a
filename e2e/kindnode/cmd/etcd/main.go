// Command etcd is etcd's own main (go.etcd.io/etcd/server/v3/main.go) at the
// version kubeadm expects for the Kubernetes version of ../../../controlplane
// (registry.k8s.io/etcd:<version>-0 in the offline kind node image).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
