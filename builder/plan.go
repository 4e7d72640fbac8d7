package builder

// Plan is what a build will do, worked out from the options and the
// Containerfile alone, before any image is read: the stages buildah
// builds, every (base image, platform) pair they start from, and an
// emulator for every foreign platform whose RUN steps need one. NewPlan
// makes it once per process; EnterNamespace decides from it whether
// emulation needs polyarch's own namespace, and Build checks and builds
// what it lists.
type Plan struct {
	file      *containerfile
	needs     []baseNeed
	emulators []emulator
}

// NewPlan validates o (see Options.Validate), parses the Containerfile
// and plans the build. A Containerfile that cannot be built as written is
// a *ParseError naming its file, line and instruction; a platform without
// an emulator is an error listing every such platform. Nothing is pulled.
func NewPlan(o *Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cf, err := o.parseContainerfile()
	if err != nil {
		return nil, err
	}
	needs, emulated, err := collectNeeds(cf, o)
	if err != nil {
		return nil, err
	}
	emus, err := resolveEmulators(o.Emulation, emulated)
	if err != nil {
		return nil, err
	}
	return &Plan{file: cf, needs: needs, emulators: emus}, nil
}

// NeedsEmulation reports whether a foreign platform has RUN steps to
// execute, which only a qemu handler can run.
func (p *Plan) NeedsEmulation() bool {
	return len(p.emulators) > 0
}

// planOf returns o.Plan, or makes it when the caller passed none.
func planOf(o *Options) (*Plan, error) {
	if o.Plan != nil {
		return o.Plan, nil
	}
	p, err := NewPlan(o)
	if err != nil {
		return nil, err
	}
	o.Plan = p
	return p, nil
}
