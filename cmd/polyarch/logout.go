package main

import (
	"fmt"

	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// newLogoutCommand returns `polyarch logout`.
func newLogoutCommand(g *globalOptions) *cli.Command {
	var all bool
	regFlags, reg := newRegistryFlags("")
	return &cli.Command{
		Name:      "logout",
		Usage:     "remove stored credentials for a registry, or for all",
		ArgsUsage: "REGISTRY | --all",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove the credentials of every registry", Destination: &all},
		}, storeAuthFile(without(regFlags, "creds", "tls-verify", "cert-dir"))...),
		Action: func(c *cli.Context) error {
			if all == (c.NArg() == 1) || c.NArg() > 1 {
				return cli.Exit("polyarch logout takes one REGISTRY, or --all alone", 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			sys, err := index.SystemContext(reg.credentialOptions(c), "")
			if err != nil {
				return err
			}
			if all {
				if err := index.LogoutAll(sys); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "Removed login credentials for all registries from %s\n", sys.AuthFilePath)
				return nil
			}
			if err := index.Logout(sys, c.Args().First()); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Removed login credentials for %s from %s\n", c.Args().First(), sys.AuthFilePath)
			return nil
		},
	}
}
