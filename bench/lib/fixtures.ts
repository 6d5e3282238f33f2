/**
 * Bench tenants and callers: tenants be000000-0000-4000-8000-<n> (n = 1..N), each with a copy
 * of the demo tenant's rates data (lane history, index rows, guards), the demo ops manager
 * assigned in it, and tokens for that user per tenant.
 */
import { SignJWT } from "jose";
import type postgres from "postgres";

export const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
export const OPS_USER = "e0000000-0000-4000-8000-000000000003";
export const AGENTS = "a0000000-0000-4000-8000-000000000002";
export const benchTenant = (n: number) => `be000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

export const pickupDate = () => new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);

export const priceOneBody = () => JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickupDate() });

/** A new contract each call, valid in 2020 for flatbeds: it never enters a quote's evidence. */
export const contractBody = () =>
  JSON.stringify({
    origin: "606", destination: "752", equipment: "flatbed", rate: { kind: "flat", amount: 1000 },
    valid_from: "2020-01-01", valid_to: "2020-01-31", customer_ref: "BENCH",
  });

/** Creates bench tenants 1..n (idempotent); returns their ids. */
export async function ensureTenants(sql: postgres.Sql, n: number): Promise<string[]> {
  await sql`
    insert into public.tenants (id, slug, name)
    select ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'bench-' || i, 'Bench tenant ' || i
    from generate_series(1, ${n}) i
    on conflict (id) do nothing`;
  await sql`
    insert into public.role_assignments (principal_id, role, tenant_id)
    select ${OPS_USER}, 'ops_manager', ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid
    from generate_series(1, ${n}) i
    on conflict on constraint role_assignments_unique do nothing`;
  await sql`
    with t as (select ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid as id from generate_series(1, ${n}) i
               where not exists (select 1 from public.rates_lane_history h
                                 where h.tenant_id = ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid))
    insert into public.rates_lane_history
      (id, tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, shipped_on)
    select gen_random_uuid(), t.id, h.origin_zip3, h.destination_zip3, h.origin_region, h.destination_region, h.equipment,
           h.rate_per_mile, h.shipped_on
    from t, public.rates_lane_history h where h.tenant_id = ${DEMO_TENANT}`;
  await sql`
    insert into public.rates_index
      (tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, sample_size, effective_date, source)
    select ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, x.origin_zip3, x.destination_zip3, x.origin_region,
           x.destination_region, x.equipment, x.rate_per_mile, x.sample_size, x.effective_date, x.source
    from generate_series(1, ${n}) i, public.rates_index x where x.tenant_id = ${DEMO_TENANT}
    on conflict on constraint rates_index_row_unique do nothing`;
  await sql`
    with t as (select ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid as id from generate_series(1, ${n}) i
               where not exists (select 1 from public.rates_guards g
                                 where g.tenant_id = ('be000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid))
    insert into public.rates_guards (id, tenant_id, label, equipment, origin, destination, min_margin_pct,
                                     max_index_deviation_pct, floor_total, ceiling_total, floor_per_mile, ceiling_per_mile)
    select gen_random_uuid(), t.id, g.label, g.equipment, g.origin, g.destination, g.min_margin_pct, g.max_index_deviation_pct,
           g.floor_total, g.ceiling_total, g.floor_per_mile, g.ceiling_per_mile
    from t, public.rates_guards g where g.tenant_id = ${DEMO_TENANT}`;
  await sql`analyze public.tenants, public.role_assignments, public.rates_lane_history, public.rates_index, public.rates_guards`;
  return Array.from({ length: n }, (_, i) => benchTenant(i + 1));
}

/** The flags the bench needs: the per-caller action rate limit out of the way. */
export async function benchFlags(sql: postgres.Sql): Promise<void> {
  await sql`
    insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
    values ('rate.actions.perMinute', 'global', '1000000', 'bench: measure the pipeline, not the limiter', 'bench')
    on conflict (key, scope) do update set value = excluded.value`;
}

/** The ops manager's access token in a tenant (HS256 with the stack's JWT secret). */
export function opsToken(secret: string, tenant: string): Promise<string> {
  return new SignJWT({ role: "authenticated", tenant_id: tenant, principal_kind: "human" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(OPS_USER)
    .setIssuedAt()
    .setExpirationTime("3h")
    .sign(new TextEncoder().encode(secret));
}
