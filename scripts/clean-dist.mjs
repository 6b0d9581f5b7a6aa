// Removes the package's dist/ before a build, so a renamed or deleted source file leaves no
// stale output behind to be packed. Runs in the package directory (its build/prepack script).
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
