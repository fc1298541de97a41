package logbook_test

import (
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	logbookv1 "github.com/logbook-dev/logbook/gen/go/logbook/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// bearerToken sends `authorization: Bearer <token>` with every call (credentials.PerRPCCredentials). It allows
// plaintext because the suite's servers listen on loopback; over a network, use TLS transport credentials and
// return true from RequireTransportSecurity.
type bearerToken string

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return false }

// mlflowCode is the MLflow error code a failed call carries in its google.rpc.ErrorInfo.
func mlflowCode(t *testing.T, err error) (codes.Code, string) {
	t.Helper()
	st, _ := status.FromError(err)
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

// adminBasic is the admin's `authorization` value (scripts/test-clients.mjs passes LOGBOOK_CLIENT_ADMIN="user:password").
func adminBasic(t *testing.T) string {
	creds := os.Getenv("LOGBOOK_CLIENT_ADMIN")
	if !strings.Contains(creds, ":") {
		t.Fatal("LOGBOOK_CLIENT_ADMIN is not set: run the suite through `node scripts/test-clients.mjs`")
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TestAuthentication: without credentials a call is UNAUTHENTICATED; AuthService makes a user, a DENY and a token
// of that user; with the token the user cannot read the denied experiment (PERMISSION_DENIED) nor find it in a search;
// a revoked token is UNAUTHENTICATED.
func TestAuthentication(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.store, func(t *testing.T) {
			conn, err := grpc.NewClient(tg.address, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			base, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			as := func(authorization string) context.Context {
				return metadata.AppendToOutgoingContext(base, "authorization", authorization)
			}
			tracking := logbookv1.NewTrackingServiceClient(conn)
			auth := logbookv1.NewAuthServiceClient(conn)
			search := logbookv1.NewSearchServiceClient(conn)

			_, err = tracking.GetExperiment(base, &logbookv1.GetExperimentRequest{ExperimentId: "0"})
			if code, reason := mlflowCode(t, err); code != codes.Unauthenticated || reason != "UNAUTHENTICATED" {
				t.Fatalf("no credentials: %v, want UNAUTHENTICATED", err)
			}

			admin := as(adminBasic(t))
			name := unique(t)
			must(auth.CreateUser(admin, &logbookv1.CreateUserRequest{Username: name, Password: "a-long-password-1"}))(t)
			hidden := must(tracking.CreateExperiment(admin, &logbookv1.CreateExperimentRequest{Name: name + "-hidden"}))(t).GetExperimentId()
			must(tracking.CreateExperiment(admin, &logbookv1.CreateExperimentRequest{Name: name + "-visible"}))(t)
			must(auth.GrantUserPermission(admin, &logbookv1.GrantUserPermissionRequest{
				Username: name, ResourceType: "experiment", ResourceId: hidden, Permission: "DENY",
			}))(t)
			created := must(auth.CreateAccessToken(as(basicAuth(name, "a-long-password-1")), &logbookv1.CreateAccessTokenRequest{Name: "go"}))(t)

			user := as("Bearer " + created.GetToken())
			_, err = tracking.GetExperiment(user, &logbookv1.GetExperimentRequest{ExperimentId: hidden})
			if code, reason := mlflowCode(t, err); code != codes.PermissionDenied || reason != "PERMISSION_DENIED" {
				t.Fatalf("GetExperiment under DENY: %v, want PERMISSION_DENIED", err)
			}
			found := must(search.SearchExperiments(user, &logbookv1.SearchExperimentsRequest{Filter: "name LIKE '" + name + "-%'", MaxResults: proto.Int64(10)}))(t)
			if len(found.GetExperiments()) != 1 || found.GetExperiments()[0].GetName() != name+"-visible" {
				t.Fatalf("SearchExperiments as the user: %v, want only %s-visible", found.GetExperiments(), name)
			}

			must(auth.RevokeAccessToken(user, &logbookv1.RevokeAccessTokenRequest{TokenId: created.GetTokenId()}))(t)
			_, err = tracking.GetExperiment(user, &logbookv1.GetExperimentRequest{ExperimentId: "0"})
			if code, _ := mlflowCode(t, err); code != codes.Unauthenticated {
				t.Fatalf("revoked token: %v, want UNAUTHENTICATED", err)
			}
		})
	}
}
