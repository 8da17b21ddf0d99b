package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/clientarea/clientarea/internal/config"
	"github.com/clientarea/clientarea/internal/web"
)

// serve runs the server until ctx ends (SIGINT or SIGTERM), then stops
// accepting, lets requests in flight finish within --shutdown-wait, and
// closes the database.
func serve(ctx context.Context, args []string, s sys) error {
	fs := flagSet("serve", s)
	check := fs.Bool("check", false, "validate the configuration and the database, then exit")
	cfg, err := config.Load(fs, args, s.getenv)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, s)
	if err != nil {
		return err
	}
	defer a.Close()
	if *check {
		fmt.Fprintln(s.stdout, "configuration and database are fine")
		return nil
	}
	setMemoryLimit(cfg.MemoryLimitMiB, s, a.log)
	h, err := web.New(web.Config{Service: a.svc, Logger: a.log, Metrics: a.metrics,
		SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies, Now: s.now})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.metrics.Handler())
	}
	return a.listen(ctx, mux, s)
}

// setMemoryLimit gives the Go runtime a soft memory limit, unless the
// operator set GOMEMLIMIT, and with it a garbage-collection target of 400%
// unless GOGC is set.
//
// Each password hash leaves 19 MiB of garbage where it runs: in the
// server with --hash-workers=false, where under a flood of sign-ins the
// collector, which by default lets the heap grow to twice what is live,
// let resident memory reach about 200 MB. A limit keeps it near the limit
// plus the runtime's own overhead. With workers the hashes' garbage is
// theirs, and the limit caps what a flood's thousand requests hold. It is
// soft: when more is live, the runtime goes above it rather than fail,
// spending more time collecting.
//
// Below the limit, the live heap of a busy server is small (10-40 MB), so
// at the default target the collector ran dozens of times a second under
// a load of second factors. Letting the heap grow to five times what is
// live, which the limit still caps, cut the server's CPU per code by about
// 7% (docs/benchmarks.md).
func setMemoryLimit(mib int, s sys, log *slog.Logger) {
	if s.getenv("GOMEMLIMIT") != "" || mib == 0 {
		return
	}
	debug.SetMemoryLimit(int64(mib) << 20)
	if s.getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	log.Debug("memory limit", "mib", mib)
}

// gcPercent is the collector's target under a memory limit (see
// setMemoryLimit).
const gcPercent = 400

// ready answers 200 when the database answers and its schema is the one
// this binary knows; a load balancer sends no traffic to it otherwise.
func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	db, bin, err := a.store.SchemaStatus(ctx)
	if err != nil || db != bin {
		a.log.WarnContext(ctx, "not ready", "schema", db, "binary", bin, "err", err)
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func (a *app) listen(ctx context.Context, h http.Handler, s sys) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(h, a.log)
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() {
		if a.cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, a.cfg.TLSCert, a.cfg.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	if a.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			return err
		}
		// Only /metrics: a health checker pointed at this port by mistake
		// must get a 404, not metrics that always answer 200.
		mmux := http.NewServeMux()
		mmux.Handle("GET /metrics", a.metrics.Handler())
		msrv := newHTTPServer(mmux, a.log)
		servers = append(servers, msrv)
		go func() { errc <- msrv.Serve(mln) }()
		a.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "version", buildInfo().Version,
		"database", a.store.Dialect(), "base_url", a.cfg.PublicURL())
	if host, _, _ := net.SplitHostPort(a.cfg.Addr); a.cfg.BaseURL == "" &&
		(host == "" || net.ParseIP(host).IsUnspecified()) {
		a.log.Warn("set --base-url: links in e-mails point at the listen address",
			"base_url", a.cfg.PublicURL())
	}
	if s.ready != nil {
		s.ready(ln.Addr().String())
	}
	go a.expireSessions(ctx)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// As text, so that the JSON log does not show it in nanoseconds.
	a.log.Info("shutting down", "wait", a.cfg.ShutdownWait.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownWait)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.log.Info("stopped")
	return errors.Join(errs...)
}

// expireSessions deletes expired sessions now and then, so the table holds
// only live ones however long the server runs.
func (a *app) expireSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.svc.ExpireSessions(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("expire sessions", "err", err)
		} else if n > 0 {
			a.log.Debug("expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
