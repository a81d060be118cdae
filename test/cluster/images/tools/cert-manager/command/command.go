// Package command is what the four stand-in commands share: how they start and stop, as
// upstream's commands do (cert-manager's exit handler and logging), and how the three that take
// only flags read them.
package command

import (
	"context"
	"errors"
	"fmt"
	"os"

	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/spf13/pflag"
)

// Main runs a command as upstream's main functions do: SIGINT and SIGTERM cancel the context
// (exitBehavior says whether a signal still ends the process with a non-zero code), logging is set
// up and flushed, and run gets the arguments. --help (pflag.ErrHelp) ends quietly; any other error
// is logged under stopped and sets the exit code.
func Main(component string, exitBehavior cmdutil.ExitBehavior, stopped string, run func(ctx context.Context, args []string) error) {
	ctx, exit := cmdutil.SetupExitHandler(context.Background(), exitBehavior)
	defer exit() // may call os.Exit, so it runs last

	logf.InitLogs()
	defer logf.FlushLogs()
	ctx = logf.NewContext(ctx, logf.Log, component)

	err := run(ctx, os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err != nil {
		logf.Log.Error(err, stopped)
		cmdutil.SetExitCode(err)
	}
}

// ParseFlags reads args with fs, refusing what the command would otherwise ignore: a flag fs does
// not define fails with the parser's message and hint (what the stand-in takes), an argument that
// is not a flag fails naming it. --help returns pflag.ErrHelp, as fs.Parse does.
func ParseFlags(fs *pflag.FlagSet, args []string, hint string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w (%s)", err, hint)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: the %s takes flags only", fs.Args(), fs.Name())
	}
	return nil
}
