// Command cainjector is the stand-in for cert-manager's CA injector binary
// (quay.io/jetstack/cert-manager-cainjector): it writes the CA of a Secret or
// Certificate into the caBundle of webhook configurations, API services and
// CRDs annotated for it (the webhook's own configurations among them). The
// injectors are cert-manager v1.21.2's own (pkg/controller/cainjector), as are
// the configuration type, its defaults and validation; what is ours is only
// this command, because upstream's lives in a nested module the Go module
// proxy cannot serve (see ../go.mod and
// test/cluster/images/cert-manager-cainjector/FACTS.md).
//
// It takes the flags the lab's rendered Deployment passes
// (dist/lab/01-cert-manager.yaml) under upstream's names, and refuses any other.
package main

import (
	"context"
	"fmt"
	"time"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	"github.com/cert-manager/cert-manager/lab-to-prod-stand-ins/command"
	publicv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func main() {
	command.Main("cainjector", cmdutil.GracefulShutdown, "cert-manager cainjector stopped", func(ctx context.Context, args []string) error {
		ctrl.SetLogger(logf.Log) // controller-runtime's logs through cert-manager's logger
		cfg, err := parseFlags(args)
		if err != nil {
			return err
		}
		return run(ctx, cfg)
	})
}

// parseFlags starts from upstream's defaults (the versioned configuration
// type defaulted by its scheme), applies the flags and validates the result
// with upstream's validation.
func parseFlags(args []string) (*config.CAInjectorConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	versioned := &publicv1alpha1.CAInjectorConfiguration{}
	scheme.Default(versioned)
	cfg := &config.CAInjectorConfiguration{}
	if err := scheme.Convert(versioned, cfg, nil); err != nil {
		return nil, err
	}

	fs := pflag.NewFlagSet("cainjector", pflag.ContinueOnError)
	fs.StringVar(&cfg.KubeConfig, "kubeconfig", cfg.KubeConfig, "kubeconfig file; in a pod, the service account is used")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "watch only this namespace")
	fs.BoolVar(&cfg.LeaderElectionConfig.Enabled, "leader-elect", cfg.LeaderElectionConfig.Enabled, "take part in leader election")
	fs.StringVar(&cfg.LeaderElectionConfig.Namespace, "leader-election-namespace", cfg.LeaderElectionConfig.Namespace, "namespace of the leader election Lease")
	fs.StringVar(&cfg.MetricsListenAddress, "metrics-listen-address", cfg.MetricsListenAddress, "address of the Prometheus metrics endpoint (plain HTTP); '0' turns it off")
	logf.AddFlags(&cfg.Logging, fs) // -v and the other logging flags, as upstream's
	if err := command.ParseFlags(fs, args, "this stand-in takes only the flags --help lists; see FACTS.md"); err != nil {
		return nil, err
	}
	if errs := validation.ValidateCAInjectorConfiguration(cfg, nil); len(errs) > 0 {
		return nil, fmt.Errorf("invalid flags: %w", errs.ToAggregate())
	}
	if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
		return nil, fmt.Errorf("invalid logging flags: %w", err)
	}
	return cfg, nil
}

func run(ctx context.Context, cfg *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx)
	version := util.VersionInfo()
	log.Info("starting cert-manager ca-injector (lab-to-prod stand-in command)", "version", version.GitVersion, "go_version", version.GoVersion)

	restConfig, err := clientcmd.BuildConfigFromFlags("", cfg.KubeConfig)
	if err != nil {
		return fmt.Errorf("API server configuration: %w", err)
	}
	restConfig = util.RestConfigWithUserAgent(restConfig, "cainjector")

	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))

	var namespaces map[string]cache.Config
	if cfg.Namespace != "" {
		namespaces = map[string]cache.Config{cfg.Namespace: {}}
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: namespaces},
		// Secrets are read directly, never cached: the injector must not hold
		// every Secret of the cluster in memory.
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:                cfg.LeaderElectionConfig.Enabled,
		LeaderElectionNamespace:       cfg.LeaderElectionConfig.Namespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionLabels:          map[string]string{"app.kubernetes.io/managed-by": "cert-manager-cainjector"},
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &cfg.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:                 &cfg.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:                   &cfg.LeaderElectionConfig.RetryPeriod,
		Metrics:                       metricsserver.Options{BindAddress: cfg.MetricsListenAddress},
	})
	if err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}

	if cfg.EnableDataSourceConfig.Certificates {
		if err := waitForCertificatesCRD(ctx, mgr); err != nil {
			return err
		}
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    cfg.Namespace,
		IgnoreNamespaces:             cfg.IgnoreNamespaces,
		EnableCertificatesDataSource: cfg.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   cfg.EnableInjectableConfig.MutatingWebhookConfigurations,
			cainjector.ValidatingWebhookConfigurationName: cfg.EnableInjectableConfig.ValidatingWebhookConfigurations,
			cainjector.APIServiceName:                     cfg.EnableInjectableConfig.APIServices,
			cainjector.CustomResourceDefinitionName:       cfg.EnableInjectableConfig.CustomResourceDefinitions,
		},
	})
	if err != nil {
		return fmt.Errorf("registering the injectors: %w", err)
	}
	return mgr.Start(ctx)
}

// waitForCertificatesCRD waits (up to 5 minutes) for cert-manager's
// Certificate CRD: the injectors that read Certificates need its informer,
// and the CRDs may be applied after this Deployment.
func waitForCertificatesCRD(ctx context.Context, mgr ctrl.Manager) error {
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	log := logf.FromContext(ctx)
	return wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		var crd apiext.CustomResourceDefinition
		err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &crd)
		if apierrors.IsNotFound(err) {
			log.Info("waiting for the CRD certificates.cert-manager.io")
			return false, nil
		}
		return err == nil, err
	})
}
