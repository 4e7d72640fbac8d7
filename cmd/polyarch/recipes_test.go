package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// contribDir holds the recipes, from this package's directory.
const contribDir = "../../contrib"

// recipeSamples are the values the recipes' variables, CI expressions and
// command substitutions take in the test. A recipe using one not listed
// fails the test, so that every command line is checked as written.
var recipeSamples = map[string]string{
	"${{ github.repository }}":        "acme/app",
	"${{ github.sha }}":               "0123456789abcdef0123456789abcdef01234567",
	"${{ github.actor }}":             "octocat",
	"${{ secrets.GITHUB_TOKEN }}":     "token",
	"${{ matrix.platform }}":          "linux/arm64",
	"${{ matrix.runner }}":            "ubuntu-24.04-arm",
	"${{ steps.build.outputs.name }}": "linux-arm64",
	"$(git log -1 --format=%ct)":      "1700000000",
	"$IMAGE":                          "registry.example.com/acme/app",
	"$PLATFORM":                       "linux/arm64",
	"$RUNNER_ARCH":                    "arm64",
	"$name":                           "linux-arm64",
	"$ARCH":                           "arm64",
	"$GIT_COMMIT":                     "0123456789abcdef0123456789abcdef01234567",
	"$CI_REGISTRY":                    "registry.example.com",
	"$CI_REGISTRY_USER":               "ci",
	"$CI_REGISTRY_PASSWORD":           "secret",
	"$CI_REGISTRY_IMAGE":              "registry.example.com/acme/app",
	"$CI_COMMIT_SHA":                  "0123456789abcdef0123456789abcdef01234567",
	"$REG_USER":                       "ci",
	"$REG_PASS":                       "secret",
	"$(params.platform)":              "linux/arm64",
	"$(params.repository)":            "registry.example.com/acme/app",
	"$(params.context)":               ".",
	"$(params.image)":                 "registry.example.com/acme/app:v1",
	"$(params.refs[*])":               "registry.example.com/acme/app@sha256:" + strings.Repeat("a", 64) + " registry.example.com/acme/app@sha256:" + strings.Repeat("b", 64),
	"$(workspaces.source.path)":       "/workspace/source",
	"$(results.image-ref.path)":       "/tekton/results/image-ref",
	"$(cat /tmp/digest)":              "sha256:" + strings.Repeat("a", 64),
}

// recipe is a file of contrib/, the kind of CI system it is for, and the
// command lines it must hold (substrings of some polyarch command).
type recipe struct {
	path string
	kind string
	want []string
}

var recipes = []recipe{
	{"github-actions/single-runner.yml", "github", []string{"login ", "build --platform linux/amd64,linux/arm64", "--push", "verify docker://"}},
	{"github-actions/native-matrix.yml", "github", []string{"build --platform linux/arm64", "--push-by-digest", "--metadata-file", "index create", "--from-metadata"}},
	{"gitlab/gitlab-ci.yml", "gitlab", []string{"build --platform linux/arm64", "--push-by-digest", "--metadata-file", "index create", "--from-metadata"}},
	{"jenkins/Jenkinsfile", "jenkins", []string{"build --platform linux/arm64", "--push-by-digest", "--metadata-file", "index create", "--from-metadata"}},
	{"kubernetes/build-jobs.yaml", "kubernetes", []string{"build --platform linux/amd64", "build --platform linux/arm64", "--push-by-digest", "--metadata-file"}},
	{"kubernetes/merge-job.yaml", "kubernetes", []string{"index create", "--from-metadata"}},
	{"tekton/task.yaml", "tekton", []string{"build --platform linux/arm64", "--push-by-digest", "index create docker://"}},
	{"tekton/pipeline.yaml", "tekton", nil},
}

// commandSite is one place a recipe runs commands: a shell script, or an
// argument vector (a container's), with the directory it runs in and
// the absolute directories it expects (volume mounts).
type commandSite struct {
	where   string
	script  string
	argv    []string
	workDir string
	mounts  []string
}

// TestRecipesListed checks that every recipe file in contrib/ is checked
// by TestRecipes.
func TestRecipesListed(t *testing.T) {
	var files []string
	err := filepath.WalkDir(contribDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (slices.Contains([]string{".yml", ".yaml"}, filepath.Ext(path)) || d.Name() == "Jenkinsfile") {
			rel, _ := filepath.Rel(contribDir, path)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(recipes, func(r recipe) bool { return r.path == f }) {
			t.Errorf("contrib/%s is not in recipes: add it, so its command lines are checked", f)
		}
	}
}

// TestRecipes parses every recipe, checks its structure for its CI
// system, and runs each polyarch command line in it through polyarch's
// own parser and pre-work checks (--parse-only).
func TestRecipes(t *testing.T) {
	for _, r := range recipes {
		t.Run(r.path, func(t *testing.T) {
			data, err := readRecipe(r.path)
			if err != nil {
				t.Fatal(err)
			}
			lines, failures := checkRecipe(t, r, data)
			for _, f := range failures {
				t.Error(f)
			}
			for _, w := range r.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
					t.Errorf("no polyarch command line with %q; found:\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
		})
	}
}

// TestRecipesCatchRenamedFlags renames, in each recipe, a flag its
// polyarch commands use: the check must then fail, as it would after
// polyarch renamed the flag.
func TestRecipesCatchRenamedFlags(t *testing.T) {
	for _, r := range recipes {
		t.Run(r.path, func(t *testing.T) {
			data, err := readRecipe(r.path)
			if err != nil {
				t.Fatal(err)
			}
			var flag string
			for _, f := range []string{"--push-by-digest", "--from-metadata", "--password-stdin", "--platform"} {
				if bytes.Contains(data, []byte(f)) {
					flag = f
					break
				}
			}
			if flag == "" {
				if r.want != nil {
					t.Fatalf("the recipe uses none of the flags this test renames")
				}
				return // pipeline.yaml: its commands are task.yaml's
			}
			_, failures := checkRecipe(t, r, bytes.ReplaceAll(data, []byte(flag), []byte(flag+"-renamed")))
			if !slices.ContainsFunc(failures, func(f string) bool { return strings.Contains(f, "flag provided but not defined") }) {
				t.Errorf("renaming %s went unnoticed (failures: %q)", flag, failures)
			}
		})
	}
}

// checkRecipe checks a recipe's structure (test errors) and runs its
// polyarch command lines; it returns them and the failures.
func checkRecipe(t *testing.T, r recipe, data []byte) (lines, failures []string) {
	t.Helper()
	var sites []commandSite
	if r.kind == "jenkins" {
		sites = jenkinsSites(t, string(data))
	} else {
		docs := decodeYAML(t, data)
		sites = map[string]func(*testing.T, []map[string]any) []commandSite{
			"github": githubSites, "gitlab": gitlabSites, "kubernetes": kubernetesSites, "tekton": tektonSites,
		}[r.kind](t, docs)
	}
	for _, s := range sites {
		l, f := runSite(t, s)
		lines, failures = append(lines, l...), append(failures, f...)
	}
	return lines, failures
}

// decodeYAML returns the documents of a YAML stream, each a mapping.
func decodeYAML(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("YAML does not parse: %v", err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// runSite runs the polyarch commands of a site with --parse-only in a
// scratch directory standing in for the CI workspace (a Containerfile
// and two builds' metadata files in it and in every mount), and returns
// them as text, and what failed.
func runSite(t *testing.T, s commandSite) (lines, failures []string) {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if s.workDir != "" {
		work = filepath.Join(root, s.workDir)
	}
	for _, d := range append([]string{work}, mountDirs(root, s.mounts)...) {
		writeWorkspace(t, d)
	}
	var cmds [][]string
	if s.script != "" {
		var err error
		if cmds, err = polyarchCommands(s.script, recipeSamples, work); err != nil {
			return nil, []string{fmt.Sprintf("%s: %v", s.where, err)}
		}
	} else if len(s.argv) > 0 {
		argv, err := expandArgv(s.argv)
		if err != nil {
			return nil, []string{fmt.Sprintf("%s: %v", s.where, err)}
		}
		cmds = [][]string{argv}
	}
	t.Chdir(work)
	for _, argv := range cmds {
		line := strings.Join(argv, " ")
		lines = append(lines, line)
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = rebase(a, root, append(s.mounts, s.workDir))
		}
		code, _, stderr := runApp(t, append([]string{"--parse-only"}, args...)...)
		if code != 0 {
			failures = append(failures, fmt.Sprintf("%s: polyarch %s\nexit %d: %s", s.where, line, code, stderr))
		}
	}
	return lines, failures
}

// mountDirs returns the mount paths inside root.
func mountDirs(root string, mounts []string) []string {
	var out []string
	for _, m := range mounts {
		out = append(out, filepath.Join(root, m))
	}
	return out
}

// rebase moves an absolute path under one of the mounts into root.
func rebase(arg, root string, mounts []string) string {
	for _, m := range mounts {
		if m != "" && (arg == m || strings.HasPrefix(arg, m+"/")) {
			return filepath.Join(root, arg)
		}
	}
	return arg
}

// writeWorkspace makes dir look like a CI workspace after the builds: a
// Containerfile and metadata/{amd64,arm64}.json as polyarch build
// --push-by-digest writes them.
func writeWorkspace(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Containerfile": "FROM scratch\n"}
	for i, arch := range []string{"amd64", "arm64"} {
		d := "sha256:" + strings.Repeat(string(rune('a'+i)), 64)
		files["metadata/"+arch+".json"] = fmt.Sprintf(`{"containerimage.digest": %q, "image.name": "registry.example.com/acme/app@%s",
 "polyarch.platforms": [{"platform": "linux/%s", "containerimage.digest": %q}]}`, d, d, arch, d)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// expandArgv substitutes the samples in a container's argument vector;
// an array parameter ($(params.x[*])) alone in an element becomes
// several elements, as Tekton does.
func expandArgv(argv []string) ([]string, error) {
	var out []string
	for _, a := range argv {
		v, err := expand(a, recipeSamples)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(a, "[*])") {
			out = append(out, strings.Fields(v)...)
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// jenkinsSites returns the sh steps of a Jenkinsfile: sh '...' and
// sh "..." (Groovy's single-quoted strings reach the shell as written).
func jenkinsSites(t *testing.T, text string) []commandSite {
	t.Helper()
	for _, want := range []string{"pipeline {", "matrix {", "axes {", "stage('merge')"} {
		if !strings.Contains(text, want) {
			t.Errorf("Jenkinsfile lacks %q: it must be a declarative pipeline with a matrix per platform and a merge stage", want)
		}
	}
	if strings.Contains(text, "docker") && strings.Contains(text, "agent { docker") {
		t.Errorf("Jenkinsfile uses a Docker agent: the recipe needs no Docker daemon")
	}
	var sites []commandSite
	for _, m := range regexp.MustCompile(`(?m)\bsh\s+'([^']*)'|\bsh\s+"([^"]*)"`).FindAllStringSubmatch(text, -1) {
		sites = append(sites, commandSite{where: "sh step", script: m[1] + m[2]})
	}
	return sites
}

// readRecipe reads a file of contrib/.
func readRecipe(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(contribDir, name))
}
