package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/polyarch/polyarch/emulation"
)

// The structure checks of each CI system's recipes, and where their
// commands are.

// mapOf, listOf and str walk decoded YAML; a missing or mistyped key
// yields the zero value.
func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }
func listOf(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string           { s, _ := v.(string); return s }

// path follows keys through nested mappings.
func path(v any, keys ...string) any {
	for _, k := range keys {
		v = mapOf(v)[k]
	}
	return v
}

// stringList returns a YAML list of strings.
func stringList(v any) []string {
	var out []string
	for _, e := range listOf(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// sortedKeys returns a mapping's keys in order, for stable test output.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// githubSites checks a GitHub Actions workflow (on, jobs, each with
// runs-on and steps; a matrix workflow runs on ubuntu-24.04 and
// ubuntu-24.04-arm and merges in a job that needs the builds) and
// returns its run: steps.
func githubSites(t *testing.T, docs []map[string]any) []commandSite {
	t.Helper()
	if len(docs) != 1 {
		t.Fatalf("%d YAML documents, want one workflow", len(docs))
	}
	wf := docs[0]
	if wf["on"] == nil || len(mapOf(wf["jobs"])) == 0 {
		t.Fatalf("not a workflow: it needs on: and jobs:")
	}
	var sites []commandSite
	var runners []string
	needs := false
	for _, name := range sortedKeys(mapOf(wf["jobs"])) {
		job := mapOf(wf["jobs"])[name]
		if path(job, "runs-on") == nil || len(listOf(path(job, "steps"))) == 0 {
			t.Errorf("job %s lacks runs-on or steps", name)
		}
		runners = append(runners, str(path(job, "runs-on")))
		for _, inc := range listOf(path(job, "strategy", "matrix", "include")) {
			runners = append(runners, str(path(inc, "runner")))
		}
		needs = needs || path(job, "needs") != nil
		for i, step := range listOf(path(job, "steps")) {
			if path(step, "run") == nil && path(step, "uses") == nil {
				t.Errorf("job %s step %d has neither run nor uses", name, i)
			}
			if run := str(path(step, "run")); run != "" {
				sites = append(sites, commandSite{where: fmt.Sprintf("job %s step %d", name, i), script: run})
			}
		}
	}
	if slices.Contains(runners, "${{ matrix.runner }}") {
		for _, want := range []string{"ubuntu-24.04", "ubuntu-24.04-arm"} {
			if !slices.Contains(runners, want) {
				t.Errorf("the matrix lacks the native runner %s (runners: %v)", want, runners)
			}
		}
		if !needs {
			t.Errorf("no job needs the matrix: the merge must wait for every platform")
		}
	}
	return sites
}

// gitlabSites checks a .gitlab-ci.yml (a parallel: matrix build job and a
// merge job that needs it; no docker:dind or privileged services) and
// returns the scripts of every job, hidden templates included.
func gitlabSites(t *testing.T, docs []map[string]any) []commandSite {
	t.Helper()
	if len(docs) != 1 {
		t.Fatalf("%d YAML documents, want one pipeline", len(docs))
	}
	var sites []commandSite
	matrix, needs := false, false
	for _, name := range sortedKeys(docs[0]) {
		job := mapOf(docs[0][name])
		if job == nil || (job["script"] == nil && job["before_script"] == nil) {
			continue
		}
		if strings.Contains(fmt.Sprint(job["services"]), "dind") {
			t.Errorf("job %s uses docker:dind: the recipe needs no Docker daemon", name)
		}
		matrix = matrix || len(listOf(path(job, "parallel", "matrix"))) > 0
		needs = needs || job["needs"] != nil
		for _, key := range []string{"before_script", "script", "after_script"} {
			for i, line := range stringList(job[key]) {
				sites = append(sites, commandSite{where: fmt.Sprintf("job %s %s[%d]", name, key, i), script: line})
			}
		}
	}
	if !matrix || !needs {
		t.Errorf("want a parallel: matrix build job and a merge job with needs (matrix %v, needs %v)", matrix, needs)
	}
	return sites
}

// kubernetesSites checks Jobs (batch/v1, restartPolicy, containers with
// images, never privileged; a build pinned by kubernetes.io/arch to its
// --platform's architecture and run in a user namespace) and returns
// their containers' commands.
func kubernetesSites(t *testing.T, docs []map[string]any) []commandSite {
	t.Helper()
	var sites []commandSite
	for _, doc := range docs {
		name := str(path(doc, "metadata", "name"))
		if doc["apiVersion"] != "batch/v1" || doc["kind"] != "Job" || name == "" {
			t.Errorf("document %v %v %q: want a named batch/v1 Job", doc["apiVersion"], doc["kind"], name)
			continue
		}
		pod := path(doc, "spec", "template", "spec")
		if rp := str(path(pod, "restartPolicy")); rp != "Never" && rp != "OnFailure" {
			t.Errorf("Job %s: restartPolicy %q, a Job needs Never or OnFailure", name, rp)
		}
		if strings.Contains(fmt.Sprint(doc), "privileged:true") {
			t.Errorf("Job %s is privileged: the recipe must run unprivileged", name)
		}
		containers := listOf(path(pod, "containers"))
		if len(containers) == 0 {
			t.Errorf("Job %s has no containers", name)
		}
		for _, c := range containers {
			site := containerSite(t, "Job "+name, c)
			checkPinned(t, name, pod, site.argv)
			sites = append(sites, site)
		}
	}
	return sites
}

// checkPinned checks that a Job running polyarch build --platform P runs
// on a node of P's architecture, in its own user namespace.
func checkPinned(t *testing.T, name string, pod any, argv []string) {
	t.Helper()
	i := slices.Index(argv, "--platform")
	if len(argv) == 0 || argv[0] != "build" || i < 0 || i+1 >= len(argv) {
		return
	}
	p, err := emulation.ParsePlatform(argv[i+1])
	if err != nil {
		t.Errorf("Job %s: %v", name, err)
		return
	}
	if arch := str(path(pod, "nodeSelector", "kubernetes.io/arch")); arch != p.Architecture {
		t.Errorf("Job %s builds %s on nodeSelector kubernetes.io/arch %q: pin it to %s", name, argv[i+1], arch, p.Architecture)
	}
	if hu, ok := path(pod, "hostUsers").(bool); !ok || hu {
		t.Errorf("Job %s builds without hostUsers: false: it needs its own user namespace", name)
	}
}

// containerSite returns where a container's command runs: its argv (the
// image's entrypoint is polyarch, so args alone are polyarch's), or the
// script of sh -c.
func containerSite(t *testing.T, where string, c any) commandSite {
	t.Helper()
	if str(path(c, "image")) == "" {
		t.Errorf("%s: a container or step without image", where)
	}
	site := commandSite{where: where, workDir: str(path(c, "workingDir"))}
	for _, m := range listOf(path(c, "volumeMounts")) {
		site.mounts = append(site.mounts, str(path(m, "mountPath")))
	}
	command, args := stringList(path(c, "command")), stringList(path(c, "args"))
	switch {
	case str(path(c, "script")) != "":
		site.script = str(path(c, "script"))
	case len(command) >= 2 && command[0] == "sh" && command[1] == "-c":
		site.script = strings.Join(append(command[2:], args...), " ")
	case len(command) == 0 || command[0] == "polyarch":
		site.argv = append(command[min(1, len(command)):], args...)
	}
	return site
}

// tektonParam matches a reference to a Task's or Pipeline's parameter.
var tektonParam = regexp.MustCompile(`\$\(params\.([a-zA-Z0-9_-]+)`)

// tektonSites checks Tekton resources (tekton.dev/v1; a Task's steps
// have images and use only declared params; a Pipeline fans a task out
// with a matrix over its own params, references Tasks of task.yaml with
// params they declare, and merges from the fan-out's results) and
// returns the Tasks' steps.
func tektonSites(t *testing.T, docs []map[string]any) []commandSite {
	t.Helper()
	var sites []commandSite
	tasks := tektonTasks(t)
	for _, doc := range docs {
		kind, name := str(doc["kind"]), str(path(doc, "metadata", "name"))+str(path(doc, "metadata", "generateName"))
		if doc["apiVersion"] != "tekton.dev/v1" || name == "" {
			t.Errorf("%s %q: want a named tekton.dev/v1 resource", kind, name)
		}
		switch kind {
		case "Task":
			declared := paramNames(path(doc, "spec", "params"))
			for i, step := range listOf(path(doc, "spec", "steps")) {
				for _, m := range tektonParam.FindAllStringSubmatch(fmt.Sprint(step), -1) {
					if !slices.Contains(declared, m[1]) {
						t.Errorf("Task %s step %d uses $(params.%s), which it does not declare", name, i, m[1])
					}
				}
				sites = append(sites, containerSite(t, fmt.Sprintf("Task %s step %d", name, i), step))
			}
		case "Pipeline":
			checkPipeline(t, name, doc, tasks)
		case "PipelineRun":
			if str(path(doc, "spec", "pipelineRef", "name")) != "polyarch-multiarch" {
				t.Errorf("PipelineRun runs %v, not the Pipeline polyarch-multiarch", path(doc, "spec", "pipelineRef"))
			}
		default:
			t.Errorf("unexpected kind %q", kind)
		}
	}
	return sites
}

// tektonTasks returns the params each Task of tekton/task.yaml declares.
func tektonTasks(t *testing.T) map[string][]string {
	t.Helper()
	data, err := readRecipe("tekton/task.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, doc := range decodeYAML(t, data) {
		if doc["kind"] == "Task" {
			out[str(path(doc, "metadata", "name"))] = paramNames(path(doc, "spec", "params"))
		}
	}
	return out
}

// paramNames returns the names of a params list.
func paramNames(v any) []string {
	var out []string
	for _, p := range listOf(v) {
		out = append(out, str(path(p, "name")))
	}
	return out
}

// checkPipeline checks a Pipeline's tasks against the Tasks and its own
// params, and that it has a matrix fan-out and a task using its results.
func checkPipeline(t *testing.T, name string, doc map[string]any, tasks map[string][]string) {
	t.Helper()
	own := paramNames(path(doc, "spec", "params"))
	fanout, merge := false, false
	for _, pt := range listOf(path(doc, "spec", "tasks")) {
		ref, ptName := str(path(pt, "taskRef", "name")), str(path(pt, "name"))
		declared, ok := tasks[ref]
		if !ok {
			t.Errorf("Pipeline %s task %s references Task %q, which task.yaml lacks", name, ptName, ref)
		}
		given := append(listOf(path(pt, "params")), listOf(path(pt, "matrix", "params"))...)
		for _, p := range given {
			if !slices.Contains(declared, str(path(p, "name"))) {
				t.Errorf("Pipeline %s task %s passes param %q, which Task %s does not declare", name, ptName, str(path(p, "name")), ref)
			}
			for _, m := range tektonParam.FindAllStringSubmatch(fmt.Sprint(path(p, "value")), -1) {
				if !slices.Contains(own, m[1]) {
					t.Errorf("Pipeline %s task %s uses $(params.%s), which the Pipeline does not declare", name, ptName, m[1])
				}
			}
			merge = merge || strings.Contains(fmt.Sprint(path(p, "value")), "$(tasks.")
		}
		fanout = fanout || len(listOf(path(pt, "matrix", "params"))) > 0
	}
	if !fanout || !merge {
		t.Errorf("Pipeline %s: want a matrix fan-out (%v) and a merge from its results (%v)", name, fanout, merge)
	}
}
