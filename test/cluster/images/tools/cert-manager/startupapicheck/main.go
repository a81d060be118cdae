// Command startupapicheck is the stand-in for cert-manager's startup API
// check (quay.io/jetstack/cert-manager-startupapicheck), the Job that waits
// until cert-manager's API answers: `startupapicheck check api --wait=1m`.
// The check itself is cert-manager v1.21.2's (pkg/util/cmapichecker: a
// dry-run create of a v1 Certificate, which needs the CRDs installed and the
// webhook reachable from the API server). What is ours is only this command,
// because upstream's lives in a nested module the Go module proxy cannot serve
// (see ../go.mod and test/cluster/images/cert-manager-startupapicheck/FACTS.md).
package main

import (
	"context"
	"fmt"
	"time"

	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	"github.com/cert-manager/cert-manager/lab-to-prod-stand-ins/command"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/cmapichecker"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/component-base/logs"
)

const usage = `startupapicheck check api [--wait=DURATION] [--interval=DURATION] [--kubeconfig=FILE] [--namespace=NAME] [-v[=LEVEL]]

Checks that the cert-manager API is ready: a dry-run create of a v1 Certificate
succeeds, so the CRDs are installed and the webhooks answer the API server.
--wait keeps trying for that long (0, the default: try once).
`

func main() {
	// As upstream: any failure, a timeout included, exits non-zero.
	command.Main("startupapicheck", cmdutil.AlwaysErrCode, "error executing command", run)
}

func run(ctx context.Context, args []string) error {
	if len(args) < 2 || args[0] != "check" || args[1] != "api" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Print(usage)
			return pflag.ErrHelp
		}
		return fmt.Errorf("arguments %q: the one command is 'check api'\n%s", args, usage)
	}
	var waitFor, interval time.Duration
	var kubeconfig, namespace string
	logOptions := logs.NewOptions()
	fs := pflag.NewFlagSet("check api", pflag.ContinueOnError)
	fs.DurationVar(&waitFor, "wait", 0, "keep trying for this long (0: try once)")
	fs.DurationVar(&interval, "interval", 5*time.Second, "time between tries")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; in a pod, the service account is used")
	fs.StringVarP(&namespace, "namespace", "n", "", "namespace of the dry-run Certificate; in a pod, the pod's")
	logf.AddFlagsNonDeprecated(logOptions, fs)
	// Upstream lets a bare -v mean -v=2, the level the check's progress is logged at.
	fs.Lookup("v").NoOptDefVal = "2"
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if err := logf.ValidateAndApply(logOptions); err != nil {
		return fmt.Errorf("invalid logging flags: %w", err)
	}

	// As kubectl finds its configuration: --kubeconfig, $KUBECONFIG, ~/.kube/config, and in a
	// pod the service account (and the pod's namespace).
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: namespace}})
	restConfig, err := loader.ClientConfig()
	if err != nil {
		return fmt.Errorf("API server configuration: %w", err)
	}
	if namespace == "" {
		if namespace, _, err = loader.Namespace(); err != nil {
			return fmt.Errorf("namespace: %w", err)
		}
	}
	checker, err := cmapichecker.New(restConfig, namespace)
	if err != nil {
		return err
	}

	log := logf.FromContext(ctx, "checkAPI")
	start := time.Now()
	var last error
	err = wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		if err := checker.Check(ctx); err != nil {
			last = err
			if simple := cmapichecker.TranslateToSimpleError(err); simple != nil {
				last = simple
			}
			log.V(2).Info("Not ready", "err", last)
			if time.Since(start) > waitFor {
				return false, context.DeadlineExceeded
			}
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		if last == nil {
			return err
		}
		return last
	}
	fmt.Println("The cert-manager API is ready")
	return nil
}
