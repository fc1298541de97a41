import { describe, expect, it } from "vitest";
import { describeUri, openConnection } from "./connection.js";

describe("MongoDB connection", () => {
  it("writes with write concern majority, journaled, whatever the URI or the cluster default says", async () => {
    const { client } = openConnection({ uri: "mongodb://127.0.0.1:9/logbook?w=1" });
    try {
      expect(client.options.writeConcern).toMatchObject({ w: "majority", journal: true });
    } finally {
      await client.close();
    }
  });

  it("describes a URI without its credentials", () => {
    expect(describeUri("mongodb://user:pw@db1,db2/prod?replicaSet=rs0")).toEqual({ database: "prod", location: "mongodb://db1,db2/prod" });
  });
});
