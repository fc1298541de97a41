// The generated Go client (github.com/logbook-dev/logbook/gen/go/logbook/v1) against a live Logbook.
//
// scripts/test-clients.mjs starts one Logbook per store and passes them as
// LOGBOOK_CLIENT_TARGETS="sqlite=127.0.0.1:P1,mongodb=127.0.0.1:P2"; every test runs once per store.
// The servers run with --auth basic: calls carry an access token of each store (LOGBOOK_CLIENT_TOKENS) as
// per-call credentials (auth_test.go).
// Run it through `npm run test:clients` (or `node scripts/test-clients.mjs go`).
package logbook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	logbookv1 "github.com/logbook-dev/logbook/gen/go/logbook/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

type target struct{ store, address, token string }

func targets(t *testing.T) []target {
	t.Helper()
	tokens := map[string]string{}
	for _, item := range strings.Split(os.Getenv("LOGBOOK_CLIENT_TOKENS"), ",") {
		if store, token, ok := strings.Cut(item, "="); ok {
			tokens[store] = token
		}
	}
	var out []target
	for _, item := range strings.Split(os.Getenv("LOGBOOK_CLIENT_TARGETS"), ",") {
		if store, address, ok := strings.Cut(item, "="); ok {
			if tokens[store] == "" {
				t.Fatalf("LOGBOOK_CLIENT_TOKENS has no token for %s: run the suite through `node scripts/test-clients.mjs`", store)
			}
			out = append(out, target{store, address, tokens[store]})
		}
	}
	if len(out) == 0 {
		t.Fatal("LOGBOOK_CLIENT_TARGETS is not set: run the suite through `node scripts/test-clients.mjs`")
	}
	return out
}

// clients are the generated stubs over one connection.
type clients struct {
	tracking  logbookv1.TrackingServiceClient
	search    logbookv1.SearchServiceClient
	artifacts logbookv1.ArtifactServiceClient
	registry  logbookv1.RegistryServiceClient
}

// forEachStore runs fn as a subtest per store, with the stubs and a context bounded to 30 s.
func forEachStore(t *testing.T, fn func(t *testing.T, ctx context.Context, c clients)) {
	for _, tg := range targets(t) {
		t.Run(tg.store, func(t *testing.T) {
			conn, err := grpc.NewClient(tg.address, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearerToken(tg.token)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fn(t, ctx, clients{
				tracking:  logbookv1.NewTrackingServiceClient(conn),
				search:    logbookv1.NewSearchServiceClient(conn),
				artifacts: logbookv1.NewArtifactServiceClient(conn),
				registry:  logbookv1.NewRegistryServiceClient(conn),
			})
		})
	}
}

func unique(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "go-" + hex.EncodeToString(b)
}

func nowMs() int64 { return time.Now().UnixMilli() }

// must(call())(t): the call's result, or the test fails with its error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func createExperiment(t *testing.T, ctx context.Context, c clients, name string) string {
	t.Helper()
	res := must(c.tracking.CreateExperiment(ctx, &logbookv1.CreateExperimentRequest{Name: name}))(t)
	if res.GetExperimentId() == "" {
		t.Fatal("CreateExperiment returned no experiment id")
	}
	return res.GetExperimentId()
}

func createRun(t *testing.T, ctx context.Context, c clients, experimentID, name string) *logbookv1.Run {
	t.Helper()
	res := must(c.tracking.CreateRun(ctx, &logbookv1.CreateRunRequest{
		ExperimentId: experimentID, RunName: name, StartTime: proto.Int64(nowMs()),
	}))(t)
	if res.GetRun().GetInfo().GetRunId() == "" {
		t.Fatal("CreateRun returned no run id")
	}
	return res.GetRun()
}

func TestCreateLogBatchAndReadBack(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, c clients) {
		run := createRun(t, ctx, c, createExperiment(t, ctx, c, unique(t)), "train")
		runID := run.GetInfo().GetRunId()
		if run.GetInfo().GetStatus() != logbookv1.RunStatus_RUN_STATUS_RUNNING {
			t.Fatalf("status %v, want RUNNING", run.GetInfo().GetStatus())
		}
		ts := nowMs()
		var metrics []*logbookv1.Metric
		for step := int64(0); step < 5; step++ {
			metrics = append(metrics, &logbookv1.Metric{
				Key: "loss", Value: proto.Float64(1 / float64(step+1)), Timestamp: proto.Int64(ts), Step: proto.Int64(step),
			})
		}
		must(c.tracking.LogBatch(ctx, &logbookv1.LogBatchRequest{
			RunId:   runID,
			Metrics: metrics,
			Params:  []*logbookv1.Param{{Key: "lr", Value: proto.String("0.01")}, {Key: "optimizer", Value: proto.String("adam")}},
			Tags:    []*logbookv1.RunTag{{Key: "team", Value: proto.String("research")}},
		}))(t)

		got := must(c.tracking.GetRun(ctx, &logbookv1.GetRunRequest{RunId: runID}))(t).GetRun()
		if got.GetInfo().GetRunId() != runID || got.GetInfo().GetRunName() != "train" {
			t.Fatalf("GetRun info = %v", got.GetInfo())
		}
		params := map[string]string{}
		for _, p := range got.GetData().GetParams() {
			params[p.GetKey()] = p.GetValue()
		}
		if len(params) != 2 || params["lr"] != "0.01" || params["optimizer"] != "adam" {
			t.Fatalf("params = %v", params)
		}
		tags := map[string]string{}
		for _, tag := range got.GetData().GetTags() {
			tags[tag.GetKey()] = tag.GetValue()
		}
		if tags["team"] != "research" {
			t.Fatalf("tags = %v", tags)
		}
		// GetRun carries each metric's latest value (highest step).
		var loss *logbookv1.Metric
		for _, m := range got.GetData().GetMetrics() {
			if m.GetKey() == "loss" {
				loss = m
			}
		}
		if loss == nil || loss.GetStep() != 4 || loss.GetValue() != 0.2 {
			t.Fatalf("latest loss = %v, want step 4 value 0.2", loss)
		}
	})
}

// drain reads a server stream to its end.
func drain[T any](t *testing.T, recv func() (T, error)) []T {
	t.Helper()
	var out []T
	for {
		msg, err := recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
}

func TestStreamSearchRunsAndLeaderboard(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, c clients) {
		symbol := unique(t)
		experimentID := createExperiment(t, ctx, c, symbol)
		scores := []struct {
			name   string
			sharpe float64
		}{{"alpha", 1.5}, {"beta", 2.5}, {"gamma", 0.5}}
		runIDs := map[string]string{}
		for _, s := range scores {
			runID := createRun(t, ctx, c, experimentID, s.name).GetInfo().GetRunId()
			runIDs[s.name] = runID
			must(c.tracking.LogBatch(ctx, &logbookv1.LogBatchRequest{
				RunId:   runID,
				Metrics: []*logbookv1.Metric{{Key: "sharpe", Value: proto.Float64(s.sharpe), Timestamp: proto.Int64(nowMs()), Step: proto.Int64(0)}},
				Params:  []*logbookv1.Param{{Key: "symbol", Value: proto.String(symbol)}},
			}))(t)
		}

		runs := must(c.search.StreamSearchRuns(ctx, &logbookv1.StreamSearchRunsRequest{
			ExperimentIds: []string{experimentID}, Filter: "metrics.sharpe > 1", OrderBy: []string{"metrics.sharpe DESC"},
		}))(t)
		var streamed []string
		for _, r := range drain(t, runs.Recv) {
			streamed = append(streamed, r.GetRun().GetInfo().GetRunId())
		}
		if want := []string{runIDs["beta"], runIDs["alpha"]}; strings.Join(streamed, ",") != strings.Join(want, ",") {
			t.Fatalf("StreamSearchRuns = %v, want %v", streamed, want)
		}

		board := drain(t, must(c.search.Leaderboard(ctx, &logbookv1.LeaderboardRequest{
			Symbol: symbol, Metric: "sharpe", ExperimentIds: []string{experimentID},
		}))(t).Recv)
		want := []struct {
			rank  int32
			name  string
			value float64
		}{{1, "beta", 2.5}, {2, "alpha", 1.5}, {3, "gamma", 0.5}}
		if len(board) != len(want) {
			t.Fatalf("Leaderboard has %d entries, want %d: %v", len(board), len(want), board)
		}
		for i, w := range want {
			e := board[i]
			if e.GetRank() != w.rank || e.GetRunName() != w.name || e.GetValue() != w.value || e.GetRunId() != runIDs[w.name] {
				t.Fatalf("Leaderboard[%d] = %v, want %v", i, e, w)
			}
		}
		if board[0].GetParams()["symbol"] != symbol {
			t.Fatalf("Leaderboard[0].params = %v", board[0].GetParams())
		}
	})
}

func TestUploadAndDownloadArtifact(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, c clients) {
		runID := createRun(t, ctx, c, createExperiment(t, ctx, c, unique(t)), "artifacts").GetInfo().GetRunId()
		payload := make([]byte, 200_000)
		if _, err := rand.Read(payload); err != nil {
			t.Fatal(err)
		}

		upload := must(c.artifacts.UploadArtifact(ctx))(t)
		if err := upload.Send(&logbookv1.UploadArtifactRequest{Content: &logbookv1.UploadArtifactRequest_Header{
			Header: &logbookv1.UploadArtifactHeader{RunId: runID, Path: "model/weights.bin", Size: proto.Int64(int64(len(payload)))},
		}}); err != nil {
			t.Fatal(err)
		}
		const chunk = 64 * 1024
		for off := 0; off < len(payload); off += chunk {
			end := min(off+chunk, len(payload))
			if err := upload.Send(&logbookv1.UploadArtifactRequest{Content: &logbookv1.UploadArtifactRequest_Chunk{Chunk: payload[off:end]}}); err != nil {
				t.Fatal(err)
			}
		}
		uploaded := must(upload.CloseAndRecv())(t)
		// The path is relative to the artifact store's root.
		if !strings.HasSuffix(uploaded.GetPath(), "/model/weights.bin") || uploaded.GetFileSize() != int64(len(payload)) {
			t.Fatalf("UploadArtifact = %v", uploaded)
		}

		download := must(c.artifacts.DownloadArtifact(ctx, &logbookv1.DownloadArtifactRequest{RunId: runID, Path: "model/weights.bin"}))(t)
		var got bytes.Buffer
		for _, part := range drain(t, download.Recv) {
			got.Write(part.GetChunk())
		}
		if !bytes.Equal(got.Bytes(), payload) {
			t.Fatalf("downloaded %d bytes that differ from the %d uploaded", got.Len(), len(payload))
		}
	})
}

func TestErrorCarriesStatusCodeAndMlflowErrorCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, c clients) {
		_, err := c.tracking.GetRun(ctx, &logbookv1.GetRunRequest{RunId: strings.Repeat("0", 32)})
		st, ok := status.FromError(err)
		if !ok || st.Code() != codes.NotFound || st.Message() == "" {
			t.Fatalf("GetRun of a missing run: %v, want NOT_FOUND with a message", err)
		}
		// grpc-status-details-bin → google.rpc.Status → google.rpc.ErrorInfo{reason: <MLflow code>, domain: "logbook"}
		var infos []*errdetails.ErrorInfo
		for _, detail := range st.Details() {
			if info, ok := detail.(*errdetails.ErrorInfo); ok {
				infos = append(infos, info)
			} else if e, ok := detail.(error); ok {
				t.Fatalf("undecodable detail: %v", e)
			}
		}
		if len(infos) != 1 || infos[0].GetReason() != "RESOURCE_DOES_NOT_EXIST" || infos[0].GetDomain() != "logbook" {
			t.Fatalf("ErrorInfo details = %v, want one {RESOURCE_DOES_NOT_EXIST, logbook}", infos)
		}
	})
}

func TestRegisterAndPromoteModelVersion(t *testing.T) {
	forEachStore(t, func(t *testing.T, ctx context.Context, c clients) {
		name := unique(t)
		run := createRun(t, ctx, c, createExperiment(t, ctx, c, name), "candidate")

		model := must(c.registry.CreateRegisteredModel(ctx, &logbookv1.CreateRegisteredModelRequest{Name: name}))(t)
		if model.GetRegisteredModel().GetName() != name {
			t.Fatalf("CreateRegisteredModel = %v", model)
		}
		version := must(c.registry.CreateModelVersion(ctx, &logbookv1.CreateModelVersionRequest{
			Name: name, Source: run.GetInfo().GetArtifactUri() + "/model", RunId: proto.String(run.GetInfo().GetRunId()),
		}))(t).GetModelVersion()
		if version.GetVersion() != "1" || version.GetCurrentStage() != "None" {
			t.Fatalf("CreateModelVersion = %v, want version 1 in stage None", version)
		}

		promoted := must(c.registry.TransitionModelVersionStage(ctx, &logbookv1.TransitionModelVersionStageRequest{
			Name: name, Version: version.GetVersion(), Stage: "Production", ArchiveExistingVersions: proto.Bool(true),
		}))(t).GetModelVersion()
		if promoted.GetCurrentStage() != "Production" {
			t.Fatalf("TransitionModelVersionStage = %v, want stage Production", promoted)
		}
		got := must(c.registry.GetModelVersion(ctx, &logbookv1.GetModelVersionRequest{Name: name, Version: "1"}))(t).GetModelVersion()
		if got.GetCurrentStage() != "Production" || got.GetRunId() != run.GetInfo().GetRunId() {
			t.Fatalf("GetModelVersion = %v", got)
		}
	})
}
