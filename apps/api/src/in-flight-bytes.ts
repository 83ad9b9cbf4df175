import { TooManyRequestsError } from '@ctxvault/core';

/** How long a client refused for its tenant's bytes in flight is asked to wait. */
const RETRY_AFTER_SECONDS = 5;

/** What one request body has counted against its tenant; `release` gives it back (safe to call twice). */
export interface BodyMeter {
  add(bytes: number): void;
  release(): void;
}

/**
 * quotas.max_staged_bytes: the bytes of request bodies each tenant has in flight in this process
 * (received, not yet finished). A body that would take its tenant past the limit is refused with 429
 * and Retry-After, so one tenant's uploads cannot take all of the staging capacity.
 */
export class InFlightBytes {
  private readonly perTenant = new Map<string, number>();

  constructor(private readonly maxBytes: number) {}

  open(tenantId: string): BodyMeter {
    let counted = 0;
    return {
      add: (bytes) => {
        const total = (this.perTenant.get(tenantId) ?? 0) + bytes;
        if (this.maxBytes > 0 && total > this.maxBytes)
          throw new TooManyRequestsError(
            `tenant ${tenantId} is sending more than ${this.maxBytes} bytes at once (quotas.max_staged_bytes); retry when its other uploads are done`,
            RETRY_AFTER_SECONDS,
            'staging_quota',
          );
        counted += bytes;
        this.perTenant.set(tenantId, total);
      },
      release: () => {
        if (counted === 0) return;
        const left = (this.perTenant.get(tenantId) ?? 0) - counted;
        counted = 0;
        if (left > 0) this.perTenant.set(tenantId, left);
        else this.perTenant.delete(tenantId);
      },
    };
  }
}
