// Command controller is the stand-in for cert-manager's controller binary
// (quay.io/jetstack/cert-manager-controller). Everything that issues, renews
// and stores certificates is cert-manager v1.21.2's own code: its controllers
// (pkg/controller/...), its issuers (pkg/issuer/...), its configuration type
// with upstream's defaults and validation. What is ours is only this command:
// upstream's command lives in a nested module the Go module proxy cannot serve
// (see ../go.mod and test/cluster/images/cert-manager-controller/FACTS.md).
//
// It takes the flags the lab's rendered Deployment passes
// (dist/lab/01-cert-manager.yaml) under upstream's names, and refuses any
// other, so a setting this command would silently ignore cannot slip through.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/controller/scheme"
	configv1alpha1 "github.com/cert-manager/cert-manager/internal/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/internal/apis/config/controller/validation"
	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	"github.com/cert-manager/cert-manager/internal/pem"
	"github.com/cert-manager/cert-manager/lab-to-prod-stand-ins/command"
	publicv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	// Each of these registers its controllers or issuer type with
	// controller.Known() when imported, as the upstream command imports them.
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"
)

func main() {
	command.Main("controller", cmdutil.GracefulShutdown, "cert-manager controller stopped", func(ctx context.Context, args []string) error {
		cfg, err := parseFlags(args)
		if err != nil {
			return err
		}
		return run(ctx, cfg)
	})
}

// parseFlags starts from upstream's defaults (the versioned configuration type
// defaulted by its scheme, as a configuration file would be), applies the
// flags, and validates the result with upstream's validation.
func parseFlags(args []string) (*config.ControllerConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	versioned := &publicv1alpha1.ControllerConfiguration{}
	scheme.Default(versioned)
	cfg := &config.ControllerConfiguration{}
	if err := scheme.Convert(versioned, cfg, nil); err != nil {
		return nil, err
	}

	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	fs.StringVar(&cfg.KubeConfig, "kubeconfig", cfg.KubeConfig, "kubeconfig file; in a pod, the service account is used")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "watch only this namespace (ClusterIssuers are then off)")
	fs.StringVar(&cfg.ClusterResourceNamespace, "cluster-resource-namespace", cfg.ClusterResourceNamespace, "namespace of the Secrets that ClusterIssuers refer to")
	fs.BoolVar(&cfg.LeaderElectionConfig.Enabled, "leader-elect", cfg.LeaderElectionConfig.Enabled, "take part in leader election")
	fs.StringVar(&cfg.LeaderElectionConfig.Namespace, "leader-election-namespace", cfg.LeaderElectionConfig.Namespace, "namespace of the leader election Lease")
	fs.StringSliceVar(&cfg.Controllers, "controllers", cfg.Controllers, "controllers to run: '*' for the default set, '-name' to leave one out")
	fs.StringVar(&cfg.ACMEHTTP01Config.SolverImage, "acme-http01-solver-image", cfg.ACMEHTTP01Config.SolverImage, "image of the ACME HTTP-01 solver pods")
	fs.IntVar(&cfg.MaxConcurrentChallenges, "max-concurrent-challenges", cfg.MaxConcurrentChallenges, "ACME challenges processed at once")
	fs.StringVar(&cfg.MetricsListenAddress, "metrics-listen-address", cfg.MetricsListenAddress, "address of the Prometheus metrics endpoint (plain HTTP)")
	fs.StringVar(&cfg.HealthzListenAddress, "healthz-listen-address", cfg.HealthzListenAddress, "address of the liveness endpoint")
	logf.AddFlags(&cfg.Logging, fs) // -v and the other logging flags, as upstream's
	if err := command.ParseFlags(fs, args, "this stand-in takes only the flags --help lists; see FACTS.md"); err != nil {
		return nil, err
	}
	if errs := validation.ValidateControllerConfiguration(cfg, nil); len(errs) > 0 {
		return nil, fmt.Errorf("invalid flags: %w", errs.ToAggregate())
	}
	if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
		return nil, fmt.Errorf("invalid logging flags: %w", err)
	}
	return cfg, nil
}

// enabledControllers reads --controllers as upstream documents it: '*' is the
// default set (also when only removals are given), 'name' adds one, '-name'
// removes one whatever its place in the list; with --namespace, the
// cluster-scoped controllers (ClusterIssuers) are off.
func enabledControllers(cfg *config.ControllerConfiguration) sets.Set[string] {
	enabled, removed := sets.New[string](), sets.New[string]()
	for _, name := range cfg.Controllers {
		switch {
		case name == "*":
			enabled.Insert(configv1alpha1.DefaultEnabledControllers...)
		case strings.HasPrefix(name, "-"):
			removed.Insert(strings.TrimPrefix(name, "-"))
		default:
			enabled.Insert(name)
		}
	}
	if enabled.Len() == 0 && removed.Len() > 0 {
		enabled.Insert(configv1alpha1.DefaultEnabledControllers...)
	}
	if cfg.Namespace != "" {
		enabled.Delete(configv1alpha1.ClusterScopedControllers...)
	}
	return enabled.Difference(removed)
}

func run(ctx context.Context, cfg *config.ControllerConfiguration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := logf.FromContext(ctx)
	version := util.VersionInfo()
	log.Info("starting cert-manager controller (lab-to-prod stand-in command)", "version", version.GitVersion, "go_version", version.GoVersion)

	limits := cfg.PEMSizeLimitsConfig
	pem.SetGlobalSizeLimits(pem.NewSizeLimitsFromConfig(limits.MaxCertificateSize, limits.MaxPrivateKeySize, limits.MaxChainLength, limits.MaxBundleSize))

	factory, err := contextFactory(ctx, cfg)
	if err != nil {
		return err
	}
	cmctx, err := factory.Build()
	if err != nil {
		return err
	}
	enabled := enabledControllers(cfg)
	log.Info("enabled controllers", "controllers", sets.List(enabled))

	g, ctx := errgroup.WithContext(ctx)
	var lc net.ListenConfig

	// Metrics: plain HTTP, as upstream serves them when no TLS is configured.
	metricsListener, err := lc.Listen(ctx, "tcp", cfg.MetricsListenAddress)
	if err != nil {
		return fmt.Errorf("metrics address %s: %w", cfg.MetricsListenAddress, err)
	}
	cmctx.Metrics.SetupACMECollector(cmctx.SharedInformerFactory.Acme().V1().Challenges().Lister())
	cmctx.Metrics.SetupCertificateCollector(cmctx.SharedInformerFactory.Certmanager().V1().Certificates().Lister())
	cmctx.Metrics.SetupIssuerCollector(cmctx.SharedInformerFactory.Certmanager().V1().Issuers().Lister())
	if enabled.Has(clusterissuers.ControllerName) {
		cmctx.Metrics.SetupClusterIssuerCollector(cmctx.SharedInformerFactory.Certmanager().V1().ClusterIssuers().Lister())
	}
	metrics := cmctx.Metrics.NewServer(metricsListener)
	g.Go(func() error {
		if err := metrics.Serve(metricsListener); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		return metrics.Shutdown(shutdown)
	})

	// Liveness (/livez on the http-healthz port the Deployment probes), fed by leader election.
	healthzListener, err := lc.Listen(ctx, "tcp", cfg.HealthzListenAddress)
	if err != nil {
		return fmt.Errorf("healthz address %s: %w", cfg.HealthzListenAddress, err)
	}
	healthzServer := healthz.NewServer(cfg.LeaderElectionConfig.HealthzTimeout)
	g.Go(func() error { return healthzServer.Start(ctx, healthzListener) })

	elected := make(chan struct{})
	if cfg.LeaderElectionConfig.Enabled {
		g.Go(func() error { return leaderElection(ctx, cfg, factory, healthzServer, elected) })
	} else {
		close(elected)
	}
	select {
	case <-ctx.Done():
		return g.Wait()
	case <-elected:
	}

	for name, construct := range controller.Known() {
		if !enabled.Has(name) {
			continue
		}
		c, err := construct(factory)
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("controller %s: %w", name, err), g.Wait())
		}
		g.Go(func() error { return c.Run(cfg.NumberOfConcurrentWorkers, ctx) })
	}
	cmctx.SharedInformerFactory.Start(ctx.Done())
	cmctx.KubeSharedInformerFactory.Start(ctx.Done())
	cmctx.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	err = g.Wait()
	cmctx.HTTP01ResourceMetadataInformersFactory.Shutdown()
	cmctx.KubeSharedInformerFactory.Shutdown()
	cmctx.SharedInformerFactory.Shutdown()
	return err
}

// contextFactory hands the configuration to cert-manager's controller context,
// field for field.
func contextFactory(ctx context.Context, cfg *config.ControllerConfiguration) (*controller.ContextFactory, error) {
	quantity := func(field, value string) (resource.Quantity, error) {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return q, fmt.Errorf("ACME HTTP-01 solver %s %q: %w", field, value, err)
		}
		return q, nil
	}
	http01 := cfg.ACMEHTTP01Config
	requestCPU, err := quantity("CPU request", http01.SolverResourceRequestCPU)
	if err != nil {
		return nil, err
	}
	requestMemory, err := quantity("memory request", http01.SolverResourceRequestMemory)
	if err != nil {
		return nil, err
	}
	limitsCPU, err := quantity("CPU limit", http01.SolverResourceLimitsCPU)
	if err != nil {
		return nil, err
	}
	limitsMemory, err := quantity("memory limit", http01.SolverResourceLimitsMemory)
	if err != nil {
		return nil, err
	}
	nameservers := cfg.ACMEDNS01Config.RecursiveNameservers
	if len(nameservers) == 0 {
		nameservers = dnsutil.RecursiveNameservers
	}
	return controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         cfg.KubeConfig,
		KubernetesAPIQPS:   cfg.KubernetesAPIQPS,
		KubernetesAPIBurst: cfg.KubernetesAPIBurst,
		APIServerHost:      cfg.APIServerHost,
		Namespace:          cfg.Namespace,
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverResourceRequestCPU:    requestCPU,
			HTTP01SolverResourceRequestMemory: requestMemory,
			HTTP01SolverResourceLimitsCPU:     limitsCPU,
			HTTP01SolverResourceLimitsMemory:  limitsMemory,
			ACMEHTTP01SolverRunAsNonRoot:      http01.SolverRunAsNonRoot,
			HTTP01SolverImage:                 http01.SolverImage,
			HTTP01SolverNameservers:           http01.SolverNameservers,
			HTTP01SolverExtraLabels:           http01.SolverExtraLabels,
			HTTP01SolverRuntimeClassName:      http01.SolverRuntimeClassName,
			DNS01Nameservers:                  nameservers,
			DNS01CheckRetryPeriod:             cfg.ACMEDNS01Config.CheckRetryPeriod,
			DNS01CheckAuthoritative:           !cfg.ACMEDNS01Config.RecursiveNameserversOnly,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: cfg.MaxConcurrentChallenges},
		IssuerOptions: controller.IssuerOptions{
			ClusterIssuerAmbientCredentials: cfg.ClusterIssuerAmbientCredentials,
			IssuerAmbientCredentials:        cfg.IssuerAmbientCredentials,
			ClusterResourceNamespace:        cfg.ClusterResourceNamespace,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerName:                 cfg.IngressShimConfig.DefaultIssuerName,
			DefaultIssuerKind:                 cfg.IngressShimConfig.DefaultIssuerKind,
			DefaultIssuerGroup:                cfg.IngressShimConfig.DefaultIssuerGroup,
			DefaultAutoCertificateAnnotations: cfg.IngressShimConfig.DefaultAutoCertificateAnnotations,
			ExtraCertificateAnnotations:       cfg.IngressShimConfig.ExtraCertificateAnnotations,
			GatewayAPIExtraProtocols:          sets.New(cfg.GatewayAPIConfig.ExtraProtocols...),
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           cfg.EnableCertificateOwnerRef,
			CopiedAnnotationPrefixes:                 cfg.CopiedAnnotationPrefixes,
			CertificateRequestMinimumBackoffDuration: cfg.CertificateRequestMinimumBackoffDuration,
			CertificateRequestMaximumBackoffDuration: cfg.CertificateRequestMaximumBackoffDuration,
		},
	})
}

// leaderElection holds the Lease upstream's controller uses
// (cert-manager-controller in --leader-election-namespace) and closes elected
// once this process leads; losing the lease stops the process, as upstream.
func leaderElection(ctx context.Context, cfg *config.ControllerConfiguration, factory *controller.ContextFactory, healthzServer *healthz.Server, elected chan struct{}) error {
	leCtx, err := factory.Build("leader-election")
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("hostname for the leader election identity: %w", err)
	}
	lock, err := resourcelock.NewWithLabels(resourcelock.LeasesResourceLock,
		cfg.LeaderElectionConfig.Namespace, "cert-manager-controller",
		leCtx.Client.CoreV1(), leCtx.Client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: host + "-external-cert-manager-controller", EventRecorder: leCtx.Recorder},
		map[string]string{"app.kubernetes.io/managed-by": "cert-manager"})
	if err != nil {
		return fmt.Errorf("leader election lock: %w", err)
	}
	lost := make(chan error, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   cfg.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:   cfg.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:     cfg.LeaderElectionConfig.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        healthzServer.LeaderHealthzAdaptor,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost <- errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	elector.Run(ctx)
	select {
	case err := <-lost:
		return err
	default:
		return nil
	}
}
