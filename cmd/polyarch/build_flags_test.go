package main

import (
	"os"
	"strings"
	"testing"
)

// TestBuildFlagsRejectBadValues checks that every bad value of the
// metadata, input and time flags exits 125 with a message naming the
// flag, before any work (no store is created).
func TestBuildFlagsRejectBadValues(t *testing.T) {
	ctxDir := scratchContext(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	checkBuildUsageErrors(t, ctxDir, []usageCase{
		{"label without value", []string{"--label", "novalue"}, "--label"},
		{"empty env key", []string{"--env", "=x"}, "--env"},
		{"annotation type", []string{"--annotation", "manifest-descriptor:k=v"}, "--annotation"},
		{"index annotation, one platform", []string{"--annotation", "index:k=v"}, "needs an index"},
		{"iidfile dir missing", []string{"--iidfile", "/nonexistent/dir/iid"}, "--iidfile"},
		{"metadata-file dir missing", []string{"--metadata-file", "/nonexistent/dir/md.json"}, "--metadata-file"},
		{"secret syntax", []string{"--secret", "tok"}, "--secret"},
		{"secret file missing", []string{"--secret", "id=tok,src=/nonexistent/secret"}, "--secret"},
		{"ssh without agent", []string{"--ssh", "default"}, "--ssh"},
		{"build-context syntax", []string{"--build-context", "nodir"}, "--build-context"},
		{"build-context missing dir", []string{"--build-context", "x=/nonexistent/dir"}, "--build-context"},
		{"oci-layout context with --pull=always", []string{"--pull", "always", "--build-context", "b=oci-layout://" + ctxDir}, "--pull=always cannot be used with --build-context b="},
		{"ignorefile missing", []string{"--ignorefile", "/nonexistent/ignore"}, "--ignorefile"},
		{"network private", []string{"--network", "private"}, "--network private"},
		{"network name", []string{"--network", "podman"}, "--network"},
		{"add-host syntax", []string{"--add-host", "db=1.2.3.4"}, "--add-host"},
		{"add-host ip", []string{"--add-host", "db:999.1.1.1"}, "--add-host"},
		{"volume", []string{"-v", "relative:/x"}, "--volume"},
		{"ulimit type", []string{"--ulimit", "bogus=1"}, "--ulimit"},
		{"ulimit value", []string{"--ulimit", "nofile=many"}, "--ulimit"},
		{"cap-add", []string{"--cap-add", "NOT_A_CAP"}, "--cap-add"},
		{"cap-drop", []string{"--cap-drop", "chown,BOGUS"}, "--cap-drop"},
		{"epoch not a number", []string{"--source-date-epoch", "yesterday"}, "--source-date-epoch"},
		{"timestamp negative", []string{"--timestamp", "-5"}, "--timestamp"},
		{"timestamp and epoch", []string{"--timestamp", "1", "--source-date-epoch", "1"}, "mutually exclusive"},
		{"rewrite without epoch", []string{"--rewrite-timestamp"}, "--rewrite-timestamp needs"},
	})
}

// TestStdinContainerfile checks -f -: the content read, its hand-over to
// a re-executed copy, and the refusal of an empty stdin.
func TestStdinContainerfile(t *testing.T) {
	t.Setenv(stdinContainerfileEnv, "")
	data, err := stdinContainerfile(strings.NewReader("FROM scratch\n"))
	if err != nil || string(data) != "FROM scratch\n" || os.Getenv(stdinContainerfileEnv) != "FROM scratch\n" {
		t.Fatalf("stdinContainerfile = %q, %v; env %q", data, err, os.Getenv(stdinContainerfileEnv))
	}
	if _, err := stdinContainerfile(strings.NewReader(" \n")); err == nil || !strings.Contains(err.Error(), "-f -") {
		t.Errorf("empty stdin: error %v, want one naming -f -", err)
	}
	big := strings.Repeat("#", maxStdinContainerfile+1)
	if _, err := stdinContainerfile(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized stdin: error %v", err)
	}
}
