export { createMain, CREATE_USAGE } from "./scaffold/cli.js";
export {
  isEmptyDirectory,
  PACKAGE_SOURCES,
  packageNameFor,
  type PackageSource,
  scaffold,
  ScaffoldError,
  type ScaffoldOptions,
  type ScaffoldResult,
} from "./scaffold/scaffold.js";
export {
  generateFiles,
  TEMPLATES,
  VALIDATIONS,
  VERSIONS,
  type ProjectOptions,
  type Template,
  type Validation,
} from "./scaffold/templates.js";
export { PROVIDERS, providerInfo, type ProviderId, type ProviderInfo } from "./scaffold/providers.js";
export { envExample } from "./scaffold/env-example.js";
export { doctorMain, mcpOAuthMain, DOCTOR_USAGE } from "./doctor/cli.js";
export { DoctorUsageError, runDoctor, type DoctorOptions } from "./doctor/doctor.js";
export { formatReport, type Check, type CheckSection, type CheckStatus, type DoctorReport } from "./doctor/report.js";
export { parseWwwAuthenticate, type AuthParam, type Challenge } from "./doctor/www-authenticate.js";
export type { CliIo } from "./io.js";
