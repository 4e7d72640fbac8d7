package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tests of the build flags that set metadata, feed inputs and clamp
// timestamps. One build exercises most of them; skopeo reads the result
// from the registry and the OCI layout.

// flagsContainerfile is read from stdin (-f -). Its final stage starts
// from a stage carrying labels, copies from a named directory context and
// a named image context, and records in files what its RUN steps saw.
const flagsContainerfile = `FROM %[1]s AS labelled
LABEL drop.me=1 keep.me=2
FROM labelled
COPY --from=extra greeting.txt /greeting.txt
COPY --from=tools /bin/busybox /tools-busybox
COPY . /ctx/
RUN --mount=type=secret,id=filetok --mount=type=secret,id=envtok cat /run/secrets/filetok /run/secrets/envtok | wc -c > /secret-len.txt
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo agent > /ssh.txt
RUN cat /etc/hosts > /hosts.txt && ulimit -n > /nofile.txt && grep CapEff /proc/self/status > /caps.txt && cat /mnt/vol/data.txt > /vol.txt
`

// Secret values that must appear in no blob of the result.
const (
	fileSecret = "file-secret-7f3a9c"
	envSecret  = "env-secret-b41e02"
)

// flagsBuild is the one build TestBuildFlags checks.
type flagsBuild struct {
	store                    store
	out, iid, metadata, repo string
}

// runFlagsBuild builds flagsContainerfile for two platforms, pushing to
// the registry and writing an OCI layout.
func runFlagsBuild(t *testing.T) flagsBuild {
	s := newStore(t)
	dir := t.TempDir()
	ctxDir := writeContext(t, "", map[string]string{"keep.txt": "kept", "skip.txt": "skipped"})
	extra, vol := filepath.Join(dir, "extra"), filepath.Join(dir, "vol")
	for _, d := range []string{extra, vol} {
		if err := mkdirAll(d); err != nil {
			t.Fatal(err)
		}
	}
	writeTemp(t, extra, "greeting.txt", "hello from a named context\n")
	writeTemp(t, vol, "data.txt", "from a volume\n")
	b := flagsBuild{store: s, out: filepath.Join(dir, "out"), iid: filepath.Join(dir, "iid"), metadata: filepath.Join(dir, "md.json"), repo: env.Registry + "/flags"}
	stdin := writeTemp(t, dir, "Containerfile", fmt.Sprintf(flagsContainerfile, registryBase("latest")))
	agent := startSSHAgent(t, dir)
	r := polyarchEnv(t, s, []string{"ENVTOK=" + envSecret, "FROMHOST=host-value", "SSH_AUTH_SOCK=" + agent}, stdin, "build", "-f", "-",
		"--platform", "linux/amd64,linux/arm64", "--tls-verify=false", "-t", b.repo+":1", "--push", "-o", "type=oci,dest="+b.out,
		"--label", "a.b=c", "--unsetlabel", "drop.me", "--env", "FOO=bar", "--env", "FROMHOST",
		"--annotation", "m1=v1", "--annotation", "index:i1=v2", "--annotation", "index,manifest:both=v3",
		"--iidfile", b.iid, "--metadata-file", b.metadata, "--timestamp", "1600000000",
		"--secret", "id=filetok,src="+writeTemp(t, dir, "secret", fileSecret), "--secret", "id=envtok,env=ENVTOK",
		"--build-context", "extra="+extra, "--build-context", "tools=docker-image://"+registryBase("latest"),
		"--ignorefile", writeTemp(t, dir, "ignore", "skip.txt\n"), "--add-host", "db.internal:10.11.12.13",
		"--ulimit", "nofile=512:512", "--ssh", "default", "--cap-drop", "CHOWN", "-v", vol+":/mnt/vol:ro", ctxDir)
	mustSucceed(t, r)
	return b
}

// startSSHAgent runs ssh-agent on a socket in dir until the test ends.
func startSSHAgent(t *testing.T, dir string) string {
	t.Helper()
	sock := filepath.Join(dir, "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ssh-agent (apt-get install openssh-client): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ssh-agent did not create %s", sock)
	return ""
}

// TestBuildFlags checks, with skopeo, every platform's config and
// manifest, the index, the iidfile and metadata file, what RUN steps saw,
// and that the secrets are in no blob.
func TestBuildFlags(t *testing.T) {
	b := runFlagsBuild(t)
	ref := "docker://" + b.repo + ":1"
	raw := skopeoRaw(t, ref)
	if got := "sha256:" + sha256hex(skopeoRaw(t, "oci:"+b.out+":1")); got != skopeoDigest(t, ref) {
		t.Errorf("OCI output index %s differs from the pushed one %s", got, skopeoDigest(t, ref))
	}
	idx := decodeIndex(t, raw)
	checkAnnotations(t, "index", idx.Annotations, map[string]string{"i1": "v2", "both": "v3"}, "m1")
	checkIIDAndMetadata(t, b, skopeoDigest(t, ref), idx)
	for i, arch := range []string{"amd64", "arm64"} {
		var man specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+b.repo+"@"+idx.Manifests[i].Digest.String())), &man); err != nil {
			t.Fatal(err)
		}
		checkAnnotations(t, arch+" manifest", man.Annotations, map[string]string{"m1": "v1", "both": "v3"}, "i1")
		checkConfig(t, arch, ref)
	}
	checkRunFiles(t, layout{t: t, dir: b.out}, idx)
	checkSecretsAbsent(t, b.out, fileSecret, envSecret)
}

// checkAnnotations asserts want is in got and absent is not.
func checkAnnotations(t *testing.T, what string, got, want map[string]string, absent string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s annotation %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
	if _, ok := got[absent]; ok {
		t.Errorf("%s has annotation %s, meant for elsewhere", what, absent)
	}
}

// checkConfig asserts the labels, environment and times of one
// platform's config, as skopeo reads it.
func checkConfig(t *testing.T, arch, ref string) {
	t.Helper()
	r := skopeo(t, "--override-arch", arch, "inspect", "--config", "--tls-verify=false", ref)
	mustSucceed(t, r)
	var cfg specs.Image
	if err := json.Unmarshal([]byte(r.Stdout), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != arch {
		t.Fatalf("skopeo read the %s config for %s", cfg.Architecture, arch)
	}
	l := cfg.Config.Labels
	if l["a.b"] != "c" || l["keep.me"] != "2" || l["drop.me"] != "" {
		t.Errorf("%s labels = %v, want a.b=c and keep.me=2, without drop.me", arch, l)
	}
	for _, e := range []string{"FOO=bar", "FROMHOST=host-value"} {
		if !slices.Contains(cfg.Config.Env, e) {
			t.Errorf("%s env %v lacks %s", arch, cfg.Config.Env, e)
		}
	}
	const want = "2020-09-13T12:26:40Z" // --timestamp 1600000000
	if cfg.Created == nil || cfg.Created.UTC().Format("2006-01-02T15:04:05Z") != want {
		t.Errorf("%s created = %v, want %s", arch, cfg.Created, want)
	}
	last := cfg.History[len(cfg.History)-1]
	if last.Created == nil || last.Created.UTC().Format("2006-01-02T15:04:05Z") != want {
		t.Errorf("%s newest history entry created %v, want %s", arch, last.Created, want)
	}
}

// buildMetadata is the part of --metadata-file the test reads.
type buildMetadata struct {
	Digest    string `json:"containerimage.digest"`
	Name      string `json:"image.name"`
	Platforms []struct {
		Platform string `json:"platform"`
		Digest   string `json:"containerimage.digest"`
		Config   string `json:"containerimage.config.digest"`
	} `json:"polyarch.platforms"`
}

// checkIIDAndMetadata compares the iidfile and metadata file with the
// digests skopeo reads from the registry.
func checkIIDAndMetadata(t *testing.T, b flagsBuild, indexDigest string, idx specs.Index) {
	t.Helper()
	if got := readFile(t, b.iid); got != indexDigest {
		t.Errorf("--iidfile holds %q, want the index digest %s", got, indexDigest)
	}
	var md buildMetadata
	if err := json.Unmarshal([]byte(readFile(t, b.metadata)), &md); err != nil {
		t.Fatalf("decoding --metadata-file: %v", err)
	}
	if md.Digest != indexDigest || md.Name != b.repo+":1" || len(md.Platforms) != 2 {
		t.Fatalf("--metadata-file = %+v, want digest %s, name %s:1 and 2 platforms", md, indexDigest, b.repo)
	}
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		checkPodmanImage(t, b.store, md.Platforms[i].Config, p)
		var man specs.Manifest
		if err := json.Unmarshal([]byte(skopeoRaw(t, "docker://"+b.repo+"@"+idx.Manifests[i].Digest.String())), &man); err != nil {
			t.Fatal(err)
		}
		got := md.Platforms[i]
		if got.Platform != p || got.Digest != idx.Manifests[i].Digest.String() || got.Config != man.Config.Digest.String() {
			t.Errorf("--metadata-file platform %d = %+v, want %s, manifest %s, config %s", i, got, p, idx.Manifests[i].Digest, man.Config.Digest)
		}
	}
}

// checkPodmanImage asserts that podman finds, in the build's store, the
// image of the config digest the metadata file names, with the platform
// and the label of the build.
func checkPodmanImage(t *testing.T, s store, config, platform string) {
	t.Helper()
	id := strings.TrimPrefix(config, "sha256:")
	r := podman(t, s, "image", "inspect", "--format", `{{.Os}}/{{.Architecture}} {{index .Labels "a.b"}}`, id)
	mustSucceed(t, r)
	if got := strings.TrimSpace(r.Stdout); got != platform+" c" {
		t.Errorf("podman image inspect %s = %q, want %q", id, got, platform+" c")
	}
}

// checkRunFiles asserts, for every platform, what the build copied and
// what its RUN steps saw: contexts, ignore file, secrets, hosts, limits,
// capabilities and volume; and that new files carry --timestamp.
func checkRunFiles(t *testing.T, l layout, idx specs.Index) {
	t.Helper()
	want := map[string]func(string) bool{
		"/greeting.txt":   func(s string) bool { return s == "hello from a named context\n" },
		"/tools-busybox":  func(s string) bool { return len(s) > 100000 },
		"/ctx/keep.txt":   func(s string) bool { return s == "kept" },
		"/secret-len.txt": func(s string) bool { return strings.TrimSpace(s) == strconv.Itoa(len(fileSecret)+len(envSecret)) },
		"/hosts.txt":      func(s string) bool { return strings.Contains(s, "10.11.12.13\tdb.internal") },
		"/nofile.txt":     func(s string) bool { return strings.TrimSpace(s) == "512" },
		"/caps.txt":       func(s string) bool { return capEffBit(s, 0) == 0 }, // CAP_CHOWN dropped
		"/vol.txt":        func(s string) bool { return s == "from a volume\n" },
		"/ssh.txt":        func(s string) bool { return s == "agent\n" },
	}
	for i := range idx.Manifests {
		for path, ok := range want {
			if got, err := l.file(idx, i, path); err != nil || !ok(got) {
				t.Errorf("entry %d: %s = %.200q (%v)", i, path, got, err)
			}
		}
		if _, err := l.file(idx, i, "/ctx/skip.txt"); err == nil {
			t.Errorf("entry %d: /ctx/skip.txt was copied despite --ignorefile", i)
		}
		if h, _, err := l.entry(idx, i, "/greeting.txt"); err != nil || h.ModTime.Unix() != 1600000000 {
			t.Errorf("entry %d: /greeting.txt mtime is not --timestamp: %v %v", i, h, err)
		}
	}
}

// capEffBit returns bit n of the CapEff line of /proc/self/status, or -1.
func capEffBit(status string, n uint) int {
	_, hexCaps, ok := strings.Cut(strings.TrimSpace(status), "\t")
	v, err := strconv.ParseUint(hexCaps, 16, 64)
	if !ok || err != nil {
		return -1
	}
	return int(v >> n & 1)
}

// checkSecretsAbsent fails if any blob of the OCI layout at dir, decompressed,
// holds one of the secrets.
func checkSecretsAbsent(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	blobs, err := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	if err != nil || len(blobs) == 0 {
		t.Fatalf("no blobs in %s: %v", dir, err)
	}
	for _, p := range blobs {
		data := readBlob(t, p)
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("blob %s holds the secret %q", filepath.Base(p), s)
			}
		}
	}
}

// readBlob returns a blob's bytes, gunzipped when it is gzip.
func readBlob(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(gz)
	if err != nil {
		t.Fatalf("gunzipping %s: %v", path, err)
	}
	return plain
}

// reproContainerfile starts from a named context, copies a file and
// creates one in a RUN step, whose time --rewrite-timestamp clamps.
const reproContainerfile = `FROM base
COPY f.txt /f.txt
RUN echo made > /run.txt
`

// TestBuildReproducible builds the same context twice, into two fresh
// stores, with --source-date-epoch and --rewrite-timestamp (the second
// time through SOURCE_DATE_EPOCH), from the fixture layout given as an
// oci-layout:// named context: both OCI outputs hold byte-identical child
// manifests, hence configs and layers, for both platforms.
func TestBuildReproducible(t *testing.T) {
	ctxDir := writeContext(t, reproContainerfile, map[string]string{"f.txt": "same\n"})
	common := []string{"build", "--platform", "linux/amd64,linux/arm64", "--rewrite-timestamp",
		"--build-context", "base=oci-layout://" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest"}
	var indexes []specs.Index
	var outs []string
	for i, envArgs := range [][]string{{"-u", "SOURCE_DATE_EPOCH"}, {"SOURCE_DATE_EPOCH=1700000000"}} {
		out := filepath.Join(t.TempDir(), "out")
		args := append(slices.Clone(common), "-o", "type=oci,dest="+out, ctxDir)
		if i == 0 {
			args = append(args, "--source-date-epoch", "1700000000")
		}
		mustSucceed(t, polyarchEnv(t, newStore(t), envArgs, "", args...))
		indexes = append(indexes, decodeIndex(t, skopeoRaw(t, "oci:"+out+":latest")))
		outs = append(outs, out)
		checkCreated(t, out, "2023-11-14T22:13:20Z")
	}
	a, b := indexes[0].Manifests, indexes[1].Manifests
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("want 2 platforms in each build, got %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Digest != b[i].Digest {
			t.Errorf("platform %d: manifests differ between the two builds:\n%s\n%s", i,
				readFile(t, layout{t: t, dir: outs[0]}.blobPath(a[i].Digest.String())), readFile(t, layout{t: t, dir: outs[1]}.blobPath(b[i].Digest.String())))
		}
	}
}

// checkCreated asserts every platform's config of the layout at dir was
// created at want, as skopeo reads it.
func checkCreated(t *testing.T, dir, want string) {
	t.Helper()
	for _, arch := range []string{"amd64", "arm64"} {
		r := skopeo(t, "--override-arch", arch, "inspect", "--config", "oci:"+dir+":latest")
		mustSucceed(t, r)
		var cfg specs.Image
		if err := json.Unmarshal([]byte(r.Stdout), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Created == nil || cfg.Created.UTC().Format("2006-01-02T15:04:05Z") != want {
			t.Errorf("%s: created %v, want %s", arch, cfg.Created, want)
		}
	}
}

// TestBuildFlagsPreflight checks that a named image context lacking a
// requested platform fails before anything is built, and that a bad flag
// value exits 125 before any work.
func TestBuildFlagsPreflight(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM scratch\nCOPY --from=tools /bin/busybox /busybox\n", nil)
	r := polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--tls-verify=false",
		"--build-context", "tools=docker-image://"+registryBase("amd64"), ctxDir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "has no linux/arm64 image") || strings.Contains(r.Stdout+r.Stderr, "STEP 1") {
		t.Errorf("exit %d: want a preflight error naming the missing linux/arm64 image of the context, before any step", r.Code)
	}
	fresh := newStore(t)
	r = polyarch(t, fresh, "build", "--network", "private", ctxDir)
	if r.Code != 125 || !strings.Contains(r.Stderr, "--network private is not available") {
		t.Errorf("--network private: exit %d, want 125 naming the flag", r.Code)
	}
	if _, err := os.Stat(fresh.Root); err == nil {
		t.Errorf("a usage error created the store %s: work started", fresh.Root)
	}
}

// TestBuildMetadataOnePlatform builds one platform into local storage
// only: --iidfile and --metadata-file describe the image as podman sees
// it, with buildx's top-level config digest.
func TestBuildMetadataOnePlatform(t *testing.T) {
	s := newStore(t)
	dir := t.TempDir()
	ctxDir := writeContext(t, "FROM base\nLABEL one=platform\n", nil)
	iid, mdPath := filepath.Join(dir, "iid"), filepath.Join(dir, "md.json")
	mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/amd64", "-t", "one:1", "--iidfile", iid, "--metadata-file", mdPath,
		"--build-context", "base=oci-layout://"+filepath.Join(env.Fixtures, "busybox-oci")+":latest", ctxDir))
	r := podman(t, s, "image", "inspect", "--format", "{{.Digest}} {{.ID}}", "localhost/one:1")
	mustSucceed(t, r)
	digest, id, _ := strings.Cut(strings.TrimSpace(r.Stdout), " ")
	var md struct {
		buildMetadata
		Config string `json:"containerimage.config.digest"`
	}
	if err := json.Unmarshal([]byte(readFile(t, mdPath)), &md); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, iid); got != digest || md.Digest != digest || md.Name != "localhost/one:1" {
		t.Errorf("--iidfile %q, metadata digest %q name %q; podman says digest %s", got, md.Digest, md.Name, digest)
	}
	if md.Config != "sha256:"+id || len(md.Platforms) != 1 || md.Platforms[0].Config != md.Config || md.Platforms[0].Platform != "linux/amd64" {
		t.Errorf("metadata config %q, platforms %+v; podman says image ID %s", md.Config, md.Platforms, id)
	}
}
