// Command kubeadm is upstream's kubeadm main (k8s.io/kubernetes/cmd/kubeadm):
// kind runs it inside the node to bootstrap the cluster (offline kind node
// image, scripts/kind-node-image.sh).
package main

import (
	"k8s.io/kubernetes/cmd/kubeadm/app"
	utilerrors "k8s.io/kubernetes/cmd/kubeadm/app/util/errors"
)

func main() {
	utilerrors.HandleError(app.Run())
}
