/**
 * A plain keep-alive HTTP/JSON client for the MLflow REST API: the same few lines drive both servers, so the
 * comparison measures the servers, not client libraries.
 */
import { Agent, request } from "node:http";

export class RestClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets = 16) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post<T = any>(path: string, body: unknown): Promise<T> {
    return this.call("POST", path, JSON.stringify(body));
  }

  get<T = any>(path: string, query: Record<string, string>): Promise<T> {
    return this.call("GET", `${path}?${new URLSearchParams(query).toString()}`);
  }

  close(): void {
    this.agent.destroy();
  }

  private call<T>(method: string, path: string, body?: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) reject(new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve((text ? JSON.parse(text) : {}) as T);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}
