package index

import (
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
)

func TestEachInParallel(t *testing.T) {
	for _, limit := range []int{1, 4} {
		var running, peak atomic.Int32
		ran := make([]bool, 10)
		err := eachInParallel(10, limit, func(i int) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			ran[i] = true
			if i == 3 || i == 7 {
				return fmt.Errorf("call %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "call 3" {
			t.Errorf("limit %d: error %v, want the lowest failing call's (call 3)", limit, err)
		}
		if p := peak.Load(); p > int32(limit) {
			t.Errorf("limit %d: %d calls ran at once", limit, p)
		}
		if limit > 1 {
			for i, r := range ran {
				if !r {
					t.Errorf("limit %d: call %d did not run", limit, i)
				}
			}
		}
	}
	if err := eachInParallel(0, 4, func(int) error { return errors.New("called") }); err != nil {
		t.Errorf("no calls: %v", err)
	}
}

func TestNextPage(t *testing.T) {
	base, _ := url.Parse("http://reg.example:5000/v2/app/tags/list")
	for _, c := range []struct{ link, want string }{
		{"", ""},
		{`</v2/app/tags/list?last=b&n=2>; rel="next"`, "http://reg.example:5000/v2/app/tags/list?last=b&n=2"},
		{`<https://other.example/v2/app/tags/list?last=c>; rel="next"`, "https://other.example/v2/app/tags/list?last=c"},
		{`</v2/app/tags/list?last=b>; rel="prev"`, ""},
	} {
		got, err := nextPage(base, c.link)
		if err != nil || got != c.want {
			t.Errorf("nextPage(%q) = %q, %v; want %q", c.link, got, err, c.want)
		}
	}
}
