package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

// apiKeyVar holds a token that beats the stored one.
const apiKeyVar = "BULUT_API_KEY"

// loginTimeout is how long `bulut login` waits for the browser.
const loginTimeout = 10 * time.Minute

func (inv *invocation) authCommands() []*cobra.Command {
	return []*cobra.Command{
		inv.loginCommand(), inv.logoutCommand(), inv.signupCommand(),
		inv.whoamiCommand(), inv.tokenCommand(),
	}
}

func (inv *invocation) loginCommand() *cobra.Command {
	var interactive bool
	cmd := &cobra.Command{
		Use:     "login",
		Aliases: []string{"auth:login"},
		Short:   "log in with your bulut credentials",
		Long:    "Log in in a browser, or with -i by typing your e-mail and password. The token is stored in ~/.netrc for the API and git hosts.",
		Args:    noArgs(),
		RunE: func(*cobra.Command, []string) error {
			if err := inv.refuseWithAPIKey(); err != nil {
				return err
			}
			if interactive {
				return inv.loginWithPassword()
			}
			return inv.loginWithBrowser()
		},
	}
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "log in with e-mail and password in the terminal")
	return cmd
}

func (inv *invocation) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Aliases: []string{"auth:logout"},
		Short:   "clear local authentication credentials",
		Args:    noArgs(),
		RunE:    func(*cobra.Command, []string) error { return inv.logout() },
	}
}

func (inv *invocation) signupCommand() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "signup",
		Short: "create an account and log in",
		Args:  noArgs(),
		RunE:  func(*cobra.Command, []string) error { return inv.signup(email) },
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address of the new account (asked for otherwise)")
	return cmd
}

func (inv *invocation) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "auth:whoami",
		Aliases: []string{"whoami"},
		Short:   "display the current logged in user",
		Args:    noArgs(),
		RunE: func(*cobra.Command, []string) error {
			account, err := inv.account()
			if errors.Is(err, errNotLoggedIn) || bulut.ErrorCode(err) == bulut.EUNAUTHORIZED {
				return withExitCode(err, exitNotLoggedIn)
			} else if err != nil {
				return err
			}
			inv.println(account.Email)
			return nil
		},
	}
}

func (inv *invocation) tokenCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "auth:token",
		Short: "display the current API token",
		Args:  noArgs(),
		RunE: func(*cobra.Command, []string) error {
			token, _, err := inv.token()
			if err != nil {
				return err
			} else if token == "" {
				return errNotLoggedIn
			}
			inv.println(token)
			return nil
		},
	}
}

// account returns the logged-in account.
func (inv *invocation) account() (*client.Account, error) {
	c, err := inv.apiClient()
	if err != nil {
		return nil, err
	}
	return c.Account(inv.ctx)
}

// loginWithBrowser runs the browser login: the user approves this CLI in
// the dashboard while the CLI polls the server for the token.
func (inv *invocation) loginWithBrowser() error {
	fmt.Fprint(inv.env.Stderr, "Press any key to open up the browser to login or q to exit: ")
	key, err := inv.readKey()
	if err != nil {
		return err
	}
	if key == "q" || key == "Q" || key == "\x03" {
		return userErrorf("Login cancelled by user")
	}
	c := inv.anonymousClient()
	session, err := c.CreateLoginSession(inv.ctx, inv.tokenDescription())
	if err != nil {
		return err
	}
	inv.showInBrowser(session.BrowserURL)
	var grant *client.LoginGrant
	err = inv.action("Waiting for login", func() (string, error) {
		grant, err = inv.waitForLogin(c, session)
		return "", err
	})
	if err != nil {
		return err
	}
	return inv.finishLogin(grant.User.Email, grant.AccessToken)
}

// showInBrowser opens url, telling the user where to go should the browser
// not open.
func (inv *invocation) showInBrowser(url string) {
	fmt.Fprintf(inv.env.Stderr, "Opening browser to %s\n", url)
	fmt.Fprintf(inv.env.Stderr, "If browser does not open, visit:\n%s\n", url)
	if err := inv.openBrowser(url); err != nil {
		inv.warn(fmt.Sprintf("Could not open a browser: %v", err))
	}
}

func (inv *invocation) waitForLogin(c *client.Client, session *client.LoginSession) (*client.LoginGrant, error) {
	ctx, cancel := context.WithTimeout(inv.ctx, loginTimeout)
	defer cancel()
	grant, err := c.PollLoginSession(ctx, session)
	if errors.Is(err, context.DeadlineExceeded) || bulut.ErrorCode(err) == bulut.EEXPIRED {
		return nil, userErrorf("Login timed out")
	}
	return grant, err
}

// loginWithPassword is `login -i`.
func (inv *invocation) loginWithPassword() error {
	email, password, err := inv.askCredentials()
	if err != nil {
		return err
	}
	auth, err := inv.anonymousClient().CreateAuthorization(inv.ctx, email, password, inv.tokenDescription())
	if err != nil {
		return err
	}
	return inv.finishLogin(cmp.Or(auth.User.Email, email), auth.AccessToken.Token)
}

func (inv *invocation) askCredentials() (email, password string, err error) {
	if email, err = inv.prompt("Email: "); err != nil {
		return "", "", err
	}
	password, err = inv.promptPassword("Password: ")
	return email, password, err
}

// finishLogin stores a new token and says who is logged in.
func (inv *invocation) finishLogin(email, token string) error {
	if email == "" {
		account, err := client.New(inv.apiURL(), token).Account(inv.ctx)
		if err != nil {
			return err
		}
		email = account.Email
	}
	if err := inv.saveCredentials(email, token); err != nil {
		return err
	}
	inv.printf("Logged in as %s\n", email)
	return nil
}

func (inv *invocation) signup(email string) error {
	if err := inv.refuseWithAPIKey(); err != nil {
		return err
	}
	var err error
	if email == "" {
		if email, err = inv.prompt("Email: "); err != nil {
			return err
		}
	}
	password, err := inv.askNewPassword()
	if err != nil {
		return err
	}
	c := inv.anonymousClient()
	account, err := c.Signup(inv.ctx, email, password)
	if err != nil {
		return err
	}
	auth, err := c.CreateAuthorization(inv.ctx, account.Email, password, inv.tokenDescription())
	if err != nil {
		return err
	}
	if err := inv.saveCredentials(account.Email, auth.AccessToken.Token); err != nil {
		return err
	}
	inv.printf("Signed up and logged in as %s\n", account.Email)
	return nil
}

// askNewPassword asks for a password, twice on a terminal where the user
// can't see what they type.
func (inv *invocation) askNewPassword() (string, error) {
	password, err := inv.promptPassword("Password: ")
	if _, isTerminal := inv.terminalFD(); err != nil || !isTerminal {
		return password, err
	}
	again, err := inv.promptPassword("Password (again): ")
	if err == nil && again != password {
		err = userErrorf("The passwords did not match.")
	}
	return password, err
}

func (inv *invocation) logout() error {
	var revokeErr error
	err := inv.action("Logging out", func() (string, error) {
		var err error
		revokeErr, err = inv.removeCredentials()
		return "", err
	})
	if revokeErr != nil {
		inv.warn("The token could not be revoked on the server: " + errorMessage(revokeErr))
	}
	return err
}

// refuseWithAPIKey stops commands that store a token while BULUT_API_KEY
// would override it.
func (inv *invocation) refuseWithAPIKey() error {
	if inv.env.Getenv(apiKeyVar) != "" {
		return userErrorf("Cannot log in with %s set.", apiKeyVar)
	}
	return nil
}

// tokenDescription describes the tokens this CLI creates.
func (inv *invocation) tokenDescription() string {
	return "bulut CLI login from " + cmp.Or(inv.env.Hostname, "unknown host")
}

// openBrowser opens url with Env.OpenBrowser, else $BROWSER, else xdg-open.
func (inv *invocation) openBrowser(url string) error {
	if inv.env.OpenBrowser != nil {
		return inv.env.OpenBrowser(url)
	}
	browser := cmp.Or(inv.env.Getenv("BROWSER"), "xdg-open")
	browser, _, _ = strings.Cut(browser, ":") // $BROWSER may list several
	cmd := exec.Command(browser, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// netrcPath is $NETRC, else ~/.netrc.
func (inv *invocation) netrcPath() (string, error) {
	if p := inv.env.Getenv("NETRC"); p != "" {
		return p, nil
	}
	home := inv.env.Getenv("HOME")
	if home == "" {
		return "", userErrorf("Cannot find your .netrc: HOME is not set.")
	}
	return filepath.Join(home, ".netrc"), nil
}

// loadNetrc reads the user's netrc and returns it with its path.
func (inv *invocation) loadNetrc() (*netrc, string, error) {
	path, err := inv.netrcPath()
	if err != nil {
		return nil, "", err
	}
	n, err := readNetrc(path)
	return n, path, err
}

// editNetrc reads the user's netrc, applies edit and writes it back.
func (inv *invocation) editNetrc(edit func(*netrc)) error {
	n, path, err := inv.loadNetrc()
	if err != nil {
		return err
	}
	edit(n)
	return n.save(path)
}

// tokenFromNetrc names the netrc as the source of a token.
const tokenFromNetrc = "netrc"

// token returns the user's token and where it came from (apiKeyVar or
// tokenFromNetrc). No token is not an error.
func (inv *invocation) token() (token, source string, err error) {
	if key := inv.env.Getenv(apiKeyVar); key != "" {
		return key, apiKeyVar, nil
	}
	token, err = inv.storedToken()
	return token, tokenFromNetrc, err
}

// storedToken is the password of the API host's netrc entry, or "".
func (inv *invocation) storedToken() (string, error) {
	n, _, err := inv.loadNetrc()
	if err != nil {
		return "", err
	}
	if e := n.lookup(inv.apiHost()); e != nil {
		return e.password, nil
	}
	return "", nil
}

// saveCredentials stores token in the netrc for the API host and the git
// host, so that git pushes authenticate too.
func (inv *invocation) saveCredentials(email, token string) error {
	info, err := inv.serverInfo()
	if err != nil {
		return err
	}
	return inv.editNetrc(func(n *netrc) {
		for _, host := range uniqueNonEmpty(inv.apiHost(), info.GitHost) {
			n.set(host, email, token)
		}
	})
}

// removeCredentials revokes the stored token on the server and removes it
// from the netrc: the entries of the API and git hosts and any other entry
// holding the same token. A failure to revoke is returned apart, as
// revokeErr: the local credentials are removed all the same.
func (inv *invocation) removeCredentials() (revokeErr, err error) {
	token, err := inv.storedToken()
	if token == "" || err != nil {
		return nil, err
	}
	revokeErr = client.New(inv.apiURL(), token).Logout(inv.ctx)
	if bulut.ErrorCode(revokeErr) == bulut.EUNAUTHORIZED {
		revokeErr = nil // already revoked
	}
	hosts := []string{inv.apiHost()}
	if info, err := inv.serverInfo(); err == nil {
		hosts = append(hosts, info.GitHost)
	}
	return revokeErr, inv.editNetrc(func(n *netrc) {
		n.remove(func(e *netrcEntry) bool {
			return e.password == token || containsFold(hosts, e.machine)
		})
	})
}

func uniqueNonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" && !containsFold(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
