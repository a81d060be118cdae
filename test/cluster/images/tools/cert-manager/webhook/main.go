// Command webhook is the stand-in for cert-manager's webhook binary
// (quay.io/jetstack/cert-manager-webhook): the admission webhook that
// validates, defaults and converts cert-manager's resources. The server, its
// admission chain, its dynamically issued serving certificate and every flag
// are cert-manager v1.21.2's own (internal/webhook, pkg/webhook/options); what
// is ours is only this command, because upstream's lives in a nested module
// the Go module proxy cannot serve (see ../go.mod and
// test/cluster/images/cert-manager-webhook/FACTS.md).
package main

import (
	"context"
	"fmt"

	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	"github.com/cert-manager/cert-manager/lab-to-prod-stand-ins/command"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"
	"github.com/spf13/pflag"
)

func main() {
	command.Main("webhook", cmdutil.GracefulShutdown, "cert-manager webhook stopped", run)
}

func run(ctx context.Context, args []string) error {
	cfg, err := options.NewWebhookConfiguration() // upstream's defaults
	if err != nil {
		return err
	}
	fs := pflag.NewFlagSet("webhook", pflag.ContinueOnError)
	options.AddConfigFlags(fs, cfg) // upstream's flags, --v among them
	if err := command.ParseFlags(fs, args, "this stand-in takes the flags --help lists; a --config file is not read, see FACTS.md"); err != nil {
		return err
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates); err != nil {
		return fmt.Errorf("--feature-gates: %w", err)
	}
	if errs := validation.ValidateWebhookConfiguration(cfg, nil); len(errs) > 0 {
		return fmt.Errorf("invalid flags: %w", errs.ToAggregate())
	}
	if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
		return fmt.Errorf("invalid logging flags: %w", err)
	}

	log := logf.FromContext(ctx)
	version := util.VersionInfo()
	log.Info("starting cert-manager webhook (lab-to-prod stand-in command)", "version", version.GitVersion, "go_version", version.GoVersion)
	server, err := cmwebhook.NewCertManagerWebhookServer(log, *cfg)
	if err != nil {
		return err
	}
	return server.Run(ctx)
}
