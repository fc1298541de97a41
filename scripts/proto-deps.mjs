// Copies the googleapis protos Logbook imports from the google-proto-files npm package into the
// git-ignored third_party/googleapis, so nothing third-party is committed and buf needs no network.
import { cpSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const src = dirname(require.resolve("google-proto-files/package.json"));
const files = [
  "google/api/annotations.proto",
  "google/api/http.proto",
  "google/rpc/status.proto",
  "google/rpc/error_details.proto",
];
for (const f of files) {
  const dst = join("third_party/googleapis", f);
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(join(src, f), dst);
}
