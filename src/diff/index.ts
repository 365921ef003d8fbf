/** Structural diff of two runs. */
export { diffTraces, type DiffOptions } from './diff-traces.js';
export * from './report-schema.js';
export {
  DiffPolicySchema,
  TypeRuleSchema,
  parsePolicy,
  loadPolicyFile,
  mergePolicies,
  resolvePolicy,
  IDENTITY_FIELDS,
} from './policy.js';
export type { DiffPolicy, TypeRule, ResolvedPolicy, TimingRule } from './policy.js';
export { DiffPolicyError, CrossTenantDiffError, DiffOptionError } from './errors.js';
export type { TraceSource, StoredTraceRef } from './sources.js';
export { diffJson, patchWeight, type PatchOp } from './json-diff.js';
export { CLASS_TITLES } from './classify.js';
export { renderJson } from './render/json.js';
export { renderMarkdown, type MarkdownOptions } from './render/markdown.js';
export { renderHtml, type HtmlOptions } from './render/html.js';
export { renderJunit, type JunitOptions } from './render/junit.js';
export { diffReportJsonSchema } from './json-schema.js';
