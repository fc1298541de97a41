// Package logbook is the home of Logbook's hand-written Go helpers (none yet). The generated messages and gRPC
// clients live in the module github.com/logbook-dev/logbook/gen/go (package logbookv1, written by
// `npm run generate` from proto/logbook/v1), which this module requires through a replace directive.
//
// Errors carry the gRPC status code and, in a google.rpc.ErrorInfo detail of the status (reason = the MLflow
// error code, domain "logbook"), the MLflow error code: read them with status.FromError(err).Details()
// (see client_test.go).
package logbook
