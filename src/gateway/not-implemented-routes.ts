/**
 * MLflow 3.17.2's role (RBAC) and workspace endpoints, which Logbook does not have: each answers 501 NOT_IMPLEMENTED
 * with what to use instead, so MLflow clients and scripts get a clear answer rather than a 404 that reads like a
 * typo. Per-user grants (users/permissions/grant) cover what roles are used for on a server without workspaces.
 */
import type { HTTPMethods } from "fastify";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { RawRoute } from "./gateway.js";

const ROLES_MESSAGE =
  "Roles are not implemented by Logbook: grant permissions to each user instead (POST /api/3.0/mlflow/users/permissions/grant).";
const WORKSPACES_MESSAGE = "Workspaces are not implemented by Logbook: one server holds one set of experiments and registered models.";

const ROLE_ROUTES: Array<[HTTPMethods, string]> = [
  ["POST", "roles/create"],
  ["GET", "roles/get"],
  ["GET", "roles/list"],
  ["PATCH", "roles/update"],
  ["DELETE", "roles/delete"],
  ["POST", "roles/permissions/add"],
  ["DELETE", "roles/permissions/remove"],
  ["GET", "roles/permissions/list"],
  ["PATCH", "roles/permissions/update"],
  ["POST", "roles/assign"],
  ["DELETE", "roles/unassign"],
  ["GET", "users/roles/list"],
  ["GET", "roles/users/list"],
];

const WORKSPACE_ROUTES: Array<[HTTPMethods[], string]> = [
  [["GET", "POST"], "workspaces"],
  [["GET", "PATCH", "DELETE"], "workspaces/:workspace_name"],
];

const answer = (message: string): RawRoute["handler"] => async () => {
  throw new AppError(ErrorCode.NOT_IMPLEMENTED, message);
};

/** The raw routes, under /api/3.0/mlflow and /ajax-api/3.0/mlflow. */
export function notImplementedRoutes(): RawRoute[] {
  const routes: RawRoute[] = [];
  for (const prefix of ["/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"]) {
    for (const [method, path] of ROLE_ROUTES) routes.push({ method, url: prefix + path, handler: answer(ROLES_MESSAGE) });
    for (const [method, path] of WORKSPACE_ROUTES) routes.push({ method, url: prefix + path, handler: answer(WORKSPACES_MESSAGE) });
  }
  return routes;
}
