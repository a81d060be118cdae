package command

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func flags() (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	namespace := fs.String("namespace", "", "watch only this namespace")
	return fs, namespace
}

func TestParseFlagsTakesTheFlagsDefined(t *testing.T) {
	fs, namespace := flags()
	if err := ParseFlags(fs, []string{"--namespace=web"}, "see FACTS.md"); err != nil {
		t.Fatal(err)
	}
	if *namespace != "web" {
		t.Fatalf("--namespace read as %q, want web", *namespace)
	}
}

func TestParseFlagsRefusesAFlagItDoesNotDefine(t *testing.T) {
	fs, _ := flags()
	err := ParseFlags(fs, []string{"--config=/etc/cert-manager/config.yaml"}, "this stand-in takes only the flags --help lists")
	if err == nil || !strings.Contains(err.Error(), "unknown flag: --config") || !strings.Contains(err.Error(), "(this stand-in takes only the flags --help lists)") {
		t.Fatalf("got %v, want the unknown flag named with the hint", err)
	}
}

func TestParseFlagsRefusesArgumentsThatAreNotFlags(t *testing.T) {
	fs, _ := flags()
	err := ParseFlags(fs, []string{"--namespace=web", "start"}, "see FACTS.md")
	if err == nil || err.Error() != `unexpected arguments ["start"]: the controller takes flags only` {
		t.Fatalf("got %v, want the argument named", err)
	}
}

func TestParseFlagsReturnsHelpAsIs(t *testing.T) {
	fs, _ := flags()
	if err := ParseFlags(fs, []string{"--help"}, "see FACTS.md"); !errors.Is(err, pflag.ErrHelp) {
		t.Fatalf("got %v, want pflag.ErrHelp", err)
	}
}
