import { readFileSync } from "node:fs";
import type { DescEnum, DescMessage, FileRegistry } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Experiment } from "../../gen/ts/logbook/v1/experiment.js";
import { type Metric, Run, RunInfo, RunStatus } from "../../gen/ts/logbook/v1/run.js";
import { CreateRunRequest, LogBatchRequest, LogMetricRequest } from "../../gen/ts/logbook/v1/tracking_service.js";
import { Color, EchoRequest } from "../../test/gen/ts/logbook/test/v1/library_service.js";
import { AppError } from "../domain/errors.js";
import { enumPrefix } from "./enum-names.js";
import { JsonCodec, tsProtoKey, type ProtoObject } from "./json-codec.js";
import { parseJson, stringifyJson, type JsonValue } from "./json-text.js";
import { registryFromDescriptorSet } from "./routes.js";

const logbook = registryFromDescriptorSet(readFileSync(new URL("../../gen/descriptor.binpb", import.meta.url)));
const testing = registryFromDescriptorSet(readFileSync(new URL("../../test/gen/descriptor.binpb", import.meta.url)));
const msg = (r: FileRegistry, name: string) => r.getMessage(name) as DescMessage;
const en = (r: FileRegistry, name: string) => r.getEnum(name) as DescEnum;

const codec = new JsonCodec();
/** ts-proto object → MLflow JSON text. */
const out = (type: string, obj: unknown, r = logbook) => stringifyJson(codec.encodeMessage(msg(r, type), obj as ProtoObject));
/** JSON text → ts-proto object. */
const inp = (type: string, text: string, r = logbook) => codec.decodeMessage(msg(r, type), parseJson(text));
/** The AppError a decode throws. */
function decodeError(type: string, text: string, r = logbook): AppError {
  try {
    inp(type, text, r);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

describe("Experiment family", () => {
  const experiment: Experiment = {
    experimentId: "12",
    name: "team/forecast",
    artifactLocation: "mlflow-artifacts:/12",
    lifecycleStage: "active",
    creationTime: 1700000000000n,
    lastUpdateTime: undefined,
    tags: [
      { key: "owner", value: "ana" },
      { key: "empty", value: "" },
      { key: "unset", value: undefined },
    ],
  };
  const golden =
    '{"experiment_id":"12","name":"team/forecast","artifact_location":"mlflow-artifacts:/12","lifecycle_stage":"active",' +
    '"creation_time":1700000000000,"tags":[{"key":"owner","value":"ana"},{"key":"empty","value":""},{"key":"unset"}]}';

  it("writes snake_case, int64 as numbers, optional fields when set (even empty), unset ones omitted", () => {
    expect(out("logbook.v1.Experiment", experiment)).toBe(golden);
  });

  it("omits implicit fields at their zero value and empty lists, keeps a set optional 0", () => {
    expect(out("logbook.v1.Experiment", Experiment.fromPartial({ creationTime: 0n }))).toBe('{"creation_time":0}');
    expect(out("logbook.v1.Experiment", Experiment.fromPartial({}))).toBe("{}");
    expect(out("logbook.v1.Experiment", {})).toBe("{}"); // missing keys are unset too
  });

  it("reads its own output back to the same object", () => {
    expect(inp("logbook.v1.Experiment", golden)).toEqual(experiment);
  });

  it("gives complete ts-proto objects (defaults as ts-proto's fromPartial)", () => {
    expect(inp("logbook.v1.Experiment", "{}")).toEqual(Experiment.fromPartial({}));
    expect(inp("logbook.v1.Experiment", "null")).toEqual(Experiment.fromPartial({}));
  });

  it("accepts lowerCamelCase keys and ignores unknown ones", () => {
    expect(inp("logbook.v1.Experiment", '{"experimentId":"3","artifactLocation":"s3://b","creationTime":"5","whatever":{"x":1}}')).toEqual(
      Experiment.fromPartial({ experimentId: "3", artifactLocation: "s3://b", creationTime: 5n }),
    );
  });

  it("treats null as unset", () => {
    expect(inp("logbook.v1.Experiment", '{"name":null,"creation_time":null,"tags":null}')).toEqual(Experiment.fromPartial({}));
  });

  it("accepts experiment_id as a JSON integer, as MLflow's parse_dict does", () => {
    expect(inp("logbook.v1.Experiment", '{"experiment_id":0}').experimentId).toBe("0");
    expect(inp("logbook.v1.GetExperimentRequest", '{"experiment_id":7}')).toEqual({
      experimentId: "7",
    });
  });
});

describe("Run family and RunStatus", () => {
  const run: Run = {
    info: {
      runId: "a".repeat(32),
      runUuid: "a".repeat(32),
      runName: "r1",
      experimentId: "0",
      userId: "ana",
      status: RunStatus.RUN_STATUS_RUNNING,
      startTime: 1700000000000n,
      endTime: undefined,
      artifactUri: "mlflow-artifacts:/0/aaa/artifacts",
      lifecycleStage: "active",
    },
    data: {
      metrics: [{ key: "loss", value: 0.25, timestamp: 1700000000001n, step: 0n, runId: "" }],
      params: [{ key: "lr", value: "0.1" }],
      tags: [{ key: "mlflow.user", value: "ana" }],
    },
    inputs: { datasetInputs: [], modelInputs: [] },
    outputs: undefined,
  };
  const golden =
    `{"info":{"run_id":"${"a".repeat(32)}","run_uuid":"${"a".repeat(32)}","run_name":"r1","experiment_id":"0","user_id":"ana",` +
    `"status":"RUNNING","start_time":1700000000000,"artifact_uri":"mlflow-artifacts:/0/aaa/artifacts","lifecycle_stage":"active"},` +
    `"data":{"metrics":[{"key":"loss","value":0.25,"timestamp":1700000000001,"step":0}],"params":[{"key":"lr","value":"0.1"}],` +
    `"tags":[{"key":"mlflow.user","value":"ana"}]},"inputs":{}}`;

  it("writes the MLflow shape: enum names without prefix, a present empty message as {}", () => {
    expect(out("logbook.v1.Run", run)).toBe(golden);
  });

  it("reads it back", () => {
    expect(inp("logbook.v1.Run", golden)).toEqual(Run.fromPartial(run));
  });

  const statuses: Array<[RunStatus, string]> = [
    [RunStatus.RUN_STATUS_RUNNING, "RUNNING"],
    [RunStatus.RUN_STATUS_SCHEDULED, "SCHEDULED"],
    [RunStatus.RUN_STATUS_FINISHED, "FINISHED"],
    [RunStatus.RUN_STATUS_FAILED, "FAILED"],
    [RunStatus.RUN_STATUS_KILLED, "KILLED"],
  ];
  it.each(statuses)("RunStatus %i is %s on the wire, read by stripped name, full name and number", (value, name) => {
    expect(out("logbook.v1.RunInfo", RunInfo.fromPartial({ status: value }))).toBe(`{"status":"${name}"}`);
    for (const text of [`"${name}"`, `"RUN_STATUS_${name}"`, `${value}`, `"${value}"`]) {
      expect(inp("logbook.v1.RunInfo", `{"status":${text}}`).status).toBe(value);
    }
  });

  it("omits RUN_STATUS_UNSPECIFIED (the implicit zero) and writes an unknown number as a number", () => {
    expect(out("logbook.v1.RunInfo", RunInfo.fromPartial({ status: RunStatus.RUN_STATUS_UNSPECIFIED }))).toBe("{}");
    expect(out("logbook.v1.RunInfo", RunInfo.fromPartial({ status: 42 as RunStatus }))).toBe('{"status":42}');
    expect(inp("logbook.v1.RunInfo", '{"status":"UNSPECIFIED"}').status).toBe(0);
  });

  it("rejects an unknown enum name, listing the accepted ones", () => {
    expect(decodeError("logbook.v1.UpdateRunRequest", '{"status":"DONE"}').message).toBe(
      "Invalid value \"DONE\" for parameter 'status' supplied: expected one of UNSPECIFIED, RUNNING, SCHEDULED, FINISHED, FAILED, KILLED. " +
        "See the API docs for more information about request parameters.",
    );
    expect(decodeError("logbook.v1.UpdateRunRequest", '{"status":true}').message).toContain("Hint: Value was of type 'bool'");
  });

  it("ViewType: names without the VIEW_TYPE_ prefix, both ways", () => {
    const names = codec.enumNames(en(logbook, "logbook.v1.ViewType"));
    expect([0, 1, 2, 3].map((n) => names.write(n))).toEqual(["UNSPECIFIED", "ACTIVE_ONLY", "DELETED_ONLY", "ALL"]);
    expect(["ACTIVE_ONLY", "VIEW_TYPE_ACTIVE_ONLY", "ALL", "VIEW_TYPE_ALL"].map((n) => names.read(n))).toEqual([1, 1, 3, 3]);
    expect(names.read("active_only")).toBeUndefined();
  });
});

describe("Metric family: doubles and int64", () => {
  it("writes NaN and the infinities as strings, and 0 values because value/step are optional", () => {
    const metrics: Metric[] = [
      { key: "nan", value: NaN, timestamp: 1n, step: 0n, runId: "" },
      { key: "inf", value: Infinity, timestamp: 2n, step: 1n, runId: "" },
      { key: "-inf", value: -Infinity, timestamp: 3n, step: 2n, runId: "" },
      { key: "zero", value: 0, timestamp: 0n, step: 0n, runId: "" },
      { key: "big", value: 1.5e300, timestamp: 9223372036854775807n, step: -9007199254740993n, runId: "r" },
    ];
    expect(out("logbook.v1.LogBatchRequest", LogBatchRequest.fromPartial({ runId: "r", metrics }))).toBe(
      '{"run_id":"r","metrics":[' +
        '{"key":"nan","value":"NaN","timestamp":1,"step":0},' +
        '{"key":"inf","value":"Infinity","timestamp":2,"step":1},' +
        '{"key":"-inf","value":"-Infinity","timestamp":3,"step":2},' +
        '{"key":"zero","value":0,"timestamp":0,"step":0},' +
        '{"key":"big","value":1.5e+300,"timestamp":9223372036854775807,"step":-9007199254740993,"run_id":"r"}]}',
    );
  });

  it("reads doubles as numbers, the three strings, any-case nan/inf text and the bare literals", () => {
    const values = (text: string) => (inp("logbook.v1.LogBatchRequest", text).metrics as Metric[]).map((m) => m.value);
    expect(values('{"metrics":[{"value":"NaN"},{"value":"Infinity"},{"value":"-Infinity"},{"value":1},{"value":"2.5"},{"value":"-inf"}]}')).toEqual([
      NaN,
      Infinity,
      -Infinity,
      1,
      2.5,
      -Infinity,
    ]);
    expect(values('{"metrics":[{"value":NaN},{"value":Infinity},{"value":-Infinity},{"value":-0.0}]}')).toEqual([NaN, Infinity, -Infinity, -0]);
  });

  it("reads a LogMetric body as Python's json.dumps writes it", () => {
    const body = '{"run_id": "r1", "key": "m", "value": NaN, "timestamp": 1700000000000, "step": 0}';
    expect(inp("logbook.v1.LogMetricRequest", body)).toEqual(
      LogMetricRequest.fromPartial({ runId: "r1", key: "m", value: NaN, timestamp: 1700000000000n, step: 0n }),
    );
  });

  it("reads int64 as number, string or beyond 2^53, exactly", () => {
    const steps = (text: string) => (inp("logbook.v1.LogBatchRequest", text).metrics as Metric[]).map((m) => m.step);
    expect(steps('{"metrics":[{"step":5},{"step":"6"},{"step":9007199254740993},{"step":"-9223372036854775808"},{"step":1e3},{"step":"2.0"}]}')).toEqual([
      5n,
      6n,
      9007199254740993n,
      -9223372036854775808n,
      1000n,
      2n,
    ]);
  });

  it("rejects out-of-range and fractional integers", () => {
    expect(decodeError("logbook.v1.CreateRunRequest", '{"start_time":9223372036854775808}').message).toContain(
      "Invalid value 9223372036854775808 for parameter 'start_time' supplied: out of range",
    );
    expect(decodeError("logbook.v1.CreateRunRequest", '{"start_time":1.5}').message).toContain("Hint: Value was of type 'float'");
    expect(decodeError("logbook.v1.CreateRunRequest", '{"start_time":"soon"}').message).toContain(
      "Invalid value \"soon\" for parameter 'start_time' supplied: not an integer",
    );
    expect(decodeError("logbook.v1.GetMetricHistoryRequest", '{"max_results":2147483648}').message).toContain("out of range");
    expect(decodeError("logbook.v1.LogMetricRequest", '{"timestamp":NaN}').message).toContain("Hint: Value was of type 'float'");
  });
});

describe("wrong JSON types: MLflow's messages", () => {
  const cases: Array<[string, string, string]> = [
    ["logbook.v1.CreateExperimentRequest", '{"name": 5}', "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'."],
    ["logbook.v1.CreateExperimentRequest", '{"name": true}', "Invalid value true for parameter 'name' supplied:  Hint: Value was of type 'bool'."],
    ["logbook.v1.CreateExperimentRequest", '{"name": ["a"]}', "Invalid value [\"a\"] for parameter 'name' supplied:  Hint: Value was of type 'list'."],
    ["logbook.v1.CreateExperimentRequest", '{"name": {"a": 1}}', "Invalid value {\"a\":1} for parameter 'name' supplied:  Hint: Value was of type 'dict'."],
    ["logbook.v1.CreateExperimentRequest", '{"tags": {}}', "Invalid value {} for parameter 'tags' supplied:  Hint: Value was of type 'dict'."],
    ["logbook.v1.CreateExperimentRequest", '{"tags": [{"key": 1}]}', "for parameter 'tags[0].key' supplied:  Hint: Value was of type 'int'"],
    ["logbook.v1.CreateExperimentRequest", '{"tags": [null]}', "for parameter 'tags[0]' supplied:  Hint: Value was of type 'NoneType'"],
    ["logbook.v1.CreateExperimentRequest", '{"tags": ["x"]}', "for parameter 'tags[0]' supplied:  Hint: Value was of type 'str'."],
    ["logbook.v1.LogMetricRequest", '{"value": "high"}', "Invalid value \"high\" for parameter 'value' supplied: not a number"],
    ["logbook.v1.LogMetricRequest", '{"value": [1]}', "Hint: Value was of type 'list'"],
    ["logbook.v1.CreateRunRequest", '{"start_time": 1.25}', "Invalid value 1.25 for parameter 'start_time' supplied:  Hint: Value was of type 'float'."],
    ["logbook.v1.CreateExperimentRequest", "[]", "The request body must be a JSON object, got a list"],
    ["logbook.v1.CreateExperimentRequest", '"x"', "The request body must be a JSON object, got a string"],
  ];
  it.each(cases)("%s %s", (type, text, message) => {
    const err = decodeError(type, text);
    expect(err.code).toBe("INVALID_PARAMETER_VALUE");
    expect(err.message).toContain(message);
  });

  it("ends with MLflow's pointer to the API docs", () => {
    expect(decodeError("logbook.v1.CreateExperimentRequest", '{"name": 5}').message).toBe(
      "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. " +
        "See the API docs for more information about request parameters.",
    );
  });
});

describe("bools", () => {
  const flag = (text: string) => inp("logbook.test.v1.EchoRequest", `{"flag": ${text}}`, testing).flag;
  it.each([
    ["true", true],
    ["false", false],
    ['"true"', true],
    ['"True"', true],
    ['"FALSE"', false],
  ])("%s → %s", (text, want) => expect(flag(text)).toBe(want));
  it.each(['"yes"', "1", '"1"'])("rejects %s", (text) => expect(() => flag(text)).toThrow(/parameter 'flag'/));
});

describe("the test service's EchoRequest: every field kind", () => {
  const echo = "logbook.test.v1.EchoRequest";
  const json =
    '{"text":"hi","i32":-5,"i64":"-9007199254740993","u64":18446744073709551615,"u32":4294967295,"s64":-3,"f64":"7",' +
    '"dbl":"NaN","flt":1.5,"flag":"True","color":"RED","data":"aGVsbG8=","tags":["a","b"],"numbers":[1,"2"],' +
    '"colors":["GREEN",1,"COLOR_RED"],"flags":[true,"false"],"maybe_count":0,"maybeFlag":false,"maybe_color":"UNSPECIFIED",' +
    '"note":{"body":"n","count":2,"child":{"lines":["x"]},"color":"GREEN"},"notes":[{},{"body":"second"}],"choice_number":"12",' +
    '"labels":{"k":"v","e":""},"notes_by_id":{"7":{"body":"seven"},"-1":{}}}';

  it("decodes to what ts-proto's own fromJSON gives for the equivalent proto3 JSON", () => {
    const decoded = inp(echo, json, testing);
    const expected = EchoRequest.fromJSON({
      text: "hi",
      i32: -5,
      i64: "-9007199254740993",
      u64: "18446744073709551615",
      u32: 4294967295,
      s64: -3,
      f64: "7",
      dbl: "NaN",
      flt: 1.5,
      flag: true,
      color: "COLOR_RED",
      data: "aGVsbG8=",
      tags: ["a", "b"],
      numbers: ["1", "2"],
      colors: ["COLOR_GREEN", "COLOR_RED", "COLOR_RED"],
      flags: [true, false],
      maybeCount: 0,
      maybeFlag: false,
      maybeColor: "COLOR_UNSPECIFIED",
      note: { body: "n", count: "2", child: { lines: ["x"] }, color: "COLOR_GREEN" },
      notes: [{}, { body: "second" }],
      choiceNumber: "12",
      labels: { k: "v", e: "" },
      notesById: { "7": { body: "seven" }, "-1": {} },
    });
    expect(decoded).toEqual(expected);
    expect(() => EchoRequest.encode(decoded as unknown as EchoRequest).finish()).not.toThrow();
  });

  it("encodes it back, optional zeros and present empty messages included", () => {
    const obj = inp(echo, json, testing);
    expect(JSON.parse(out(echo, obj, testing))).toEqual({
      text: "hi",
      i32: -5,
      i64: -9007199254740993,
      u64: 18446744073709551615,
      u32: 4294967295,
      s64: -3,
      f64: 7,
      dbl: "NaN",
      flt: 1.5,
      flag: true,
      color: "RED",
      data: "aGVsbG8=",
      tags: ["a", "b"],
      numbers: [1, 2],
      colors: ["GREEN", "RED", "RED"],
      flags: [true, false],
      maybe_count: 0,
      maybe_flag: false,
      maybe_color: "UNSPECIFIED",
      note: { body: "n", count: 2, child: { lines: ["x"] }, color: "GREEN" },
      notes: [{}, { body: "second" }],
      choice_number: 12,
      labels: { k: "v", e: "" },
      notes_by_id: { "7": { body: "seven" }, "-1": {} },
    });
    expect(out(echo, obj, testing)).toContain('"i64":-9007199254740993,"u64":18446744073709551615,');
  });

  it("defaults match ts-proto's (maps with 64-bit keys are Maps)", () => {
    const d = inp(echo, "{}", testing);
    expect(d).toEqual(EchoRequest.fromPartial({}));
    expect(d.notesById).toBeInstanceOf(Map);
    expect(d.data).toEqual(Buffer.alloc(0));
  });

  it("rejects two members of one oneof", () => {
    expect(() => inp(echo, '{"choice_text":"a","choiceNumber":1}', testing)).toThrow(
      "Parameters 'choice_text' and 'choice_number' are alternatives (oneof 'choice'): supply only one",
    );
  });

  it("rejects bad map keys, bad base64, float overflow, uint64 below zero", () => {
    expect(() => inp(echo, '{"notes_by_id":{"x":{}}}', testing)).toThrow("parameter 'notes_by_id[x]'");
    expect(() => inp(echo, '{"data":"***"}', testing)).toThrow("not valid base64");
    expect(() => inp(echo, '{"flt":1e39}', testing)).toThrow("out of range for a 32-bit float");
    expect(() => inp(echo, '{"u64":-1}', testing)).toThrow("out of range [0, 18446744073709551615]");
  });

  it("accepts enum values as names, full names and numbers in nested, repeated and map positions", () => {
    const d = inp(echo, '{"colors":[2,"2","COLOR_GREEN","GREEN"],"note":{"color":1}}', testing);
    expect(d.colors).toEqual([Color.COLOR_GREEN, Color.COLOR_GREEN, Color.COLOR_GREEN, Color.COLOR_GREEN]);
    expect((d.note as { color: Color }).color).toBe(Color.COLOR_RED);
  });
});

describe("naming", () => {
  it.each([
    ["RunStatus", "RUN_STATUS_"],
    ["ViewType", "VIEW_TYPE_"],
    ["HTTPMethod", "HTTP_METHOD_"],
    ["ModelVersionStatus", "MODEL_VERSION_STATUS_"],
    ["Color", "COLOR_"],
    ["V2Thing", "V2_THING_"],
  ])("enum %s has prefix %s", (name, prefix) => expect(enumPrefix(name)).toBe(prefix));

  it.each([
    ["run_id", "runId"],
    ["experiment_ids", "experimentIds"],
    ["name", "name"],
    ["notes_by_id", "notesById"],
    ["FOO_BAR", "fooBar"],
    ["a_1b", "a1b"],
  ])("ts-proto key of %s is %s", (name, key) => expect(tsProtoKey(name)).toBe(key));
});

describe("response_body and single fields", () => {
  it("encodes one field whatever its presence", () => {
    const resp = msg(testing, "logbook.test.v1.GetBookTitleResponse");
    const title = resp.fields.find((f) => f.name === "title")!;
    expect(codec.encodeField(title, "Dune")).toBe("Dune");
    expect(codec.encodeField(title, undefined)).toBe("");
    const pages = resp.fields.find((f) => f.name === "pages")!;
    expect(codec.encodeField(pages, 0n)).toBe(0);
  });

  it("decodes a field from JSON and from text", () => {
    const req = msg(logbook, "logbook.v1.CreateRunRequest");
    const start = req.fields.find((f) => f.name === "start_time")!;
    expect(codec.decodeField(start, "12" as JsonValue, "start_time")).toBe(12n);
    expect(codec.decodeText(start, "12", "start_time")).toBe(12n);
    expect(CreateRunRequest.fromPartial({}).tags).toEqual([]);
  });
});
