// Command etcd is etcd's own main (go.etcd.io/etcd/server/v3/main.go), built
// at the version pinned in ../../go.mod: the storage for the e2e kube-apiserver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
