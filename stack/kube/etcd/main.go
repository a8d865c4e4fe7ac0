// Command etcd is a thin wrapper around upstream etcd's main, built from the
// published go.etcd.io/etcd/server/v3 module (upstream's server/main.go does
// exactly this). The stack runs it on loopback only; see ../up.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
