package builder

import (
	"errors"
	"strings"
	"testing"
)

func TestRunMountOptions(t *testing.T) {
	for _, tc := range []struct {
		mount   string
		problem string // "" when valid
	}{
		{"type=bind,source=.,target=/src,ro", ""},
		{"target=/src,from=builder,rw", ""},
		{"type=cache,target=/root/.cache,id=go,sharing=locked,mode=0755,uid=1000", ""},
		{"type=tmpfs,target=/tmp,tmpfs-size=64m", ""},
		{"type=secret,id=token,required", ""},
		{"type=secret,id=token,env=TOKEN,required=true", ""},
		{"type=ssh,id=default,mode=0600", ""},
		{"type=cache,target=/c,uid=$UID", ""},
		{"type=bogus,target=/x", `unknown mount type "bogus"`},
		{"type=bind,frobnicate=1,target=/x", `unknown option "frobnicate" for type=bind`},
		{"type=bind,ro=yes,target=/x", `option "ro" takes no value`},
		{"type=cache,target=/x,sharing=everyone", `option sharing: "everyone" is not one of shared, private, locked`},
		{"type=cache,target=/x,mode=rwx", `option mode: "rwx" is not a base-8 number`},
		{"type=secret,id=a,required=maybe", `option required: "maybe" is not true or false`},
		{"type=tmpfs,tmpfs-size=1m", "type=tmpfs needs a target"},
		{"type=bind,target=", `option "target" needs a value`},
	} {
		t.Run(tc.mount, func(t *testing.T) {
			path := writeContainerfile(t, "FROM a\nRUN --mount="+tc.mount+" true\n")
			_, err := parseContainerfile(path)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("valid mount rejected: %v", err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != 2 || pe.Instruction != "RUN" || !strings.HasSuffix(pe.Problem, tc.problem) {
				t.Errorf("got %+v, want line 2, RUN, problem ending in %q", *pe, tc.problem)
			}
		})
	}
}
