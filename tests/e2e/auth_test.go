package e2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Credentials of the registry TestAuthTLSRegistry starts.
const (
	authUser     = "promoter"
	authPassword = "s3cret-Pa55word-4-polyarch"
	wrongPass    = "Wr0ng-Pa55word-4-polyarch"
)

// secureRegistry is a registry on loopback serving https with a
// certificate of a private CA, and requiring htpasswd credentials.
type secureRegistry struct {
	Addr   string
	CADir  string // holds ca.crt only: what --cert-dir wants
	Secret string // the file holding authPassword, for --password-stdin
}

// startSecureRegistry makes a CA and a certificate for 127.0.0.1 with
// openssl, an htpasswd file, and starts the registry with them.
func startSecureRegistry(t *testing.T) secureRegistry {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required (apt-get install openssl)")
	}
	dir := t.TempDir()
	tls, ca := filepath.Join(dir, "tls"), filepath.Join(dir, "ca")
	for _, d := range []string{tls, ca} {
		if err := mkdirAll(d); err != nil {
			t.Fatal(err)
		}
	}
	in := func(name string) string { return filepath.Join(tls, name) }
	for _, args := range [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=polyarch test CA", "-keyout", in("ca.key"), "-out", in("ca.crt")},
		{"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", in("server.key"), "-out", in("server.csr")},
		{"x509", "-req", "-in", in("server.csr"), "-CA", in("ca.crt"), "-CAkey", in("ca.key"), "-CAcreateserial", "-days", "2",
			"-extfile", writeTemp(t, dir, "san.cnf", "subjectAltName=IP:127.0.0.1\n"), "-out", in("server.crt")},
	} {
		mustSucceed(t, runCmd(t, "", "openssl", args...))
	}
	copyPath(t, in("ca.crt"), filepath.Join(ca, "ca.crt"))
	hash, err := bcrypt.GenerateFromPassword([]byte(authPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := writeTemp(t, dir, "htpasswd", authUser+":"+string(hash)+"\n")
	extra := "  tls:\n    certificate: " + in("server.crt") + "\n    key: " + in("server.key") +
		"\nauth:\n  htpasswd:\n    realm: polyarch-test\n    path: " + htpasswd + "\n"
	addr, _ := privateRegistry(t, extra)
	return secureRegistry{Addr: addr, CADir: ca, Secret: writeTemp(t, dir, "secret", authPassword+"\n")}
}

// writeTemp writes content to dir/name and returns the path.
func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// polyarchStdin runs polyarch with the store's flags and stdin from a file.
func polyarchStdin(t *testing.T, s store, stdin string, args ...string) result {
	t.Helper()
	return polyarchEnv(t, s, nil, stdin, args...)
}

// TestAuthTLSRegistry logs in to an https registry of a private CA,
// copies to it and inspects it with stored credentials, checks the hints
// for a missing CA and for refused credentials, that no password is ever
// printed, and that logout removes the stored entry.
func TestAuthTLSRegistry(t *testing.T) {
	s := newStore(t)
	reg := startSecureRegistry(t)
	auth := filepath.Join(t.TempDir(), "auth.json")
	login := []string{"--log-level", "debug", "login", "--authfile", auth, "-u", authUser, "--password-stdin"}

	r := polyarchStdin(t, s, reg.Secret, append(login, reg.Addr)...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "--cert-dir") {
		t.Errorf("login without the CA: exit %d, stderr %q: want a hint naming --cert-dir", r.Code, r.Stderr)
	}
	r = polyarchStdin(t, s, reg.Secret, append(login, "--cert-dir", reg.CADir, reg.Addr)...)
	mustSucceed(t, r)
	checkNoSecret(t, r, authPassword)
	if !strings.Contains(readFile(t, auth), reg.Addr) {
		t.Fatalf("auth file has no entry for %s", reg.Addr)
	}

	image := "docker://" + reg.Addr + "/secure/app:v1"
	mustSucceed(t, polyarch(t, s, "copy", "--authfile", auth, "--cert-dir", reg.CADir, fixtureIndex(), image))
	r = polyarch(t, s, "index", "inspect", "--authfile", auth, "--cert-dir", reg.CADir, image)
	mustSucceed(t, r)
	for _, p := range []string{"linux/amd64", "linux/arm64", "linux/s390x"} {
		if !strings.Contains(r.Stdout, p) {
			t.Errorf("inspect of the pushed index lacks %s", p)
		}
	}
	if r = polyarch(t, s, "index", "inspect", "--authfile", auth, image); r.Code == 0 || !strings.Contains(r.Stderr, "--cert-dir") {
		t.Errorf("inspect without the CA: exit %d, stderr %q: want a hint naming --cert-dir", r.Code, r.Stderr)
	}

	checkRefused(t, s, reg, image)

	mustSucceed(t, polyarch(t, s, "logout", "--authfile", auth, reg.Addr))
	if strings.Contains(readFile(t, auth), reg.Addr) {
		t.Errorf("auth file still has %s after logout", reg.Addr)
	}
	if r = polyarch(t, s, "logout", "--authfile", auth, reg.Addr); r.Code == 0 || !strings.Contains(r.Stderr, "not logged in") {
		t.Errorf("second logout: exit %d, stderr %q: want \"not logged in\"", r.Code, r.Stderr)
	}
	if r = polyarch(t, s, "index", "inspect", "--authfile", auth, "--cert-dir", reg.CADir, image); r.Code == 0 || !strings.Contains(r.Stderr, "polyarch login "+reg.Addr) {
		t.Errorf("inspect after logout: exit %d, stderr %q: want a hint to log in", r.Code, r.Stderr)
	}
}

// checkRefused tries a wrong password with login and copy at debug level:
// both fail saying why, and the password shows in no output.
func checkRefused(t *testing.T, s store, reg secureRegistry, image string) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "none.json")
	r := polyarch(t, s, "--log-level", "debug", "login", "--authfile", empty, "--cert-dir", reg.CADir, "-u", authUser, "-p", wrongPass, reg.Addr)
	if r.Code == 0 || !strings.Contains(r.Stderr, "invalid username or password") {
		t.Errorf("login with a wrong password: exit %d, stderr %q: want \"invalid username or password\"", r.Code, r.Stderr)
	}
	checkNoSecret(t, r, wrongPass)
	if _, err := os.Stat(empty); err == nil && strings.Contains(readFile(t, empty), reg.Addr) {
		t.Errorf("refused credentials were stored")
	}
	r = polyarch(t, s, "--log-level", "debug", "copy", "--authfile", empty, "--cert-dir", reg.CADir,
		"--creds", authUser+":"+wrongPass, fixtureIndex(), image)
	if r.Code == 0 || !strings.Contains(r.Stderr, "authentication required for "+reg.Addr) || !strings.Contains(r.Stderr, "polyarch login "+reg.Addr) {
		t.Errorf("copy with a wrong password: exit %d, stderr %q: want \"authentication required for %s\" and a login hint", r.Code, r.Stderr, reg.Addr)
	}
	checkNoSecret(t, r, wrongPass)
}

// checkNoSecret fails if r printed the password, alone or base64-encoded
// in a basic authorization.
func checkNoSecret(t *testing.T, r result, password string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(authUser + ":" + password))
	for _, secret := range []string{password, basic} {
		if strings.Contains(r.Stdout+r.Stderr, secret) {
			t.Errorf("the output shows a secret %q", secret)
		}
	}
}

// TestCredsNeverLogged runs commands that open local storage with --creds
// at debug level: the password shows in no output. In the rootless run
// they re-execute in a user namespace, whose command line
// containers-storage logs at debug level.
func TestCredsNeverLogged(t *testing.T) {
	s := newStore(t)
	const secret = "N0t-In-The-L0gs-4-polyarch"
	creds := authUser + ":" + secret
	src := "docker://" + registryBase("3arch")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "copy into local storage", args: []string{"copy", "--creds", creds, "--tls-verify=false", src, "containers-storage:localhost/creds:1"}},
		{name: "index create", args: []string{"index", "create", "--creds", creds, "--tls-verify=false", "localhost/creds:2", src}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := polyarch(t, s, append([]string{"--log-level", "debug"}, tc.args...)...)
			mustSucceed(t, r)
			if !strings.Contains(r.Stderr, "level=debug") {
				t.Errorf("no debug output: the test proves nothing")
			}
			checkNoSecret(t, r, secret)
		})
	}
}

// TestDefaultAuthFile stores credentials without $REGISTRY_AUTH_FILE:
// by default login writes the first file containers/image searches, and
// copy, index create (in polyarch's user namespace when rootless), index
// inspect and logout given no --authfile find the credentials there or
// in any later file of the search. As root without XDG_RUNTIME_DIR the
// first file is the host's /run/containers/0/auth.json: that case is
// left to the rootless run, where it is ~/.config/containers/auth.json.
func TestDefaultAuthFile(t *testing.T) {
	s := newStore(t)
	reg := startSecureRegistry(t)
	later := []string{"-u", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR=@", "HOME=@"}
	for i, tc := range []struct {
		name     string
		env      []string // for env(1), @ replaced by a temporary directory
		file     string   // where the credentials are, under that directory
		authfile bool     // login and logout write file with --authfile
		rootless bool     // for ordinary users only
	}{
		{name: "XDG_RUNTIME_DIR", env: []string{"XDG_RUNTIME_DIR=@"}, file: "containers/auth.json"},
		{name: "HOME", env: []string{"-u", "XDG_RUNTIME_DIR", "-u", "XDG_CONFIG_HOME", "HOME=@"}, file: ".config/containers/auth.json", rootless: true},
		{name: "config after XDG_RUNTIME_DIR", env: later, file: ".config/containers/auth.json", authfile: true},
		{name: "Docker's after XDG_RUNTIME_DIR", env: later, file: ".docker/config.json", authfile: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rootless && os.Geteuid() == 0 {
				t.Skip("root's default file is the host's /run/containers/0/auth.json; covered by the rootless run")
			}
			dir := t.TempDir()
			envArgs := []string{"-u", "REGISTRY_AUTH_FILE", "-u", "DOCKER_CONFIG"}
			for _, e := range tc.env {
				envArgs = append(envArgs, strings.ReplaceAll(e, "@", dir))
			}
			file := filepath.Join(dir, tc.file)
			var authfile []string
			if tc.authfile {
				authfile = []string{"--authfile", file}
			}
			run := func(stdin string, args ...string) result { return polyarchEnv(t, s, envArgs, stdin, args...) }
			tag := "v" + strconv.Itoa(i)
			image := "docker://" + reg.Addr + "/default/app:" + tag
			mustSucceed(t, run(reg.Secret, append([]string{"login", "--cert-dir", reg.CADir, "-u", authUser, "--password-stdin", reg.Addr}, authfile...)...))
			if !strings.Contains(readFile(t, file), reg.Addr) {
				t.Fatalf("%s has no entry for %s", file, reg.Addr)
			}
			mustSucceed(t, run("", "copy", "--cert-dir", reg.CADir, fixtureIndex(), image))
			mustSucceed(t, run("", "index", "create", "--cert-dir", reg.CADir, "localhost/default:"+tag, image))
			mustSucceed(t, run("", append([]string{"logout", reg.Addr}, authfile...)...))
			if r := run("", "index", "inspect", "--cert-dir", reg.CADir, image); r.Code == 0 || !strings.Contains(r.Stderr, "polyarch login "+reg.Addr) {
				t.Errorf("inspect after logout: exit %d, stderr %q: want a hint to log in", r.Code, r.Stderr)
			}
		})
	}
}

// polyarchEnv runs polyarch with the store's flags under `env envArgs...`
// (NAME=VALUE, -u NAME), with stdin from a file unless stdin is "".
func polyarchEnv(t *testing.T, s store, envArgs []string, stdin string, args ...string) result {
	t.Helper()
	line := `exec "$0" "$@"`
	if stdin != "" {
		line += " < " + stdin
	}
	cmd := slices.Concat(envArgs, []string{"sh", "-c", line, env.Bin}, s.flags(), args)
	return runCmd(t, "", "env", cmd...)
}
