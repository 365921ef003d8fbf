import { RetraceError, ValidationError } from '../errors.js';

/** A diff policy (file or options) that does not match the policy schema; `field` names the offending entry. */
export class DiffPolicyError extends ValidationError {
  override readonly code = 'INVALID_DIFF_POLICY';
}

/**
 * Two traces of different tenants. Tenants are isolation boundaries (README, "The store"): a report that mixes two tenants'
 * payloads would leak one tenant's data into a document shared with the other, so the diff refuses.
 */
export class CrossTenantDiffError extends RetraceError {
  readonly code = 'CROSS_TENANT_DIFF';
  constructor(
    readonly tenantA: string,
    readonly tenantB: string,
  ) {
    super(
      `Cannot diff a trace of tenant "${tenantA}" with a trace of tenant "${tenantB}".`,
      'Compare traces within one tenant: record or import both runs under the same tenant (--tenant / RETRACE_TENANT).',
      'input',
    );
  }
}

/** A diff option with a value it cannot use (e.g. a negative context size). */
export class DiffOptionError extends ValidationError {
  override readonly code = 'INVALID_DIFF_OPTION';
}
