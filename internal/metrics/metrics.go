// Package metrics exports clientarea's counters in the Prometheus text
// format. It implements the observer interfaces of internal/auth and
// internal/web, so those packages know nothing of Prometheus.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Build identifies the running binary.
type Build struct{ Version, Commit, Date string }

// Metrics is one registry with every clientarea metric.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	signIns      *prometheus.CounterVec
	secondFactor *prometheus.CounterVec
	throttled    *prometheus.CounterVec
	enrolments   *prometheus.CounterVec
	hashWait     prometheus.Histogram
}

// New registers the metrics. sessions counts active sessions when scraped;
// db is the connection pool whose use is reported.
func New(b Build, sessions func(context.Context) (int64, error), db *sql.DB) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clientarea_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clientarea_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clientarea_signins_total", Help: "Password sign-in attempts by outcome.",
		}, []string{"outcome"}),
		secondFactor: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clientarea_second_factor_total", Help: "Second-factor checks by outcome.",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clientarea_throttled_total", Help: "Attempts refused by a throttle, by throttle.",
		}, []string{"throttle"}),
		enrolments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clientarea_enrolments_total", Help: "Authenticator enrolments by outcome.",
		}, []string{"outcome"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "clientarea_password_hash_queue_wait_seconds",
			Help:    "Time a password check waited for a hashing slot.",
			Buckets: []float64{.0001, .001, .01, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "clientarea_build_info", Help: "Version of the running binary.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "date": b.Date},
	})
	info.Set(1)
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "clientarea_active_sessions", Help: "Unexpired sessions in the database.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := sessions(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.reg.MustRegister(m.requests, m.latency, m.signIns, m.secondFactor, m.throttled,
		m.enrolments, m.hashWait, info, active,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "clientarea"))
	return m
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest counts one HTTP request by its route pattern.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// SignIn counts a password sign-in outcome.
func (m *Metrics) SignIn(outcome string) { m.signIns.WithLabelValues(outcome).Inc() }

// SecondFactor counts a second-factor outcome.
func (m *Metrics) SecondFactor(outcome string) { m.secondFactor.WithLabelValues(outcome).Inc() }

// Throttled counts an attempt refused by a throttle.
func (m *Metrics) Throttled(what string) { m.throttled.WithLabelValues(what).Inc() }

// Enrolment counts an enrolment outcome.
func (m *Metrics) Enrolment(outcome string) { m.enrolments.WithLabelValues(outcome).Inc() }

// HashQueueWait records how long a password check waited for a slot.
func (m *Metrics) HashQueueWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }
