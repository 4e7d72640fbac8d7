package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// This file turns the shell of a CI recipe into the argument vectors of
// its polyarch commands, as sh would: quotes, backslash-newlines,
// comments, operators (&& || | ;), variables and globs. Every variable,
// CI expression and command substitution must have a sample value.

// substitutions are, in order, the expansions a recipe's shell may hold:
// GitHub's ${{ expr }}, Tekton's $(params.x) and friends, $(command),
// ${VAR} and $VAR. Each match is looked up in the samples by its
// normalised text.
var substitutions = regexp.MustCompile(`\$\{\{[^}]*\}\}|\$\((?:params|workspaces|results|tasks|context)\.[^)]*\)|\$\([^()]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// sampleKey normalises an expansion: ${{  x  }} and ${VAR} are looked up
// as ${{ x }} and $VAR.
func sampleKey(expr string) string {
	if strings.HasPrefix(expr, "${{") {
		return "${{ " + strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(expr, "${{"), "}}")) + " }}"
	}
	if strings.HasPrefix(expr, "${") {
		return "$" + strings.TrimSuffix(strings.TrimPrefix(expr, "${"), "}")
	}
	return expr
}

// expand replaces every expansion in s by its sample value.
func expand(s string, samples map[string]string) (string, error) {
	var missing []string
	out := substitutions.ReplaceAllStringFunc(s, func(expr string) string {
		v, ok := samples[sampleKey(expr)]
		if !ok {
			missing = append(missing, sampleKey(expr))
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no sample value for %s: add one to the recipe's samples", strings.Join(missing, ", "))
	}
	return out, nil
}

// shellWord is a word of a command line; glob is set when an unquoted
// part holds a *, ? or [ that sh would expand; err when an expansion in
// it has no sample (reported only for polyarch's command lines).
type shellWord struct {
	text string
	glob bool
	err  error
}

// splitShell splits a script into simple commands' words.
func splitShell(script string, samples map[string]string) ([][]shellWord, error) {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var cmds [][]shellWord
	var cur []shellWord
	var word strings.Builder
	inWord, glob := false, false
	var wordErr error
	flushWord := func() {
		if inWord {
			cur = append(cur, shellWord{word.String(), glob, wordErr})
		}
		word.Reset()
		inWord, glob, wordErr = false, false, nil
	}
	flushCmd := func() {
		flushWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(script[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c quote in %q", c, script)
			}
			part := script[i+1 : i+1+end]
			if c == '"' {
				var err error
				if part, err = expand(part, samples); err != nil && wordErr == nil {
					wordErr = err
				}
			}
			word.WriteString(part)
			inWord = true
			i += end + 1
		case c == '$':
			loc := substitutions.FindStringIndex(script[i:])
			if loc == nil || loc[0] != 0 {
				word.WriteByte(c)
				inWord = true
				continue
			}
			v, err := expand(script[i:i+loc[1]], samples)
			if err != nil && wordErr == nil {
				wordErr = err
			}
			word.WriteString(v)
			inWord = true
			i += loc[1] - 1
		case c == '#' && !inWord:
			nl := strings.IndexByte(script[i:], '\n')
			if nl < 0 {
				i = len(script)
			} else {
				i += nl - 1
			}
		case c == '\n' || c == ';' || c == '&' || c == '|':
			flushCmd()
		case c == '>' || c == '<':
			// a redirection: its target is not an argument
			flushWord()
			for i+1 < len(script) && (script[i+1] == '>' || script[i+1] == ' ') {
				i++
			}
			for i+1 < len(script) && !strings.ContainsRune(" \t\n;&|", rune(script[i+1])) {
				i++
			}
		case c == ' ' || c == '\t':
			flushWord()
		default:
			word.WriteByte(c)
			inWord = true
			glob = glob || c == '*' || c == '?' || c == '['
		}
	}
	flushCmd()
	return cmds, nil
}

// polyarchCommands returns the argument vectors (without "polyarch") of
// the polyarch commands in script, globs expanded in dir.
func polyarchCommands(script string, samples map[string]string, dir string) ([][]string, error) {
	cmds, err := splitShell(script, samples)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, words := range cmds {
		for len(words) > 0 && (words[0].text == "sudo" || strings.Contains(words[0].text, "=") && !strings.HasPrefix(words[0].text, "-")) {
			words = words[1:] // sudo, VAR=value prefixes
		}
		if len(words) == 0 || filepath.Base(words[0].text) != "polyarch" {
			continue
		}
		var argv []string
		for _, w := range words[1:] {
			if w.err != nil {
				return nil, w.err
			}
			if w.glob {
				matches, _ := filepath.Glob(filepath.Join(dir, w.text))
				for _, m := range matches {
					rel, _ := filepath.Rel(dir, m)
					argv = append(argv, rel)
				}
				if len(matches) > 0 {
					continue
				}
			}
			argv = append(argv, w.text)
		}
		out = append(out, argv)
	}
	return out, nil
}
