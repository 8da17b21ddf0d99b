package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the whole run to. It is
// how `clientarea bench --profile` looks inside the server it starts; an
// operator may set it too, to see where a busy server spends its time.
const profileEnv = "CLIENTAREA_CPU_PROFILE"

// startProfile starts a CPU profile into path and returns the function that
// ends it. Profiling costs a few per cent of CPU while it runs.
func startProfile(path string) (stop func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
