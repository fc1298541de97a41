// A cached Python virtualenv per pinned requirements file: created once, reused while the file is
// unchanged (the directory name carries a hash of it).
//   node scripts/python-venv.mjs test/compat/requirements.txt   → prints the venv's directory
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function ensureVenv(requirementsFile) {
  const requirements = readFileSync(requirementsFile);
  const hash = createHash("sha256").update(requirements).digest("hex").slice(0, 12);
  const cache = process.env.LOGBOOK_CACHE_DIR ?? join(homedir(), ".cache", "logbook");
  // venv-<dir>[-<file>]-<hash>: clients/python/requirements-gen.txt → venv-python-requirements-gen-<hash>
  const file = basename(requirementsFile, ".txt");
  const name = basename(dirname(requirementsFile)) + (file === "requirements" ? "" : `-${file}`);
  const dir = join(cache, `venv-${name}-${hash}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  // Built in place (a venv's scripts carry its absolute path); `.complete` marks a finished one.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  execFileSync(process.env.PYTHON ?? "python3", ["-m", "venv", dir], { stdio: "inherit" });
  execFileSync(join(dir, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirementsFile], {
    stdio: "inherit",
  });
  writeFileSync(join(dir, ".complete"), "");
  return dir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node scripts/python-venv.mjs <requirements.txt>");
    process.exit(2);
  }
  console.log(ensureVenv(file));
}
