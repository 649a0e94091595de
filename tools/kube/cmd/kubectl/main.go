// Command kubectl is upstream kubectl at the API server's version (no version skew), so the
// tests need none installed. Same as k8s.io/kubernetes/cmd/kubectl, minus the cloud auth plugins.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	// Verbosity first, as upstream does: kubectl logs while building its commands.
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
