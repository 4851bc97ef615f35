// Command fsutil-oracle answers walk requests with what tonistiigi/fsutil sends, so the tests can
// compare src/context/filter.ts against the real thing. It follows the docker CLI's send path:
// buildkit's session/filesync hands NewFilterFS(NewFS(dir), &FilterOpt{...}) to fsutil.Send, which
// walks it through WithHardlinkReset from "/". This copy builds against current fsutil; the copy
// in ../fsutil-20.10 builds against the fsutil that Debian's docker 20.10 CLI vendors.
//
// Protocol: one JSON request per stdin line, one JSON response per stdout line (see request and
// response below). The module is resolved through the Go module proxy, never from a local checkout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	gofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

// request: op "walk" (the default) or "followLinks". Absent lists are nil, as absent gRPC
// metadata keys are; SkipDir makes every callback return filepath.SkipDir (as in
// TestWalkerIncludeReturnSkipDir); ResetOwner maps uid/gid to 0 as the docker CLI's Map does.
type request struct {
	ID         int      `json:"id"`
	Op         string   `json:"op"`
	Root       string   `json:"root"`
	Include    []string `json:"include"`
	Exclude    []string `json:"exclude"`
	Follow     []string `json:"follow"`
	Paths      []string `json:"paths"`
	SkipDir    bool     `json:"skipDir"`
	ResetOwner bool     `json:"resetOwner"`
}

// entry is one types.Stat as fsutil sends it; modTime is a decimal string (int64 nanoseconds
// do not fit a JSON number exactly).
type entry struct {
	Path     string            `json:"path"`
	Mode     uint32            `json:"mode"`
	UID      uint32            `json:"uid"`
	GID      uint32            `json:"gid"`
	Size     int64             `json:"size"`
	ModTime  string            `json:"modTime"`
	Linkname string            `json:"linkname"`
	Devmajor int64             `json:"devmajor"`
	Devminor int64             `json:"devminor"`
	Xattrs   map[string][]byte `json:"xattrs,omitempty"`
}

type response struct {
	ID      int       `json:"id"`
	Entries []entry   `json:"entries"`
	Paths   *[]string `json:"paths,omitempty"`
	Error   string    `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req request
		res := response{Entries: []entry{}}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = "bad request: " + err.Error()
		} else {
			res = answer(req)
		}
		if err := enc.Encode(res); err != nil {
			os.Exit(2)
		}
		if err := out.Flush(); err != nil {
			os.Exit(2)
		}
	}
}

// blockedAfter bounds one request: a walker that opens a fifo (old fsutil's FollowLinks reads a
// wildcard's directory with ioutil.ReadDir, which blocks on a fifo) never returns. The answer
// then says so; the stuck goroutine is left behind and later requests still run.
const blockedAfter = 2 * time.Second

func answer(req request) response {
	done := make(chan response, 1)
	go func() {
		res := response{ID: req.ID}
		if req.Op == "followLinks" {
			res.Paths, res.Error = followLinks(req)
			res.Entries = []entry{}
		} else {
			res.Entries, res.Error = walk(req)
		}
		done <- res
	}()
	select {
	case res := <-done:
		return res
	case <-time.After(blockedAfter):
		return response{ID: req.ID, Entries: []entry{}, Error: fmt.Sprintf("blocked: fsutil did not return within %s", blockedAfter)}
	}
}

func followLinks(req request) (*[]string, string) {
	fs, err := fsutil.NewFS(req.Root)
	if err != nil {
		return nil, err.Error()
	}
	paths, err := fsutil.FollowLinks(fs, req.Paths)
	if err != nil {
		return nil, err.Error()
	}
	if paths == nil {
		return nil, "" // nil: the whole root
	}
	return &paths, ""
}

func walk(req request) ([]entry, string) {
	entries := []entry{}
	base, err := fsutil.NewFS(req.Root)
	if err != nil {
		return entries, err.Error()
	}
	opt := &fsutil.FilterOpt{IncludePatterns: req.Include, ExcludePatterns: req.Exclude, FollowPaths: req.Follow}
	if req.ResetOwner {
		opt.Map = func(_ string, s *types.Stat) fsutil.MapResult {
			s.Uid, s.Gid = 0, 0
			return fsutil.MapResultKeep
		}
	}
	filtered, err := fsutil.NewFilterFS(base, opt)
	if err != nil {
		return entries, err.Error()
	}
	err = fsutil.WithHardlinkReset(filtered).Walk(context.Background(), string(filepath.Separator),
		func(_ string, d gofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			st, ok := fi.Sys().(*types.Stat)
			if !ok {
				return errors.New("fileinfo without stat info")
			}
			entries = append(entries, fromStat(st))
			if req.SkipDir {
				return filepath.SkipDir
			}
			return nil
		})
	if err != nil {
		return entries, err.Error()
	}
	return entries, ""
}

func fromStat(st *types.Stat) entry {
	return entry{
		Path:     filepath.ToSlash(st.Path),
		Mode:     st.Mode,
		UID:      st.Uid,
		GID:      st.Gid,
		Size:     st.Size,
		ModTime:  jsonInt(st.ModTime),
		Linkname: filepath.ToSlash(st.Linkname),
		Devmajor: st.Devmajor,
		Devminor: st.Devminor,
		Xattrs:   st.Xattrs,
	}
}

func jsonInt(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
