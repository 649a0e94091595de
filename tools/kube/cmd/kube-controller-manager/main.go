// Command kube-controller-manager is upstream kube-controller-manager (Job, ReplicaSet, Deployment controllers for the tests).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
