package builder

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestContainerfilePath(t *testing.T) {
	for _, c := range []struct{ ctx, file, want string }{
		{"/src/app", "/src/app/Containerfile", "Containerfile"},
		{"/src/app", "/src/app/build/Dockerfile", "build/Dockerfile"},
		{"/src/app", "/elsewhere/Containerfile", "/elsewhere/Containerfile"},
		{"/src/app", "/src/app2/Containerfile", "/src/app2/Containerfile"},
	} {
		if got := containerfilePath(c.ctx, c.file); got != c.want {
			t.Errorf("containerfilePath(%q, %q) = %q, want %q", c.ctx, c.file, got, c.want)
		}
	}
}

func TestBuildMetadataUnderEpoch(t *testing.T) {
	epoch := int64(1700000000)
	o := &Options{Time: TimeOptions{SourceDateEpoch: &epoch}, Tags: []string{"app:1"}}
	o.Provenance.started = time.Now()
	ext := slsaExternalParameters{Target: "final"}
	a, b := buildMetadata(o, ext), buildMetadata(o, ext)
	if a != b {
		t.Errorf("two invocations under --source-date-epoch differ: %+v vs %+v", a, b)
	}
	if want := time.Unix(epoch, 0).UTC(); !a.StartedOn.Equal(want) || !a.FinishedOn.Equal(want) {
		t.Errorf("times %+v, want both clamped to %s", a, want)
	}
	free := &Options{}
	if x, y := buildMetadata(free, ext), buildMetadata(free, ext); x.InvocationID == y.InvocationID {
		t.Errorf("two invocations without an epoch share the id %s", x.InvocationID)
	}
}

func TestExternalParametersKeepSecretValuesOut(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "Containerfile")
	secret := filepath.Join(dir, "tok")
	for path, data := range map[string]string{cf: "FROM scratch\n", secret: "v4lue-of-the-secret"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PROV_SECRET", "env-secret-v4lue")
	o := &Options{ContextDir: dir, Containerfile: cf, BuildArgs: map[string]string{"A": "1"},
		Inputs: InputOptions{Secrets: []string{"id=tok,src=" + secret, "id=env,env=PROV_SECRET"}}}
	ext, err := externalParameters(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ext)
	if strings.Contains(string(b), "v4lue") {
		t.Fatalf("a secret value is in the provenance: %s", b)
	}
	if strings.Join(ext.Secrets, ",") != "env,tok" || ext.Containerfile.Path != "Containerfile" || ext.BuildArgs["A"] != "1" {
		t.Errorf("external parameters %s", b)
	}
}
