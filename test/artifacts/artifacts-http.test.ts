/**
 * MLflow's artifact routes over HTTP on both stores: PUT/GET round trips (empty, small, 50 MiB) with
 * checksums and download headers, both listing shapes (proxy basenames; artifacts/list relative to the
 * run root, is_dir written when false), DELETE, /get-artifact, server-info, the /ajax-api twins,
 * traversal in every encoding (400 "Invalid path", nothing written), and an abandoned PUT (nothing listed).
 */
import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { content, MiB, rawRequest, sha256 } from "../harness/artifacts.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const PROXY = "/api/2.0/mlflow-artifacts/artifacts";

describe.each(STORE_KINDS)("artifact HTTP routes on %s", (kind) => {
  let lb: TestLogbook;
  let runId: string;
  let experimentId: string;
  let runRoot: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "artifacts_http" });
    experimentId = (await lb.tracking.createExperiment({ name: "artifacts-http", artifactLocation: "", tags: [] })).experimentId;
    const run = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!;
    runId = run.info!.runId;
    expect(run.info!.artifactUri).toBe(`mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
    runRoot = `${experimentId}/${runId}/artifacts`;
  });
  afterAll(async () => {
    await lb?.close();
  });

  const put = (path: string, body: Buffer, prefix = PROXY) => rawRequest(lb.httpUrl, "PUT", `${prefix}/${path}`, body);
  const listProxy = async (dir: string) => {
    const res = await fetch(`${lb.httpUrl}${PROXY}?path=${encodeURIComponent(dir)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { files: { path: string; is_dir: boolean; file_size?: number }[] };
  };

  it.each([
    ["empty", 0],
    ["small", 4321],
    ["multi-chunk 50 MiB + 3", 50 * MiB + 3],
  ])("PUT then GET round-trips a %s file", async (_label, size) => {
    const data = content(size);
    const path = `${runRoot}/http/${size}.bin`;
    const up = await put(path, data);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body.toString())).toEqual({});
    const res = await fetch(`${lb.httpUrl}${PROXY}/${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain(`filename="${size}.bin"`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const back = Buffer.from(await res.arrayBuffer());
    expect(back.length).toBe(size);
    expect(sha256(back)).toBe(sha256(data));
    // The run's own route reads the same bytes.
    const viaRun = await fetch(`${lb.httpUrl}/get-artifact?run_id=${runId}&path=${encodeURIComponent(`http/${size}.bin`)}`);
    expect(viaRun.status).toBe(200);
    expect(sha256(Buffer.from(await viaRun.arrayBuffer()))).toBe(sha256(data));
    // Keep the store small for the tests that follow (FerretDB scans GridFS chunks on delete).
    expect((await rawRequest(lb.httpUrl, "DELETE", `${PROXY}/${path}`)).status).toBe(200);
  });

  it("guesses Content-Type by extension and keeps odd names", async () => {
    await put(`${runRoot}/types/notes.txt`, Buffer.from("hello"));
    await put(`${runRoot}/types/with%20space%25.json`, Buffer.from("{}"));
    const txt = await fetch(`${lb.httpUrl}${PROXY}/${runRoot}/types/notes.txt`);
    expect(txt.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await txt.text()).toBe("hello");
    const json = await fetch(`${lb.httpUrl}${PROXY}/${runRoot}/types/with%20space%25.json`);
    expect(json.headers.get("content-type")).toBe("application/json");
    expect((await listProxy(`${runRoot}/types`)).files.map((f) => f.path)).toEqual(["notes.txt", "with space%.json"]);
  });

  it("lists nested directories in both shapes", async () => {
    for (const p of ["tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.txt"]) await put(`${runRoot}/${p}`, Buffer.from(p));
    // MLflow's proxy listing: basenames, is_dir, file_size only for files.
    expect(await listProxy(`${runRoot}/tree`)).toEqual({
      files: [
        { path: "a.txt", is_dir: false, file_size: 10 },
        { path: "sub", is_dir: true },
      ],
    });
    expect(await listProxy(`${runRoot}/tree/sub`)).toEqual({
      files: [
        { path: "b.txt", is_dir: false, file_size: 14 },
        { path: "deeper", is_dir: true },
      ],
    });
    expect(await listProxy(`${runRoot}/missing`)).toEqual({ files: [] });
    // MLflow's artifacts/list: paths relative to the run root, root_uri; is_dir written even when false.
    for (const prefix of ["/api/2.0", "/ajax-api/2.0"]) {
      const res = await rawRequest(lb.httpUrl, "GET", `${prefix}/mlflow/artifacts/list?run_id=${runId}&path=tree`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({
        root_uri: `mlflow-artifacts:/${runRoot}`,
        files: [
          { path: "tree/a.txt", is_dir: false, file_size: 10 },
          { path: "tree/sub", is_dir: true },
        ],
      });
    }
    const viaUuid = await rawRequest(lb.httpUrl, "GET", `/api/2.0/mlflow/artifacts/list?run_uuid=${runId}`);
    expect(JSON.parse(viaUuid.body.toString()).files).toContainEqual({ path: "tree", is_dir: true });
  });

  it("DELETE removes a file or a tree; the /ajax-api twins answer too", async () => {
    expect((await put(`${runRoot}/gone/x.txt`, Buffer.from("x"), "/ajax-api/2.0/mlflow-artifacts/artifacts")).status).toBe(200);
    expect((await rawRequest(lb.httpUrl, "GET", `/ajax-api/2.0/mlflow-artifacts/artifacts/${runRoot}/gone/x.txt`)).body.toString()).toBe("x");
    expect((await rawRequest(lb.httpUrl, "DELETE", `${PROXY}/${runRoot}/gone`)).status).toBe(200);
    expect(await listProxy(`${runRoot}/gone`)).toEqual({ files: [] });
    const missing = await rawRequest(lb.httpUrl, "GET", `${PROXY}/${runRoot}/gone/x.txt`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("server-info says multipart is off; /mlflow/status names the artifact store", async () => {
    for (const p of ["/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"]) {
      const res = await rawRequest(lb.httpUrl, "GET", p);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toMatchObject({ multipart_uploads_enabled: false, multipart_downloads_enabled: false });
    }
    const status = (await (await fetch(`${lb.httpUrl}/mlflow/status`)).json()) as { artifacts: { kind: string; location: string } };
    if (kind === "sqlite") expect(status.artifacts).toEqual({ kind: "file", location: `file://${join(lb.dataDir, "artifacts")}` });
    else expect(status.artifacts).toEqual({ kind: "gridfs", location: "gridfs:artifacts" });
  });

  it("refuses traversal in every encoding with 400 Invalid path, and writes nothing", async () => {
    const evil = [
      "../escape1", "a/../../escape2", "%2e%2e/escape3", "%2E%2E/escape4", ".%2e/escape5", "%2e./escape6", "%252e%252e/escape7",
      "%25252e%25252e/escape8", "%2e%2e%2fescape9", "a%2f..%2f..%2fescape10", "%2fetc%2fescape11", "%5c..%5cescape12",
      "..%5cescape13", "a%00b", "a%2500b", "C:%5cescape14", `${runRoot}/../../../../escape15`, "%2Fescape16",
    ];
    const before = await listProxy("");
    const expectInvalid = (res: { status: number; body: Buffer }, what: string) => {
      expect(res.status, what).toBe(400);
      expect(JSON.parse(res.body.toString()), what).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    };
    for (const p of evil) {
      expectInvalid(await rawRequest(lb.httpUrl, "PUT", `${PROXY}/${p}`, Buffer.from("pwned")), `PUT ${p}`);
      expectInvalid(await rawRequest(lb.httpUrl, "GET", `${PROXY}/${p}`), `GET ${p}`);
      expectInvalid(await rawRequest(lb.httpUrl, "DELETE", `${PROXY}/${p}`), `DELETE ${p}`);
      expectInvalid(await rawRequest(lb.httpUrl, "GET", `${PROXY}?path=${p}`), `list ${p}`);
      expectInvalid(await rawRequest(lb.httpUrl, "GET", `/get-artifact?run_id=${runId}&path=${p}`), `get-artifact ${p}`);
      expectInvalid(await rawRequest(lb.httpUrl, "GET", `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${p}`), `artifacts/list ${p}`);
    }
    expect(await listProxy("")).toEqual(before);
    if (kind === "sqlite") {
      // Nothing landed beside or above the artifact root.
      expect(readdirSync(lb.dataDir).sort()).toEqual(["artifacts", "logbook.db", "logbook.db-shm", "logbook.db-wal"].filter((f) => existsSync(join(lb.dataDir, f))));
      expect(readdirSync(lb.dataDir).some((f) => f.startsWith("escape"))).toBe(false);
      expect(readdirSync(join(lb.dataDir, "artifacts")).sort()).toEqual([".logbook-uploads", ...before.files.map((f) => f.path)].sort());
    }
  });

  it("refuses a file under a file, and a file in place of a directory, with 400 and nothing written", async () => {
    expect((await put(`${runRoot}/shapes/a.txt`, Buffer.from("a"))).status).toBe(200);
    expect((await put(`${runRoot}/shapes/dir/b.txt`, Buffer.from("b"))).status).toBe(200);
    for (const path of ["shapes/a.txt/child", "shapes/a.txt/child/deeper.txt", "shapes/dir"]) {
      const res = await put(`${runRoot}/${path}`, Buffer.from("x"));
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body.toString())).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.stringMatching(/Invalid path/) });
    }
    expect((await listProxy(`${runRoot}/shapes`)).files).toEqual([
      { path: "a.txt", is_dir: false, file_size: 1 },
      { path: "dir", is_dir: true },
    ]);
    expect((await fetch(`${lb.httpUrl}${PROXY}/${runRoot}/shapes/a.txt/child`)).status).toBe(404);
  });

  it("an abandoned PUT leaves nothing listed", async () => {
    const path = `${runRoot}/abandoned/big.bin`;
    const url = new URL(lb.httpUrl);
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, method: "PUT", path: `${PROXY}/${path}`, headers: { "content-length": 16 * MiB } });
      req.on("error", () => resolve());
      req.on("close", () => resolve());
      const chunk = content(MiB);
      let sent = 0;
      const pump = () => {
        while (sent < 4) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        setTimeout(() => req.destroy(), 50); // a quarter of the announced body, then the client is gone
      };
      pump();
    });
    await vi.waitFor(async () => expect(await lb.logbook.artifacts.pendingUploads()).toBe(0), { timeout: 30_000, interval: 100 });
    expect(await listProxy(`${runRoot}/abandoned`)).toEqual({ files: [] });
    expect((await listProxy(runRoot)).files.map((f) => f.path)).not.toContain("abandoned");
  });
});
