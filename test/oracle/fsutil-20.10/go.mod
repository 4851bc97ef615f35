module convox-image-deploy/test/oracle/fsutil-20.10

go 1.25.0

require github.com/tonistiigi/fsutil v0.0.0-20201103201449-0834f99b7b85

require (
	github.com/containerd/continuity v0.0.0-20190426062206-aaeac12a7ffc // indirect
	github.com/docker/docker v20.10.22+incompatible // indirect
	github.com/gogo/protobuf v1.3.1 // indirect
	github.com/konsorten/go-windows-terminal-sequences v1.0.1 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/sirupsen/logrus v1.4.2 // indirect
	golang.org/x/sync v0.0.0-20190423024810-112230192c58 // indirect
	golang.org/x/sys v0.0.0-20200917073148-efd3b9a0ff20 // indirect
)
