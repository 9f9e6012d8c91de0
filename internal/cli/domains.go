package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulut-bulut/bulut/client"
)

// domainsCommands are domains, domains:add and domains:remove.
func (inv *invocation) domainsCommands() []*cobra.Command {
	return []*cobra.Command{inv.domainsCommand(), inv.domainsAddCommand(), inv.domainsRemoveCommand()}
}

func (inv *invocation) domainsCommand() *cobra.Command {
	return listCommand(inv, listSpec[*client.Domain]{
		use: "domains", short: "list domains for an app",
		long:  "List the host names an app answers on: its own, and its custom domains with the DNS target to point them at.",
		fetch: func(c *client.Client, app string, _ int) ([]*client.Domain, error) { return c.Domains(inv.ctx, app) },
		print: inv.printDomains,
	})
}

// printDomains prints the app's own host, then its custom domains with
// the DNS target to point them at.
func (inv *invocation) printDomains(app string, domains []*client.Domain) {
	var custom []*client.Domain
	for _, d := range domains {
		if d.Kind == "custom" {
			custom = append(custom, d)
			continue
		}
		inv.printHeader(app + " Heroku Domain")
		inv.printf("%s\n", d.Hostname)
	}
	if len(custom) == 0 {
		return
	}
	inv.printf("\n")
	inv.printHeader(app + " Custom Domains")
	rows := [][]string{{"Domain Name", "DNS Record Type", "DNS Target"}}
	for _, d := range custom {
		target := ""
		if d.CName != nil {
			target = *d.CName
		}
		rows = append(rows, []string{d.Hostname, "CNAME", target})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for n, r := range rows {
		line := ""
		for i, cell := range r {
			line += fmt.Sprintf(" %-*s", widths[i], cell)
		}
		inv.printf("%s\n", strings.TrimRight(line, " "))
		if n == 0 {
			line = ""
			for _, w := range widths {
				line += " " + strings.Repeat("─", w)
			}
			inv.printf("%s\n", line)
		}
	}
}

func (inv *invocation) domainsAddCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "domains:add HOSTNAME",
		Short:   "add a domain to an app",
		Long:    "Make an app answer on a custom host name too. Point the name's DNS (a CNAME record) at the DNS target shown.",
		Example: "  bulut domains:add www.example.com",
		Args:    exactArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		var d *client.Domain
		err := inv.action("Adding "+args[0]+" to "+appLabel(app), func() (string, error) {
			var err error
			d, err = c.AddDomain(inv.ctx, app, args[0])
			return "", err
		})
		if err != nil {
			return err
		}
		if d.CName != nil {
			inv.printf("Configure your app's DNS provider to point to the DNS Target %s.\n", *d.CName)
		}
		return nil
	})
}

func (inv *invocation) domainsRemoveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "domains:remove HOSTNAME",
		Short: "remove a domain from an app",
		Args:  exactArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		return inv.action("Removing "+args[0]+" from "+appLabel(app), func() (string, error) {
			_, err := c.RemoveDomain(inv.ctx, app, args[0])
			return "", err
		})
	})
}
