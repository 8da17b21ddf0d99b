package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clientarea/clientarea/internal/loadtest"
)

// benchServer is a clientarea server the bench started as a child process
// of its own. A child, rather than the server running inside the bench,
// is what lets /proc report the server's memory and CPU time apart from
// the load generator's: in one process they could not be told apart.
type benchServer struct {
	cmd  *exec.Cmd
	done chan error
	log  string
	URL  string
	PID  int
	// FirstAnswer is the time from starting the process to the first
	// answer of GET /healthz; IdleRSS its memory a second later.
	FirstAnswer time.Duration
	IdleRSS     int64
}

// serverEnv is the child's environment: the bench's runtime settings that
// a benchmark may want to vary, and no CLIENTAREA_* variable, so that the
// server runs with exactly the flags below. The PG* variables go too, from
// this process's own environment, where the PostgreSQL driver reads them:
// they can choose the host, the database and the user, and the server must
// reach the database the bench checked and loaded.
func serverEnv(s sys) []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "TMPDIR", "GOGC", "GOMEMLIMIT", "GOMAXPROCS",
		"GODEBUG"} {
		if v := s.getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// startServer runs `clientarea serve` on a free loopback port with the
// data folder data and waits for its first answer.
func (b *bencher) startServer(ctx context.Context) (*benchServer, error) {
	b.starts++
	srv := &benchServer{log: filepath.Join(b.work, fmt.Sprintf("server-%d.log", b.starts)),
		done: make(chan error, 1)}
	logFile, err := os.Create(srv.log)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", b.data, "--log-format", "json",
		"--trusted-proxies", "127.0.0.1", "--hash-memory", strconv.Itoa(int(b.opt.hash.Memory)),
		"--hash-iterations", strconv.Itoa(int(b.opt.hash.Iterations)),
		"--hash-lanes", strconv.Itoa(int(b.opt.hash.Parallelism))}
	if b.opt.databaseURL != "" {
		args = append(args, "--database-url", b.opt.databaseURL)
	}
	// Not CommandContext: the server is stopped with SIGTERM below, so
	// that it shuts down as in production, not killed.
	srv.cmd = exec.Command(b.opt.serverBin, args...)
	srv.cmd.Env = serverEnv(b.sys)
	if b.opt.profile != "" {
		srv.cmd.Env = append(srv.cmd.Env, profileEnv+"="+
			filepath.Join(b.opt.profile, fmt.Sprintf("server-%d.cpu.pprof", b.starts)))
	}
	srv.cmd.Stdout, srv.cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	srv.PID = srv.cmd.Process.Pid
	go func() { srv.done <- srv.cmd.Wait() }()
	if err := srv.awaitFirstAnswer(ctx, start); err != nil {
		srv.stop()
		return nil, err
	}
	return srv, srv.measureIdle(ctx)
}

// awaitFirstAnswer reads the address from the server's "listening" log
// line and asks GET /healthz until it answers, polling every half
// millisecond so that the poll adds little to the time measured.
func (srv *benchServer) awaitFirstAnswer(ctx context.Context, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	defer hc.CloseIdleConnections()
	for {
		select {
		case err := <-srv.done:
			srv.done <- err
			return fmt.Errorf("server exited before answering (%v):\n%s", err, srv.logTail())
		case <-ctx.Done():
			return fmt.Errorf("server did not answer within 30s:\n%s", srv.logTail())
		default:
		}
		if srv.URL == "" {
			srv.URL = listeningURL(srv.log)
		}
		if srv.URL != "" {
			resp, err := hc.Get(srv.URL + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					srv.FirstAnswer = time.Since(start)
					return nil
				}
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// listeningURL finds the address in the server's "listening" log line.
func listeningURL(log string) string {
	f, err := os.Open(log)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			if loadtest.CheckLoopback("http://"+line.Addr) == nil {
				return "http://" + line.Addr
			}
		}
	}
	return ""
}

// measureIdle waits a second for start-up work to settle and reads the
// server's resident memory.
func (srv *benchServer) measureIdle(ctx context.Context) error {
	if err := loadtest.Sleep(ctx, time.Second); err != nil {
		return err
	}
	p, err := loadtest.ReadProcTree(srv.PID)
	if err != nil {
		return err
	}
	srv.IdleRSS = p.RSS
	return nil
}

// stop sends SIGTERM, as systemd does, and waits for a clean exit; a
// server that takes longer than its shutdown wait is killed.
func (srv *benchServer) stop() error {
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil &&
		!errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop server: %w", err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			return fmt.Errorf("server exited with %v:\n%s", err, srv.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.done
		return fmt.Errorf("server did not stop within 30s")
	}
}

// logTail is the end of the server's log, for error messages. The log
// holds request lines and causes, never secrets.
func (srv *benchServer) logTail() string {
	b, err := os.ReadFile(srv.log)
	if err != nil {
		return ""
	}
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}
