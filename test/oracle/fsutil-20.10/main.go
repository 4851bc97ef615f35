// Command fsutil-oracle-20.10 is ../fsutil's oracle built against the fsutil that Debian's docker
// 20.10 CLI vendors (0834f99b7b85, with the docker/docker v20.10.22 pattern matcher the CLI
// vendors), whose API differs: fsutil.Walk(ctx, root, &WalkOpt{...}, fn) filters while walking,
// and the CLI's filesync sends exactly what that walk yields (no hardlink reset). Same protocol
// as ../fsutil/main.go, so the tests can show where the old CLI and current fsutil differ.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

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
	paths, err := fsutil.FollowLinks(req.Root, req.Paths)
	if err != nil {
		return nil, err.Error()
	}
	if paths == nil {
		return nil, ""
	}
	return &paths, ""
}

func walk(req request) ([]entry, string) {
	entries := []entry{}
	opt := &fsutil.WalkOpt{IncludePatterns: req.Include, ExcludePatterns: req.Exclude, FollowPaths: req.Follow}
	if req.ResetOwner {
		opt.Map = func(_ string, s *types.Stat) bool {
			s.Uid, s.Gid = 0, 0
			return true
		}
	}
	err := fsutil.Walk(context.Background(), req.Root, opt, func(_ string, fi os.FileInfo, err error) error {
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
		Size:     st.Size_,
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
