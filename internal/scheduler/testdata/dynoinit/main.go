// Command dynoinit is a lean `bulut dyno-init` for the benchmarks: the
// init of dynos without the rest of the server's packages (and their
// package initialisation) in the binary.
package main

import (
	"os"

	"github.com/bulut-bulut/bulut/internal/dynoinit"
)

func main() { os.Exit(dynoinit.Main(os.Args[1:])) }
